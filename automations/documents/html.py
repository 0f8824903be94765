"""HTML e-mail bodies as plain text: block elements become line breaks, list items get a dash, table
cells a gap, scripts and styles vanish. lxml's HTML parser (libxml2) reads broken markup without
executing or fetching anything."""
import re

BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
          "pre", "hr", "section", "article", "header", "footer", "address", "dd", "dt", "dl"}
SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "math"}
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")


def html_to_text(markup: str) -> str:
    from lxml import etree, html

    if not markup.strip():
        return ""
    try:
        root = html.fromstring(markup)
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^<>]{0,2000}>", " ", markup)
    parts: list[str] = []
    stack = [(root, False)]
    while stack:  # iterative, so that deeply nested markup cannot exhaust the recursion limit
        node, closing = stack.pop()
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if closing:
            if tag in BLOCKS and tag not in ("br", "hr", "li"):
                parts.append("\n")
            if node.tail:
                parts.append(node.tail)
            continue
        if not isinstance(node.tag, str) or tag in SKIP:  # comments, processing instructions, scripts
            if node.tail:
                parts.append(node.tail)
            continue
        if tag in BLOCKS:
            parts.append("\n")
        if tag == "li":
            parts.append("- ")
        if tag in ("td", "th"):
            parts.append("  ")
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
