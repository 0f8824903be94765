"""What a file is, the XML a PDF carries, and the PDF's text layer as positioned rows of words.

Attachments come from pypdf (the embedded-files name tree, which Factur-X, ZUGFeRD and XRechnung use) and,
for producers that only attach through page annotations, from FileAttachment annotations. The text layer
comes from pdfminer.six with positions, rebuilt into visual rows of segments so that a label and its value
in another column, or on the line below, can be paired; pypdf's plain text is the fallback when pdfminer
cannot read a file."""
import io
import logging
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

MAX_PAGES = 30  # invoices are short; a 500-page scan must not stall a worker
PDF, XML, IMAGE, UNKNOWN = "pdf", "xml", "image", "unknown"


def sniff(data: bytes) -> str:
    head = data[:1024]
    if b"%PDF-" in head:
        return PDF
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")) or head[8:12] == b"WEBP":
        return IMAGE
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return XML
    return UNKNOWN


def _reader(data: bytes):
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")  # invoices are at most protected against editing, readable without a password
    return reader


def attachments(data: bytes) -> list[tuple[str, bytes]]:
    """Every embedded file as (name, content), in the order the PDF lists them."""
    out: list[tuple[str, bytes]] = []
    try:
        reader = _reader(data)
    except Exception:  # a damaged PDF simply has no readable attachments
        logger.debug("pypdf cannot open the PDF for attachments", exc_info=True)
        return out
    try:
        for item in reader.attachment_list:
            try:
                out.append((item.name or "", item.content or b""))
            except Exception:  # one damaged attachment must not hide the others
                logger.debug("attachment unreadable", exc_info=True)
    except Exception:
        logger.debug("embedded files tree unreadable", exc_info=True)
    if not out:
        out.extend(_annotation_attachments(reader))
    return out


def _annotation_attachments(reader) -> list[tuple[str, bytes]]:
    found = []
    try:
        for page in reader.pages[:MAX_PAGES]:
            for annot in page.get("/Annots") or []:
                annot = annot.get_object()
                if annot.get("/Subtype") != "/FileAttachment":
                    continue
                spec = annot["/FS"].get_object()
                stream = spec["/EF"].get_object().get("/F")
                if stream is not None:
                    found.append((str(spec.get("/UF") or spec.get("/F") or ""), stream.get_object().get_data()))
    except Exception:
        logger.debug("file attachment annotations unreadable", exc_info=True)
    return found


@dataclass
class Word:
    """One word and where it stands on its page, in points from the page's top left corner (for OCR'd
    pages, pixels converted to points); `conf` is the OCR's confidence in percent, None for a text layer."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    conf: float | None = None


@dataclass
class Segment:
    """A run of text on one visual line, separated from its neighbours by a column-sized gap."""

    text: str
    x0: float
    x1: float
    top: float  # distance from the page's top edge
    bottom: float
    size: float
    bold: bool = False
    words: list = field(default_factory=list, repr=False)


@dataclass
class Row:
    page: int
    segments: list[Segment] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(s.top for s in self.segments)

    @property
    def bottom(self) -> float:
        return max(s.bottom for s in self.segments)

    @property
    def text(self) -> str:
        return "  ".join(s.text for s in self.segments)


TEXT_LAYER, OCR, EMPTY = "text_layer", "ocr", "none"


@dataclass
class PageInfo:
    """How one page was read: from its text layer or by OCR (with the mean word confidence in percent)."""

    number: int  # 0-based
    width: float
    height: float
    method: str = TEXT_LAYER
    chars: int = 0
    images: int = 0
    garbled: bool = False
    ocr_confidence: float | None = None


@dataclass
class TextLayer:
    rows: list[Row]
    pages: int
    page_heights: list[float]
    has_images: bool = False
    source: str = "pdfminer"
    # Glyphs without a Unicode mapping ("(cid:12)") or mostly rotated text: another reader may do better.
    garbled: bool = False
    page_info: list[PageInfo] = field(default_factory=list)

    @property
    def char_count(self) -> int:
        return sum(len(s.text.replace(" ", "")) for r in self.rows for s in r.segments)

    def page_rows(self, page: int) -> list[Row]:
        return [r for r in self.rows if r.page == page]

    def words(self, page: int) -> list[Word]:
        return [w for r in self.rows if r.page == page for s in r.segments for w in s.words]

    def page_text(self, page: int) -> str:
        return "\n".join(r.text for r in self.rows if r.page == page)

    def text(self) -> str:
        """The pages' text in reading order: rows top to bottom, a blank line between pages."""
        return "\n\n".join(t for t in (self.page_text(p) for p in range(self.pages)) if t.strip())


