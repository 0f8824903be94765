"""Finding everything stored about one data subject in a tenant: through master data, the pseudonym index,
work items (input fields, results, reasons, files), labelled examples; used by access and erasure requests.

A person is identified by a *strong* identifier (e-mail address, IBAN, customer or supplier number) or by a
name. A name must match exactly one master data record; several matches are refused with the list, so that
the DSB names the person by number instead. The master data records found add the person's other
identifiers (number, name, e-mail, IBAN, VAT id).

An item, example or record is *the person's* when a strong identifier occurs anywhere in it, or their name is
a whole field value; a name inside someone else's free text is only a mention (erasure replaces it by a
placeholder there)."""
import io
import logging
import re
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import IdentifierKind
from audit.models import Pseudonym
from audit.selectors.mentions import mentions
from audit.selectors.pseudonyms import KINDS, normalise, pseudonym_lookup
from audit.selectors.text_search import annotate_text, contains_any, strings_in, text_filter
from automations.choices import LegalBasis
from automations.execution.models.work import MasterRecord, WorkItem, WorkItemFile
from automations.training.models import LabelledExample
from portal.models import Tenant

_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
STRONG_KINDS = (IdentifierKind.EMAIL, IdentifierKind.IBAN, IdentifierKind.CUSTOMER_NUMBER,
                IdentifierKind.SUPPLIER_NUMBER, "vat_id")
_MASTER_KIND: dict[str, str] = {IdentifierKind.CUSTOMER_NUMBER: "customer", IdentifierKind.SUPPLIER_NUMBER: "supplier"}
# Files are searched as bytes and, for PDFs, as extracted text; larger files only as bytes.
_PDF_TEXT_LIMIT = 20 * 1024 * 1024


class SubjectNotFound(LookupError):
    pass


class AmbiguousSubject(LookupError):
    """A name (or a number that is both a customer's and a supplier's) matches several people."""

    def __init__(self, message: str, candidates: list[str]):
        super().__init__(message)
        self.candidates = candidates


@dataclass(frozen=True)
class Identifier:
    kind: str
    value: str  # normalised as audit.services.pseudonyms.normalise() does

    @property
    def strong(self) -> bool:
        return self.kind in STRONG_KINDS

    def variants(self) -> list[str]:
        """The spellings to look for in stored text: as normalised, and an IBAN also in groups of four."""
        found = [self.value]
        if self.kind == IdentifierKind.IBAN:
            found.append(" ".join(self.value[i:i + 4] for i in range(0, len(self.value), 4)))
        return found


@dataclass
class Subject:
    """One person in one tenant, and where their data is."""

    tenant: Tenant
    kind: str
    identifier: str
    identifiers: list[Identifier]
    master_records: list = field(default_factory=list)
    pseudonyms: list[Pseudonym] = field(default_factory=list)
    items: list = field(default_factory=list)
    examples: list = field(default_factory=list)

    def needles(self) -> list[str]:
        """Every spelling of every identifier, longest first (so a name is replaced before a part of it)."""
        values = {variant for identifier in self.identifiers for variant in identifier.variants()}
        return sorted(values, key=lambda value: (-len(value), value))

    def strong_needles(self) -> list[str]:
        return sorted({v for i in self.identifiers if i.strong for v in i.variants()}, key=lambda v: (-len(v), v))

    def names(self) -> list[str]:
        return sorted({i.value for i in self.identifiers if not i.strong})


def guess_kind(identifier: str, tenant) -> str:
    """The kind of an identifier given without --kind."""
    value = " ".join(str(identifier).split())
    if "@" in value:
        return IdentifierKind.EMAIL
    if _IBAN.match(value.replace(" ", "").upper()):
        return IdentifierKind.IBAN
    kinds = set(MasterRecord.objects.for_tenant(tenant).filter(number=value).values_list("kind", flat=True))
    if kinds == {"customer"}:
        return IdentifierKind.CUSTOMER_NUMBER
    if kinds == {"supplier"}:
        return IdentifierKind.SUPPLIER_NUMBER
    if kinds:
        raise AmbiguousSubject(
            _("%(value)s is both a customer and a supplier number; name the kind.") % {"value": value},
            [f"customer_number {value}", f"supplier_number {value}"],
        )
    return IdentifierKind.NAME


