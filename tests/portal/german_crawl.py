"""A crawler of the German UI as a demo user sees it: from the home page, every internal link (GET only, same
origin, bounded per route), each HTML page reduced to the text a person reads, and that text checked for
what should never reach a German page: field keys of the data model, English words, and messages that
the German catalogue leaves untranslated (or that were rendered before the language was chosen)."""
import ast
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from django.apps import apps
from django.urls import Resolver404, resolve

PO_FILE = Path(__file__).resolve().parents[2] / "portal" / "locale" / "de" / "LC_MESSAGES" / "django.po"

# Paths a person does not read as German pages: the API and its documentation speak the data model by
# contract (keys are its interface), Django's admin is the operators' read-only view of records under their
# model names, the language switch and logging out change the session, static files and downloads are no
# pages.
SKIPPED_PREFIXES = ("/api/", "/admin/", "/i18n/", "/logout/", "/static/", "/media/", "/favicon.ico")

# Elements whose text is no visible text of the page (scripts, styles, templates for scripts) or is what a
# user typed and stored (a textarea shows the stored value for editing).
INVISIBLE = ("script", "style", "template", "noscript", "textarea")

# What the demo's users typed or uploaded and the portal shows as written: file names, e-mail addresses,
# URLs. Stripped before the checks, so that e.g. "invoice_2026.pdf" is no finding.
USER_DATA = re.compile(
    r"\S+\.(?:pdf|xml|txt|eml|csv|jsonl|json|zip|png|jpe?g|joblib)\b"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|https?://\S+",
    re.IGNORECASE,
)


@dataclass
class Page:
    user: str
    url: str
    route: str
    text: str


@dataclass
class Finding:
    user: str
    url: str
    route: str
    kind: str  # "key", "english", "untranslated"
    word: str
    context: str

    def __str__(self) -> str:
        return f"{self.user} {self.url} [{self.route}] {self.kind} {self.word!r}: …{self.context}…"


@dataclass
class CrawlResult:
    pages: list[Page] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    # The page on which each URL was first offered as a link (or the page that redirected to it).
    shown_on: dict[str, str] = field(default_factory=dict)

    def refused(self) -> list[tuple[str, int, str]]:
        """(url, status, page that offered it) of every link the user followed and was refused (403) or
        told there is nothing (404): a link a user may not follow should not be shown to them."""
        return [(url, status, self.shown_on.get(url, "")) for url, status in self.statuses.items()
                if status in (403, 404)]


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _skipped(path: str) -> bool:
    return path.startswith(SKIPPED_PREFIXES)


def visible_text(html: str, *, technical: bool = False) -> str:
    """The text a person reads on the page: the title and the body's text nodes without scripts, styles,
    hidden elements and stored values being edited; the words of buttons, tooltips and placeholders too.
    `technical`: technical names the page marks as such (<code class="technical">, beside the field's
    label, where a file's columns must be named by them) are left out too."""
    document = lxml.html.document_fromstring(html)
    if technical:
        for element in document.xpath("//code[contains(concat(' ', @class, ' '), ' technical ')]"):
            element.drop_tree()
    # Hidden elements; and text the page marks as English (lang="en": a field's English label shown beside the
    # German one where the schema itself is edited or compared), which is English on purpose.
    for element in document.xpath("//*[@hidden] | //*[@aria-hidden='true'] | //body//*[starts-with(@lang, 'en')]"):
        element.drop_tree()
    for tag in INVISIBLE:
        for element in document.iter(tag):
            element.drop_tree()
    parts = [" ".join(document.xpath("//title//text()"))]
    body = document.find("body")
    if body is not None:
        parts.extend(text.strip() for text in body.itertext())
        for element in body.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in ("title", "placeholder", "aria-label", "alt"):
                if element.get(attribute):
                    parts.append(element.get(attribute))
            if element.tag == "input" and element.get("type") in ("submit", "button") and element.get("value"):
                parts.append(element.get("value"))
    return re.sub(r"\s+", " ", " ".join(p for p in parts if p)).strip()


def links(html: str, base: str) -> list[str]:
    document = lxml.html.document_fromstring(html)
    found = []
    for href in document.xpath("//a/@href"):
        url, _fragment = urldefrag(urljoin(base, href.strip()))
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            continue  # another origin
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path and not _skipped(parts.path):
            found.append(path)
    return found


def crawl(client, *, user: str, start: str = "/", per_route: int = 3, limit: int = 400,
          technical_routes: Iterable[str] = ()) -> CrawlResult:
    """Breadth first from `start`: at most `per_route` distinct URLs of one route (a list's filters and
    pages, a few objects of a kind) and `limit` pages in all. Redirects are followed as links. On the
    `technical_routes` (view names), technical names marked as such are no finding."""
    technical_routes = set(technical_routes)
    result = CrawlResult()
    seen: set[str] = {start}
    per: dict[str, int] = {}
    queue = deque([start])
    while queue and len(result.statuses) < limit:
        url = queue.popleft()
        response = client.get(url)
        result.statuses[url] = response.status_code
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(url, response["Location"]))
            if target.netloc in ("", "testserver") and not _skipped(target.path):
                _enqueue(target.path + (f"?{target.query}" if target.query else ""), seen, per, queue, per_route,
                         result.shown_on, url)
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode(response.charset or "utf-8")
        route = route_of(urlsplit(url).path) or "?"
        result.pages.append(Page(user=user, url=url, route=route,
                                 text=visible_text(html, technical=route in technical_routes)))
        for link in links(html, url):
            _enqueue(link, seen, per, queue, per_route, result.shown_on, url)
    return result