def text_layer(data: bytes) -> TextLayer:
    try:
        layer = _pdfminer_layer(data)
        if not layer.garbled:
            return layer
        logger.debug("pdfminer text is garbled or rotated; trying pypdf")
    except Exception:  # fall back to pypdf, which reads some files pdfminer refuses
        logger.debug("pdfminer cannot read the PDF; trying pypdf", exc_info=True)
        layer = None
    try:
        fallback = _pypdf_layer(data)
    except Exception:
        if layer is not None:
            return layer
        raise
    if layer is not None and fallback.char_count <= layer.char_count:
        return layer
    return fallback


# Punctuation, symbols and spaces of ordinary text: other characters count as garbled.
PLAIN_MARKS = ".,:;-/()%€$£&@#+*'\"!?§_=<>[]{}|~^°²³\u00a0\u2013\u2014\u2019\u201e\u201c\u201d\u00ab\u00bb·•"


def garbage_share(text: str) -> float:
    """The share of characters no invoice or letter is written with: unmapped glyphs ("(cid:12)"),
    private-use and control characters, replacement characters, symbols of broken font encodings."""
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return 0.0
    bad = text.count("(cid:") * 6
    for c in visible:
        o = ord(c)
        if 0xE000 <= o <= 0xF8FF or o < 0x20 or c == "\ufffd" or 0x80 <= o < 0xA0:
            bad += 1
        elif not (c.isalnum() or c in PLAIN_MARKS):
            bad += 1
    return min(1.0, bad / len(visible))


def _pdfminer_layer(data: bytes) -> TextLayer:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTChar, LTFigure, LTImage, LTTextContainer, LTTextLine

    rows: list[Row] = []
    heights: list[float] = []
    infos: list[PageInfo] = []
    pages = 0
    stats = {"rotated": 0, "upright": 0, "images": 0}
    laparams = LAParams(char_margin=3.0, line_margin=0.3, word_margin=0.1, detect_vertical=False, all_texts=True)
    for page_no, page in enumerate(extract_pages(io.BytesIO(data), laparams=laparams, maxpages=MAX_PAGES)):
        pages += 1
        heights.append(page.height)
        segments: list[Segment] = []
        images_before = stats["images"]
        stack = list(page)
        while stack:  # depth-first over boxes and figures (form XObjects), without recursion limits
            obj = stack.pop()
            if isinstance(obj, LTTextLine):
                segments.extend(_split_line(obj, page.height, LTChar, stats))
            elif isinstance(obj, LTImage):
                stats["images"] += 1
            elif isinstance(obj, (LTTextContainer, LTFigure)) or hasattr(obj, "__iter__"):
                stack.extend(obj)
        page_rows = _rows(page_no, segments)
        rows.extend(page_rows)
        text = "\n".join(r.text for r in page_rows)
        info = PageInfo(number=page_no, width=page.width, height=page.height,
                        chars=sum(len(s.text.replace(" ", "")) for s in segments),
                        images=stats["images"] - images_before)
        info.garbled = info.chars > 0 and garbage_share(text) > 0.15
        infos.append(info)
    has_images = stats["images"] > 0
    layer = TextLayer(rows=rows, pages=pages, page_heights=heights, has_images=has_images, page_info=infos)
    cid = sum(s.text.count("(cid:") for r in rows for s in r.segments)
    layer.garbled = stats["rotated"] > 2 * stats["upright"] or cid * 6 > max(layer.char_count, 1)
    return layer