def subject_identify(*, tenant, identifier: str, kind: str | None = None) -> Subject:
    """The person behind an identifier and all their identifiers (through master data), without looking at
    their items yet. Raises AmbiguousSubject for a name of several people."""
    identifier = " ".join(str(identifier).split())
    if not identifier:
        raise SubjectNotFound(_("Give an identifier."))
    kind = kind or guess_kind(identifier, tenant)
    if kind not in IdentifierKind.values:
        raise ValueError(f"Unknown identifier kind {kind!r}.")
    value = normalise(kind, identifier)
    tenant_records = MasterRecord.objects.for_tenant(tenant)
    records: list[MasterRecord]
    if kind == IdentifierKind.EMAIL:
        records = list(tenant_records.filter(email__iexact=value))
    elif kind == IdentifierKind.IBAN:
        records = list(tenant_records.filter(iban=value))
    elif kind in _MASTER_KIND:
        records = list(tenant_records.filter(kind=_MASTER_KIND[kind], number=identifier))
    else:
        wanted = value  # casefolded, whitespace collapsed
        word = max(identifier.split(), key=len)
        records = [r for r in tenant_records.filter(name__icontains=word) if normalise("name", r.name) == wanted]
        if len(records) > 1 and not _same_person(records):
            raise AmbiguousSubject(
                _("The name %(name)s matches several people; name one of them by number.") % {"name": identifier},
                [f"{r.get_kind_display()} {r.number}: {r.name}" + (f" <{r.email}>" if r.email else "")
                 for r in records],
            )
    identifiers = {Identifier(kind, value if kind != IdentifierKind.NAME else identifier)}
    for record in records:
        number_kind = IdentifierKind.CUSTOMER_NUMBER if record.kind == "customer" else IdentifierKind.SUPPLIER_NUMBER
        identifiers.add(Identifier(number_kind, record.number))
        identifiers.add(Identifier(IdentifierKind.NAME, " ".join(record.name.split())))
        if record.email:
            identifiers.add(Identifier(IdentifierKind.EMAIL, normalise("email", record.email)))
        if record.iban:
            identifiers.add(Identifier(IdentifierKind.IBAN, normalise("iban", record.iban)))
        if record.vat_id:
            identifiers.add(Identifier("vat_id", record.vat_id))
    subject = Subject(tenant=tenant, kind=kind, identifier=identifier,
                      identifiers=sorted(identifiers, key=lambda i: (i.kind, i.value)), master_records=records)
    subject.pseudonyms = _pseudonyms(tenant, subject.identifiers)
    return subject


def subject_find(*, tenant, identifier: str, kind: str | None = None, with_files: bool = True) -> Subject:
    """Everything stored about the person in the tenant. Raises AmbiguousSubject for a name that matches
    several people, SubjectNotFound when nothing at all refers to the identifier."""
    subject = subject_identify(tenant=tenant, identifier=identifier, kind=kind)
    subject.items = _items(tenant, subject, with_files=with_files)
    subject.examples = _examples(tenant, subject)
    if not (subject.master_records or subject.pseudonyms or subject.items or subject.examples) \
            and not subject_mentioned(subject):
        raise SubjectNotFound(_("Nothing stored in this tenant refers to %(value)s.") % {"value": subject.identifier})
    return subject


def _same_person(records) -> bool:
    """Several records of one name are one person only when they share an e-mail address or an IBAN."""
    emails = {r.email.lower() for r in records}
    ibans = {r.iban for r in records}
    return (len(emails) == 1 and "" not in emails) or (len(ibans) == 1 and "" not in ibans)


