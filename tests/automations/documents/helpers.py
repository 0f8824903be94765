"""Documents built the way they arrive: PDFs with a text layer (reportlab), scans (a page rendered to
an image with no text layer), e-mails with plain or HTML bodies and attachments."""
import io
from email.message import EmailMessage

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def text_pdf(lines: list[str], *, size: int = 11) -> bytes:
    """One A4 page with each line drawn as it is."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setFont("Helvetica", size)
    y = 780
    for line in lines:
        page.drawString(60, y, line)
        y -= size * 1.6
    page.save()
    return buffer.getvalue()


def mail(subject: str, body: str, *, sender="service@metallbau-weber.example", html=False,
         attachments=()) -> bytes:
    message = EmailMessage()
    message["From"] = f"Metallbau Weber <{sender}>"
    message["To"] = "posteingang@muster.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Jun 2025 09:15:00 +0200"
    if html:
        paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
        message.set_content("<html><head><style>p {color: red}</style></head><body>" + paragraphs + "</body></html>",
                            subtype="html")
    else:
        message.set_content(body)
    for name, data, maintype, subtype in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def scan_of(pdf: bytes, *, fmt: str = "PNG", dpi: int = 200, page: int = 0) -> bytes:
    """A page of a PDF as a scanner would deliver it: a greyscale image without any text layer. With
    fmt="PDF" the image is wrapped in a PDF of its own (an image-only PDF)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    buffer = io.BytesIO()
    options = {"dpi": (dpi, dpi)}
    if fmt == "JPEG":
        options["quality"] = 85
    if fmt == "TIFF":
        options["compression"] = "tiff_lzw"
    if fmt == "PDF":
        options = {"resolution": float(dpi)}
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