# Typographic ligatures (Chromium, LaTeX and most typesetters print "ff", "fi", ... as one glyph), soft
# hyphens and the typographic apostrophe (groff's "d’acompte") read as the letters they stand for: "Wolﬀ" is
# "Wolff".
LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                           "\ufb05": "st", "\ufb06": "st", "\u00ad": "", "\u2019": "'"})


def _glyphs_text(chars: list) -> str:
    return "".join(c.get_text() for c in chars).translate(LIGATURES)


def _word(chars: list, height: float) -> Word | None:
    text = _glyphs_text(chars).strip()
    glyphs = [c for c in chars if c.get_text().strip()]
    if not text or not glyphs:
        return None
    return Word(text, glyphs[0].x0, glyphs[-1].x1, height - max(c.y1 for c in glyphs),
                height - min(c.y0 for c in glyphs))


def _split_line(line, height: float, char_type, stats: dict) -> list[Segment]:
    """Split a pdfminer line where the gap between two glyphs with ink is wider than about one em.

    Some producers (groff's PDF driver) write one table row as one text run and fill the space between its
    cells with space glyphs: the gap is measured from the last glyph with ink, so a run of spaces as wide as
    a column gap splits the line as an empty gap would. A line that writes its word gaps as space glyphs
    says how this producer separates words: a narrower gap without a space glyph in it, between glyphs of
    one font and size, is the producer's kerning ("W iesengrund"), not a word gap, and joins the letters."""
    out: list[Segment] = []
    chars: list = []
    glyphs = [obj for obj in line if isinstance(obj, char_type)]
    spaces_written = _word_spaces_written([c.get_text() for c in glyphs])

    def flush():
        text = _glyphs_text(chars)
        if text.strip():
            xs = [c for c in chars if c.get_text().strip()]
            size = max(c.size for c in xs)
            bold = sum("bold" in (c.fontname or "").lower() for c in xs) > len(xs) / 2
            words, current = [], []
            for c in chars:
                if c.get_text().isspace():
                    if (w := _word(current, height)) is not None:
                        words.append(w)
                    current = []
                else:
                    current.append(c)
            if (w := _word(current, height)) is not None:
                words.append(w)
            out.append(Segment(" ".join(text.split()), xs[0].x0, xs[-1].x1, height - max(c.y1 for c in xs),
                               height - min(c.y0 for c in xs), size, bold, words))
        chars.clear()

    previous = inked = None
    for obj in glyphs:  # pdfminer's virtual spaces are left out; gaps are measured from the glyphs themselves
        if not getattr(obj, "upright", True) or abs(obj.matrix[1]) > 0.1 * abs(obj.matrix[0] or 1):
            stats["rotated"] += 1
            continue  # rotated text (side margins) does not belong to a row
        stats["upright"] += 1
        blank = not obj.get_text().strip()
        if previous is not None:
            gap = obj.x0 - previous.x1
            em = max(previous.size, obj.size, 1.0)
            if gap > 0.9 * em or (not blank and inked is not None and obj.x0 - inked.x1 > 0.9 * max(inked.size, em)):
                while chars and not chars[-1].get_text().strip():
                    chars.pop()  # the spaces that filled a column gap belong to neither column
                flush()
            elif (gap > 0.15 * em and chars and chars[-1].get_text() != " " and obj.get_text() != " "
                  and not (spaces_written and _same_font(previous, obj))):
                chars.append(_Space())
        if blank and not chars:
            continue  # a segment never starts with the spaces of a column gap
        chars.append(obj)
        previous = obj
        if not blank:
            inked = obj
    if chars:
        flush()
    return out


def _same_font(a, b) -> bool:
    """Kerning moves glyphs of one word, set in one font and size."""
    return getattr(a, "fontname", None) == getattr(b, "fontname", None) and abs(a.size - b.size) < 0.1