def _pseudonyms(tenant, identifiers: list[Identifier]) -> list[Pseudonym]:
    found = {}
    for identifier in identifiers:
        for kind in KINDS:
            if identifier.kind == "name" and kind not in ("name", "other"):
                continue
            pseudonym = pseudonym_lookup(tenant=tenant, kind=kind, identifier=identifier.value)
            if pseudonym is not None:
                found[pseudonym.pk] = pseudonym
    return list(found.values())


def _whole_values(value) -> list[str]:
    """Field values as people typed them: the leaves of payloads and of {"value": ...} results."""
    return [" ".join(text.split()).casefold() for text in strings_in(value)]


def belongs_to(subject: Subject, *values) -> bool:
    """A strong identifier anywhere, or a name as a whole value."""
    if any(contains_any(value, subject.strong_needles()) for value in values):
        return True
    names = {name.casefold() for name in subject.names()}
    return any(text in names for value in values for text in _whole_values(value))


_ITEM_COLUMNS = ["payload", "fields", "reasons", "external_id", "idempotency_key"]


def _items(tenant, subject: Subject, *, with_files: bool) -> list:
    needles = subject.needles()
    queryset = annotate_text(WorkItem.objects.for_tenant(tenant), _ITEM_COLUMNS)
    found = {}
    for item in queryset.filter(text_filter(_ITEM_COLUMNS, needles)).select_related("use_case"):
        if belongs_to(subject, item.payload, item.fields, item.reasons, item.external_id, item.idempotency_key or ""):
            found[item.pk] = item
    if with_files:
        for upload in WorkItemFile.objects.for_tenant(tenant).exclude(item_id__in=list(found)).select_related(
                "item__use_case"):
            if (upload.name and belongs_to(subject, upload.name)) or file_mentions(upload, needles):
                found[upload.item_id] = upload.item
    return sorted(found.values(), key=lambda item: item.created_at)


def _examples(tenant, subject: Subject) -> list:
    columns = ["texts", "labels", "source_ref"]
    queryset = annotate_text(LabelledExample.objects.for_tenant(tenant), columns)
    return [example for example in queryset.filter(text_filter(columns, subject.needles()))
            if belongs_to(subject, example.texts, example.labels, example.source_ref)]


def subject_mentioned(subject: Subject) -> bool:
    """Does any other stored text of the tenant mention the person? (Only asked when nothing else was found.)"""
    return any(True for _ in mentions(subject, limit=1))


def file_mentions(upload, needles: list[str]) -> bool:
    """Does the stored file contain an identifier: in its bytes (text, XML, CSV) or its PDF text layer?"""
    try:
        with upload.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return False
    lowered = data.lower()
    for needle in needles:
        for encoding in ("utf-8", "latin-1", "utf-16-le"):
            try:
                if needle.lower().encode(encoding) in lowered:
                    return True
            except UnicodeEncodeError:
                continue
    if data[:5] == b"%PDF-" and len(data) <= _PDF_TEXT_LIMIT:
        text = _pdf_text(data)
        collapsed = " ".join(text.split()).casefold()
        return any(needle.casefold() in collapsed for needle in needles)
    return False


def _pdf_text(data: bytes) -> str:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages[:50])
    except Exception:  # noqa: BLE001 - a broken PDF mentions no one we can find; its bytes were searched already
        return ""


def retention_duty_until(item):
    """Until when a statutory retention duty keeps the item (GDPR Art. 17(3)(b): e.g. invoices, § 147 AO, to the
    end of the calendar year ten years on), or None. Derived from the registry: a use case whose legal basis is a
    legal obligation keeps its items for its retention period (UseCase.retention_end)."""
    use_case = item.use_case
    if use_case.legal_basis != LegalBasis.LEGAL_OBLIGATION:
        return None
    until = use_case.retention_end(item.created_at)
    return until if until > timezone.now() else None