def _enqueue(url: str, seen: set, per: dict, queue: deque, per_route: int, shown_on: dict, page: str) -> None:
    if url in seen:
        return
    route = route_of(urlsplit(url).path)
    if route is None:
        return
    if per.get(route, 0) >= per_route:
        return
    seen.add(url)
    per[route] = per.get(route, 0) + 1
    shown_on[url] = page
    queue.append(url)


# --- what a German page must not show ------------------------------------------------------------------

def model_field_keys() -> set[str]:
    """Names of the product's model fields that read as keys (snake_case with an underscore)."""
    keys = set()
    for model in apps.get_models():
        if model._meta.app_label not in ("portal", "audit", "automations", "reviews", "leitstand"):
            continue
        for model_field in model._meta.get_fields():
            name = getattr(model_field, "name", "")
            if "_" in name.strip("_"):
                keys.add(name)
    return keys


def schema_keys(use_cases: Iterable) -> set[str]:
    """Field names, choice values and quality-target keys of the use cases' schemas that read as keys."""
    keys = set()
    for use_case in use_cases:
        for spec in [*(use_case.input_fields or []), *(use_case.output_fields or [])]:
            if not isinstance(spec, dict):
                continue
            keys.add(str(spec.get("name", "")))
            keys.update(str(choice) for choice in spec.get("choices") or [])
        keys.update((use_case.quality_targets or {}).keys())
    return {key for key in keys if "_" in key.strip("_")}


def key_pattern(keys: Iterable[str]) -> re.Pattern:
    words = sorted({k for k in keys if k}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])")


def po_entries(path: Path = PO_FILE) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry of a .po file (msgstr[0] for plural forms); the header left out."""
    entries: list[tuple[str, str, bool]] = []
    current: dict[str, str] = {}
    fuzzy = False
    key = None

    def flush():
        nonlocal current, fuzzy
        if current.get("msgid"):
            entries.append((current["msgid"], current.get("msgstr", current.get("msgstr[0]", "")), fuzzy))
        current, fuzzy = {}, False

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            flush()
            key = None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        else:
            name, _space, value = line.partition(" ")
            if name == "msgid" and "msgid" in current and "msgstr" in current:
                flush()
            key = "msgstr" if name == "msgstr[0]" else name
            current[key] = ast.literal_eval(value)
    flush()
    return entries


def _literal_parts(msgid: str) -> list[str]:
    """The fixed text of a message between its placeholders (%(name)s, %s, {name})."""
    return [part.strip() for part in re.split(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}", msgid) if part.strip()]


def untranslated_phrases(entries=None) -> set[str]:
    """English text of messages that should never stand on a German page: a message the catalogue leaves
    untranslated (empty or fuzzy), or a translated message of at least two English words — found on the page
    it was rendered in English (translated before the language was chosen, or not through gettext)."""
    phrases = set()
    for msgid, msgstr, fuzzy in entries if entries is not None else po_entries():
        longest = max(_literal_parts(msgid), key=len, default="")
        if not msgstr or fuzzy:
            if re.search(r"[A-Za-z]{3}", longest):
                phrases.add(longest)
        elif msgstr != msgid and len(longest) >= 12 and len(longest.split()) >= 2 and longest not in msgstr:
            phrases.add(longest)
    return phrases


def findings(pages: Iterable[Page], *, keys: re.Pattern, english: re.Pattern, phrases: set[str],
             user_names: Iterable[str] = (), allowed=lambda finding: False) -> list[Finding]:
    """What each page shows that a German page must not. `user_names` are user data too (the demo's users
    are named after their role keys): they are taken out of the text before the checks."""
    names = sorted(user_names, key=len, reverse=True)
    people = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])") if names else None
    out = []
    for page in pages:
        text = USER_DATA.sub(" ", page.text)
        if people is not None:
            text = people.sub(" ", text)
        hits = [("key", m) for m in keys.finditer(text)] + [("english", m) for m in english.finditer(text)]
        for kind, match in hits:
            out.append(Finding(page.user, page.url, page.route, kind, match.group(0),
                               text[max(0, match.start() - 60):match.end() + 60]))
        for phrase in phrases:
            at = text.find(phrase)
            if at >= 0:
                out.append(Finding(page.user, page.url, page.route, "untranslated", phrase,
                                   text[max(0, at - 60):at + len(phrase) + 60]))
    return [f for f in out if not allowed(f)]