def _word_spaces_written(texts: list[str]) -> bool:
    """Whether a line writes its word gaps as single space glyphs between two letters (the runs of spaces
    some producers fill column gaps with, or a space inside an amount, say nothing about how they separate
    words; groff, for one, places words with accented letters by position and writes no space glyph)."""
    return any(t == " " and texts[n - 1].isalpha() and texts[n + 1].isalpha() for n, t in enumerate(texts[1:-1], 1))


class _Space:
    """A word gap that pdfminer did not mark (some producers place every word separately)."""

    x0 = x1 = y0 = y1 = size = 0.0
    fontname = ""

    def get_text(self):
        return " "


def _rows(page_no: int, segments: list[Segment]) -> list[Row]:
    """Group segments whose vertical centres lie within half a line of each other into one visual row."""
    rows: list[Row] = []
    for seg in sorted(segments, key=lambda s: ((s.top + s.bottom) / 2, s.x0)):
        centre = (seg.top + seg.bottom) / 2
        if rows:
            row = rows[-1]
            row_centre = sum((s.top + s.bottom) / 2 for s in row.segments) / len(row.segments)
            tolerance = 0.45 * min(seg.bottom - seg.top, min(s.bottom - s.top for s in row.segments)) + 0.5
            if abs(centre - row_centre) <= tolerance:
                row.segments.append(seg)
                continue
        rows.append(Row(page=page_no, segments=[seg]))
    for row in rows:
        row.segments.sort(key=lambda s: s.x0)
    return rows


def rows_from_words(page_no: int, lines: list[list[Word]]) -> list[Row]:
    """Rows of segments from words already grouped into lines (OCR): a line splits into segments where
    the gap between two words is wider than about one character height, as `_split_line` does."""
    segments: list[Segment] = []
    for line in lines:
        words = sorted((w for w in line if w.text.strip()), key=lambda w: w.x0)
        current: list[Word] = []
        for w in words:
            if current:
                size = max(x.bottom - x.top for x in (current[-1], w))
                if w.x0 - current[-1].x1 > 1.1 * max(size, 1.0):
                    segments.append(_segment(current))
                    current = []
            current.append(w)
        if current:
            segments.append(_segment(current))
    return _rows(page_no, segments)


def _segment(words: list[Word]) -> Segment:
    top, bottom = min(w.top for w in words), max(w.bottom for w in words)
    # A word's box runs from ascender to descender: about the font size.
    size = sorted(w.bottom - w.top for w in words)[len(words) // 2]
    return Segment(" ".join(w.text for w in words), words[0].x0, words[-1].x1, top, bottom, size, False, list(words))


def _pypdf_layer(data: bytes) -> TextLayer:
    reader = _reader(data)
    rows: list[Row] = []
    heights = []
    infos = []
    pages = reader.pages[:MAX_PAGES]
    for page_no, page in enumerate(pages):
        height = float(page.mediabox.height)
        heights.append(height)
        text = (page.extract_text(extraction_mode="layout") or "").translate(LIGATURES)
        count = 0
        for line_no, line in enumerate(text.splitlines()):
            parts = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]
            if not parts:
                continue
            # Layout mode keeps columns as runs of spaces; one character is taken as 5 points wide.
            segs = []
            for start, t in parts:
                top, bottom = 12.0 * line_no, 12.0 * line_no + 10
                words = [Word(m.group(), 5.0 * (start + m.start()), 5.0 * (start + m.end()), top, bottom)
                         for m in re.finditer(r"\S+", t)]
                segs.append(Segment(t, 5.0 * start, 5.0 * (start + len(t)), top, bottom, 10.0, False, words))
                count += len(t.replace(" ", ""))
            rows.append(Row(page=page_no, segments=segs))
        infos.append(PageInfo(number=page_no, width=float(page.mediabox.width), height=height, chars=count,
                              garbled=count > 0 and garbage_share(text) > 0.15))
    return TextLayer(rows=rows, pages=len(pages), page_heights=heights, source="pypdf", page_info=infos)
