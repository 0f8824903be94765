"""The document beside the fields: PDF pages rendered to PNG (pypdfium2 and Pillow, never cached on disk,
so an erased item leaves no copy behind), the text layer, e-mails and XML as text. pdfium is not
thread-safe: every call into it holds one lock."""
import email
import email.policy
import io
import threading
from dataclasses import dataclass, field

from portal import files

MAX_PAGES = 20  # pages shown as images; the original opens in full
PAGE_WIDTH_PX = 1100
TEXT_LIMIT = 200_000
MAX_IMAGE_PIXELS = 60_000_000  # a page scanned at 600 dpi is 35 million pixels
_PDFIUM = threading.Lock()


@dataclass
class DocumentView:
    file: object
    kind: str  # pdf, image, email, xml, text, other
    pages: int = 0
    text: str = ""
    truncated: bool = False
    error: str = ""
    headers: list = field(default_factory=list)
    # What the task page adds (reviews.views.tasks): value marks by page, the pages' and the file's URLs.
    marks: dict = field(default_factory=dict)
    page_urls: list[str] = field(default_factory=list)
    page_items: list[dict] = field(default_factory=list)
    url: str = ""
    # What the document stage read: how each page was read, and the attachments of an e-mail that have
    # pages (a PDF or a scan), each shown page by page like a file of its own.
    read_pages: list[dict] = field(default_factory=list)
    read_text: str = ""
    attachments: list["AttachmentView"] = field(default_factory=list)


@dataclass
class AttachmentView:
    name: str
    kind: str  # pdf or image
    pages: int
    page_items: list[dict] = field(default_factory=list)
    read_pages: list[dict] = field(default_factory=list)
    read_text: str = ""


def _read(item_file, limit: int | None = None) -> bytes:
    with item_file.file.open("rb") as handle:
        return handle.read(limit) if limit else handle.read()


def document_view(item_file) -> DocumentView:
    """What the task page shows of one file. Bad or hostile files give an error text, never a 500."""
    try:
        data = _read(item_file)
    except OSError:
        return DocumentView(file=item_file, kind="other", error="missing")
    # Judged by the content alone: a file declared as a PDF or named .xml may be anything.
    content_type = files.sniff(data[:files.HEAD_BYTES])
    if content_type == files.PDF:
        return _pdf_view(item_file, data)
    if content_type in files.IMAGE_TYPES:
        # Drawn page by page as PNG (a TIFF scan, which no browser shows, and its further pages too).
        return DocumentView(file=item_file, kind="image", pages=image_frame_count(data))
    if content_type == files.EMAIL:
        return _email_view(item_file, data)
    if content_type in (files.XML, files.TEXT):
        text = data[:TEXT_LIMIT].decode("utf-8", errors="replace")
        return DocumentView(file=item_file, kind="xml" if content_type == files.XML else "text", text=text,
                            truncated=len(data) > TEXT_LIMIT)
    return DocumentView(file=item_file, kind="other")


def _pdf_view(item_file, data: bytes) -> DocumentView:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    import pypdfium2 as pdfium

    view = DocumentView(file=item_file, kind="pdf")
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            view.error = "unreadable"
            return view
        try:
            view.pages = len(pdf)
            texts = []
            for index in range(min(view.pages, MAX_PAGES)):
                page = pdf[index]
                textpage = page.get_textpage()
                texts.append(textpage.get_text_range())
                textpage.close()
                page.close()
            view.text = "\n\n".join(t.strip() for t in texts if t.strip())[:TEXT_LIMIT]
        except pdfium.PdfiumError:
            view.error = "unreadable"
        finally:
            pdf.close()
    return view


def render_pdf_page(item_file, index: int) -> bytes | None:
    """Page `index` (0-based) of a stored PDF or image file as PNG; None if there is no such page."""
    if index < 0 or index >= MAX_PAGES:
        return None
    return render_page(_read(item_file), index)


def render_page(data: bytes, index: int) -> bytes | None:
    """Page `index` (0-based) of a PDF, or frame `index` of an image (a TIFF scan may hold several), as
    PNG about PAGE_WIDTH_PX wide; None if there is no such page or the file cannot be drawn."""
    if index < 0 or index >= MAX_PAGES:
        return None
    if files.sniff(data[:files.HEAD_BYTES]) in files.IMAGE_TYPES:
        image = _image_frame(data, index)
    else:
        image = _pdf_page_image(data, index)
    if image is None:
        return None
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _pdf_page_image(data: bytes, index: int):
    # A heavy library, imported on first use so that processes that never need it do not load it.
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None
        try:
            if index >= len(pdf):
                return None
            page = pdf[index]
            width = max(1.0, page.get_width())
            scale = max(0.5, min(3.0, PAGE_WIDTH_PX / width))
            image = page.render(scale=scale).to_pil()
            page.close()
            return image
        except pdfium.PdfiumError:
            return None
        finally:
            pdf.close()


def _image_frame(data: bytes, index: int):
    """Frame `index` of an image, scaled to PAGE_WIDTH_PX (a 300 dpi scan is 2,500 px wide)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            for number, frame in enumerate(ImageSequence.Iterator(image)):
                if number == index:
                    frame = frame.convert("RGB")
                    if frame.width > PAGE_WIDTH_PX:
                        frame = frame.resize((PAGE_WIDTH_PX, max(1, round(frame.height * PAGE_WIDTH_PX / frame.width))))
                    return frame
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None
    return None


def image_frame_count(data: bytes) -> int:
    """How many pages (frames) an image holds; 0 if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(getattr(image, "n_frames", 1) or 1)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return 0


def _email_view(item_file, data: bytes) -> DocumentView:
    message = email.message_from_bytes(data[:TEXT_LIMIT * 2], policy=email.policy.default)
    headers = [(name, str(message.get(name, ""))) for name in ("From", "To", "Cc", "Date", "Subject")
               if message.get(name)]
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return DocumentView(file=item_file, kind="email", headers=headers, text=str(text)[:TEXT_LIMIT])
