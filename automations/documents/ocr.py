"""OCR with Debian's tesseract-ocr (German and English language data), for scans and images.

Pages are rendered with pdfium (pypdfium2) and read by the `tesseract` command, whose TSV output gives
every word with its box and confidence. It runs in the Celery worker only: a page costs seconds. Nothing
is downloaded at run time: the language data come from the Debian packages `tesseract-ocr-deu` and
`tesseract-ocr-eng`, which the README's commands and `tests/run.sh` install."""
import csv
import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field

from automations.documents.pdf import OCR, PageInfo, Row, Word, rows_from_words

logger = logging.getLogger(__name__)

LANGUAGES = "deu+eng"
DPI = 300  # rendering resolution of PDF pages; small print (7 pt) still has about 20 px x-height
MIN_IMAGE_WIDTH = 1600  # narrower images (photos, faxes at 100 dpi) are scaled up before reading
MAX_IMAGE_PIXELS = 60_000_000
PAGE_TIMEOUT_S = 120
POINTS_PER_INCH = 72.0
_PDFIUM = threading.Lock()  # pdfium is not thread-safe


class OcrUnavailable(Exception):
    """The tesseract command or its language data are not installed."""


@dataclass
class OcrPage:
    info: PageInfo
    rows: list[Row] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [w for r in self.rows for s in r.segments for w in s.words]


def available() -> bool:
    return shutil.which("tesseract") is not None


def _check_languages() -> None:
    if not available():
        raise OcrUnavailable("tesseract is not installed (Debian: apt-get install tesseract-ocr "
                             "tesseract-ocr-deu tesseract-ocr-eng)")


def render_pdf_pages(data: bytes, pages: list[int], dpi: int = DPI):
    """The given 0-based pages of a PDF as greyscale Pillow images, with their size in points."""
    import pypdfium2 as pdfium

    out = []
    with _PDFIUM:
        pdf = pdfium.PdfDocument(data)
        try:
            for index in pages:
                if index >= len(pdf):
                    continue
                page = pdf[index]
                width, height = page.get_size()
                image = page.render(scale=dpi / POINTS_PER_INCH, grayscale=True).to_pil()
                page.close()
                out.append((index, image, width, height))
        finally:
            pdf.close()
    return out


def image_frames(data: bytes, limit: int):
    """The frames of an image file (a TIFF may hold several pages), greyscale, with their size in points
    taken from the image's resolution (300 dpi when it names none)."""
    from PIL import Image, ImageSequence

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    image = Image.open(io.BytesIO(data))
    frames = []
    for number, frame in enumerate(ImageSequence.Iterator(image)):
        if number >= limit:
            break
        dpi = frame.info.get("dpi") or image.info.get("dpi") or (DPI, DPI)
        try:
            dpi_x = float(dpi[0]) if float(dpi[0]) > 30 else float(DPI)
        except (TypeError, ValueError, IndexError):
            dpi_x = float(DPI)
        gray = frame.convert("L")
        frames.append((number, gray, gray.width * POINTS_PER_INCH / dpi_x, gray.height * POINTS_PER_INCH / dpi_x))
    return frames


def read_image(image, *, number: int, width_pt: float, height_pt: float, languages: str = LANGUAGES) -> OcrPage:
    """Words of one page image with their boxes in points (from the top left corner), grouped into rows."""
    _check_languages()
    scale_up = 1.0
    if image.width < MIN_IMAGE_WIDTH:
        scale_up = MIN_IMAGE_WIDTH / image.width
        image = image.resize((MIN_IMAGE_WIDTH, max(1, round(image.height * scale_up))))
    to_pt = width_pt / image.width if image.width else 1.0
    with tempfile.TemporaryDirectory(prefix="ocr-") as folder:
        source = os.path.join(folder, "page.png")
        image.save(source, format="PNG")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one page one core: the worker runs several tasks
        try:
            done = subprocess.run(
                ["tesseract", source, "stdout", "-l", languages, "--psm", "3", "-c", "preserve_interword_spaces=0",
                 "tsv"],
                capture_output=True, timeout=PAGE_TIMEOUT_S, env=env, check=False)
        except FileNotFoundError as exc:
            raise OcrUnavailable(str(exc)) from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace")[-300:]
        if "Failed loading language" in message or "Error opening data file" in message:
            raise OcrUnavailable(message)
        raise RuntimeError(f"tesseract failed: {message}")
    return _page_from_tsv(done.stdout.decode("utf-8", "replace"), number=number, to_pt=to_pt,
                          width_pt=width_pt, height_pt=height_pt)


def _page_from_tsv(tsv: str, *, number: int, to_pt: float, width_pt: float, height_pt: float) -> OcrPage:
    lines: dict[tuple, list[Word]] = {}
    confidences = []
    reader = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if not header:
        return OcrPage(PageInfo(number=number, width=width_pt, height=height_pt, method=OCR, ocr_confidence=0.0))
    col = {name: i for i, name in enumerate(header)}
    for row in reader:
        if len(row) < len(header) or row[col["level"]] != "5":
            continue
        text = row[col["text"]].strip()
        conf = float(row[col["conf"]])
        if not text or conf < 0:
            continue
        left, top = int(row[col["left"]]), int(row[col["top"]])
        width, height = int(row[col["width"]]), int(row[col["height"]])
        key = (row[col["block_num"]], row[col["par_num"]], row[col["line_num"]])
        lines.setdefault(key, []).append(Word(text, left * to_pt, (left + width) * to_pt, top * to_pt,
                                              (top + height) * to_pt, conf))
        confidences.append(conf)
    rows = rows_from_words(number, list(lines.values()))
    chars = sum(len(w.text) for ws in lines.values() for w in ws)
    mean = round(sum(confidences) / len(confidences), 1) if confidences else 0.0
    info = PageInfo(number=number, width=width_pt, height=height_pt, method=OCR, chars=chars, ocr_confidence=mean)
    return OcrPage(info=info, rows=rows)
