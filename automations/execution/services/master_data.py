"""Suppliers and customers, kept by hand, by CSV import or through the API."""
import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services.events import access_event_record, audit_event_record
from audit.services.pseudonyms import pseudonym_for, pseudonyms_for_many
from automations.choices import MasterKind
from automations.execution.models.work import MasterRecord
from portal.history import stamp
from portal.permissions import require_perm

CSV_COLUMNS = ("number", "name", "vat_id", "iban", "email")


def _clean(kind: str, values: dict) -> dict:
    if kind not in MasterKind.values:
        raise ValidationError(_("Unknown kind of master data: %(k)s") % {"k": kind})
    cleaned = {name: str(values.get(name) or "").strip() for name in CSV_COLUMNS}
    cleaned["iban"] = cleaned["iban"].replace(" ", "").upper()
    cleaned["vat_id"] = cleaned["vat_id"].replace(" ", "").upper()
    if not cleaned["number"] or not cleaned["name"]:
        raise ValidationError(_("Number and name are required."))
    return cleaned


def _save(actor, tenant, kind: str, cleaned: dict, reason: str) -> tuple[MasterRecord, bool]:
    record = MasterRecord.objects.for_tenant(tenant).filter(kind=kind, number=cleaned["number"]).first()
    created = record is None
    record = record or MasterRecord(tenant=tenant, kind=kind, number=cleaned["number"])
    for name, value in cleaned.items():
        setattr(record, name, value)
    record.full_clean()
    stamp(record, actor=actor, reason=reason)
    record.save()
    return record, created


def master_record_save(*, actor, tenant, kind: str, number: str, name: str, vat_id: str = "", iban: str = "",
                       email: str = "", reason: str = "") -> MasterRecord:
    """Create or update the record with this number."""
    require_perm(actor, tenant, "automations.change_masterrecord")
    cleaned = _clean(kind, {"number": number, "name": name, "vat_id": vat_id, "iban": iban, "email": email})
    with transaction.atomic():
        record, created = _save(actor, tenant, kind, cleaned, reason or "edited")
        audit_event_record(actor=actor, tenant=tenant, event_type="master_record.changed", obj=record,
                           details={"kind": kind, "created": created,
                                    "number": pseudonym_for(tenant=tenant, kind=f"{kind}_number", identifier=number)})
    return record


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: message"


def master_records_import(*, actor, tenant, kind: str, data: bytes | str) -> ImportReport:
    """CSV with the columns number, name, vat_id, iban, email (comma or semicolon). Bad lines are
    reported with their line number and skipped; good lines are imported."""
    require_perm(actor, tenant, "automations.add_masterrecord")
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = {"number", "name"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(_("The CSV needs the columns %(c)s.") % {"c": ", ".join(CSV_COLUMNS)})
    report = ImportReport()
    with transaction.atomic():
        for line, row in enumerate(reader, start=2):
            try:
                with transaction.atomic():
                    _record, created = _save(actor, tenant, kind, _clean(kind, row), "CSV import")
            except ValidationError as exc:
                report.errors.append(_("line %(n)s: %(m)s") % {"n": line, "m": " ".join(exc.messages)})
                continue
            report.created += created
            report.updated += not created
        audit_event_record(actor=actor, tenant=tenant, event_type="master_record.imported",
                           details={"kind": kind, "created": report.created, "updated": report.updated,
                                    "errors": len(report.errors)})
    return report


def master_records_view_record(*, actor, tenant, records, purpose: str) -> None:
    """A person saw a page of master data (names, IBANs, e-mail addresses): one AccessEvent for the page,
    naming the records and, by their numbers, the people (pseudonyms found or created together)."""
    records = list(records)
    if not records:
        return
    kinds = {MasterKind.CUSTOMER: "customer_number", MasterKind.SUPPLIER: "supplier_number"}
    pairs = {(kinds[r.kind], r.number) for r in records if r.kind in kinds}
    subjects = sorted(set(pseudonyms_for_many(tenant=tenant, identifiers=pairs).values()))
    details = {"records": [r.pk for r in records], "kinds": sorted({r.kind for r in records})}
    if len(subjects) > 1:
        details["subjects"] = subjects[1:]
    access_event_record(actor=actor, tenant=tenant, purpose=purpose, event_type="master_data.viewed",
                        object_type="automations.masterrecord", subject_pseudonym=subjects[0] if subjects else "",
                        details=details)
