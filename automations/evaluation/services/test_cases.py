"""Test cases of a use case: created by hand, imported (CSV, JSON Lines, or a zip of files with such a list),
or taken from an item a clerk reviewed. Every write historised with the acting person and a reason, audited in
its transaction. An import never loses a row silently: a bad row is reported with its line and why."""
import io
import json
import zipfile
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.selectors.pseudonyms import work_item_identifiers
from audit.services.events import access_event_record, audit_event_record
from audit.services.pseudonyms import pseudonyms_for_many
from automations.choices import ItemStatus
from automations.evaluation.choices import CaseSource, CaseTag
from automations.evaluation.models import QualityTestCase
from automations.evaluation.selectors import quality_test_case_of_item
from automations.training.services import read_rows
from portal.history import stamp
from portal.permissions import require_perm

MAX_ZIP_MEMBERS = 2000
SPECIAL_COLUMNS = ("title", "text", "file", "tags")
EXPECTED_PREFIX, INPUT_PREFIX = "expected.", "input."


def _clean(use_case, *, title: str, text: str, payload: dict, expected: dict, tags, has_file: bool) -> dict:
    """The values checked against the use case's field schema; a ValidationError names every problem."""
    problems = []
    inputs = {f["name"] for f in use_case.input_fields}
    outputs = {f["name"] for f in use_case.output_fields}
    payload = {k: v for k, v in (payload or {}).items() if v not in (None, "")}
    expected = {k: v for k, v in (expected or {}).items() if v is not None}
    if not isinstance(payload, dict) or set(payload) - inputs:
        problems.append(_("Not input fields of this use case: %(f)s") % {"f": ", ".join(sorted(set(payload) - inputs))})
    if set(expected) - outputs:
        problems.append(_("Not output fields of this use case: %(f)s")
                        % {"f": ", ".join(sorted(set(expected) - outputs))})
    if not expected:
        problems.append(_("Name the expected value of at least one output field."))
    for spec in use_case.output_fields:
        value = expected.get(spec["name"])
        if spec.get("type") == "category" and spec.get("choices") and value not in (None, "") \
                and str(value) not in spec["choices"]:
            problems.append(_("%(f)s: “%(v)s” is not one of the allowed values (%(c)s).")
                            % {"f": spec["name"], "v": value, "c": ", ".join(spec["choices"])})
    if not (text or "").strip() and not payload and not has_file:
        problems.append(_("Give the input: a text, a file or input fields."))
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace("|", ",").split(",") if t.strip()]
    tags = list(dict.fromkeys(tags or []))
    if set(tags) - set(CaseTag.values):
        problems.append(_("Unknown tags: %(t)s (allowed: %(a)s)")
                        % {"t": ", ".join(sorted(set(tags) - set(CaseTag.values))), "a": ", ".join(CaseTag.values)})
    if problems:
        raise ValidationError(problems)
    return {"title": (title or "").strip()[:200], "text": text or "", "payload": payload,
            "expected": {k: (v if isinstance(v, bool | int | float) else str(v)) for k, v in expected.items()},
            "tags": tags or [CaseTag.TYPICAL]}


def _store_file(case: QualityTestCase, name: str, content: bytes) -> None:
    if len(content) > settings.UPLOAD_MAX_FILE_BYTES:
        raise ValidationError(_("%(name)s is larger than %(limit)s MB.")
                              % {"name": name, "limit": settings.UPLOAD_MAX_FILE_BYTES // (1024 * 1024)})
    case.file_name = name[:255]
    case.file.save(name, ContentFile(content), save=False)


def test_case_create(*, actor, use_case, expected: dict, title: str = "", text: str = "", payload: dict | None = None,
                     file_name: str = "", file_content: bytes | None = None, tags=None,
                     source: str = CaseSource.MANUAL, source_ref: str = "", item=None,
                     reason: str = "") -> QualityTestCase:
    actor = as_actor(actor)
    require_perm(actor, use_case.tenant, "automations.add_qualitytestcase")
    values = _clean(use_case, title=title, text=text, payload=payload or {}, expected=expected, tags=tags,
                    has_file=file_content is not None)
    with transaction.atomic():
        case = QualityTestCase(tenant=use_case.tenant, use_case=use_case, source=source, source_ref=source_ref[:200],
                               item=item, created_by=actor.user, **values)
        if not case.title:
            first_input = next((str(v) for v in values["payload"].values() if str(v).strip()), "")
            case.title = ((values["text"] or first_input).strip().splitlines()
                          or [file_name or _("Test case")])[0][:200]
        if file_content is not None:
            _store_file(case, file_name or "input", file_content)
        stamp(case, actor=actor, reason=reason or _("created"))
        case.save()
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="test_case.created", obj=case,
                           details={"use_case": use_case.key, "source": source, "fields": sorted(values["expected"]),
                                    "tags": values["tags"]})
    return case


def test_case_update(*, actor, test_case: QualityTestCase, reason: str, **changes) -> QualityTestCase:
    """Edit a case in place: the earlier version stays in its history and in the evaluations that ran it."""
    actor = as_actor(actor)
    require_perm(actor, test_case.tenant, "automations.change_qualitytestcase")
    if not reason.strip():
        raise ValidationError(_("Say why the test case changes."))
    current = {name: getattr(test_case, name) for name in ("title", "text", "payload", "expected", "tags")}
    values = _clean(test_case.use_case, **{**current, **{k: v for k, v in changes.items() if k in current}},
                    has_file=bool(test_case.file))
    with transaction.atomic():
        case = QualityTestCase.objects.select_for_update().get(pk=test_case.pk)
        changed = sorted(name for name, value in values.items() if getattr(case, name) != value)
        for name, value in values.items():
            setattr(case, name, value)
        stamp(case, actor=actor, reason=reason)
        case.save()
        audit_event_record(actor=actor, tenant=case.tenant, event_type="test_case.updated", obj=case,
                           details={"use_case": case.use_case.key, "changed": changed})
    return case


def test_case_retire(*, actor, test_case: QualityTestCase, reason: str) -> QualityTestCase:
    actor = as_actor(actor)
    require_perm(actor, test_case.tenant, "automations.change_qualitytestcase")
    if not reason.strip():
        raise ValidationError(_("Say why the test case is retired."))
    with transaction.atomic():
        case = QualityTestCase.objects.select_for_update().get(pk=test_case.pk)
        case.is_active = False
        stamp(case, actor=actor, reason=reason)
        case.save(update_fields=["is_active"])
        audit_event_record(actor=actor, tenant=case.tenant, event_type="test_case.retired", obj=case,
                           details={"use_case": case.use_case.key})
    return case


# --- taken from a reviewed item ----------------------------------------------------------------------------

def test_case_from_item(*, actor, item, tags=None) -> QualityTestCase:
    """One click on a reviewed item: its input (fields and first file) and the values a clerk decided as the
    expected output."""
    if item.is_dry_run or item.status != ItemStatus.APPLIED:
        raise ValidationError(_("Only an item that a clerk reviewed and applied becomes a test case."))
    decision = item.review_decisions.filter(action__in=("approve", "correct")).order_by("-created_at").first()
    if decision is None:
        raise ValidationError(_("Only an item that a clerk reviewed and applied becomes a test case."))
    existing = quality_test_case_of_item(item=item)
    if existing is not None:
        raise ValidationError(_("This item is already test case T%(n)s.") % {"n": existing.pk})
    outputs = {f["name"] for f in item.use_case.output_fields}
    values = {name: (data or {}).get("value") for name, data in (item.fields or {}).items() if name in outputs}
    values.update({k: v for k, v in (decision.final_fields or {}).items() if k in outputs})
    expected = {k: v for k, v in values.items() if v not in (None, "")}
    first = item.files.order_by("pk").first()
    content = None
    if first is not None:
        with first.file.open("rb") as fh:
            content = fh.read()
    return test_case_create(
        actor=actor, use_case=item.use_case, expected=expected, payload=dict(item.payload or {}),
        file_name=first.name if first else "", file_content=content, tags=tags,
        title=_("From item %(id)s") % {"id": str(item.pk)[:8]}, source=CaseSource.REVIEWED_ITEM,
        source_ref=str(item.pk), item=item, reason=_("taken from a reviewed item"))


# --- import --------------------------------------------------------------------------------------------------

@dataclass
class CaseImportReport:
    rows: int = 0
    created: list[int] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    unused_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "created": len(self.created), "test_cases": self.created,
                "bad": [{"line": where, "error": why} for where, why in self.bad], "unused_files": self.unused_files}


def _row_values(use_case, values: dict) -> dict:
    """A CSV row or JSON line as test case values. JSON: {"title", "text", "input": {...}, "expected": {...},
    "tags", "file"}. CSV (or flat JSON): title, text, file, tags; a column named like an input field (or
    `input.NAME`) is input, like an output field (or `expected.NAME`) the expected value; any other column is
    an error."""
    inputs = {f["name"] for f in use_case.input_fields}
    outputs = {f["name"] for f in use_case.output_fields}
    payload = dict(values.get("input") or {}) if isinstance(values.get("input"), dict) else {}
    expected = dict(values.get("expected") or {}) if isinstance(values.get("expected"), dict) else {}
    unknown = []
    for column, value in values.items():
        if column in SPECIAL_COLUMNS or column in ("input", "expected"):
            continue
        if column.startswith(EXPECTED_PREFIX) and column[len(EXPECTED_PREFIX):] in outputs:
            expected[column[len(EXPECTED_PREFIX):]] = value
        elif column.startswith(INPUT_PREFIX) and column[len(INPUT_PREFIX):] in inputs:
            payload[column[len(INPUT_PREFIX):]] = value
        elif column in outputs:
            expected[column] = value
        elif column in inputs:
            payload[column] = value
        else:
            unknown.append(column)
    if unknown:
        raise ValidationError(_("Unknown columns (neither input nor output fields): %(c)s")
                              % {"c": ", ".join(sorted(unknown))})
    expected = {k: v for k, v in expected.items() if v not in (None, "")}
    return {"title": str(values.get("title") or ""), "text": str(values.get("text") or ""), "payload": payload,
            "expected": expected, "tags": values.get("tags") or [], "file": str(values.get("file") or "").strip()}


def _zip_contents(data: bytes) -> tuple[str, bytes, dict[str, bytes]]:
    """(name and content of the list of cases, the other files by name) from a zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValidationError(_("The zip file cannot be read: %(e)s") % {"e": exc}) from None
    members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith(("__MACOSX/", "."))]
    if len(members) > MAX_ZIP_MEMBERS:
        raise ValidationError(_("The zip file holds more than %(n)s files.") % {"n": MAX_ZIP_MEMBERS})
    lists = [m for m in members if m.filename.lower().endswith((".csv", ".jsonl", ".ndjson"))]
    if len(lists) != 1:
        raise ValidationError(_("A zip of test cases holds exactly one list of cases (CSV or JSON Lines) beside the "
                                "files it names; found %(n)s.") % {"n": len(lists)})
    files = {}
    for member in members:
        if member.file_size > settings.UPLOAD_MAX_FILE_BYTES:
            raise ValidationError(_("%(name)s in the zip is larger than %(limit)s MB.")
                                  % {"name": member.filename,
                                     "limit": settings.UPLOAD_MAX_FILE_BYTES // (1024 * 1024)})
        if member is not lists[0]:
            files[member.filename] = archive.read(member)
    return lists[0].filename, archive.read(lists[0]), files


def test_cases_import(*, actor, use_case, data: bytes, name: str) -> CaseImportReport:
    """Import test cases from CSV, JSON Lines or a zip (one such list plus the files its `file` column names).
    Good rows become test cases; each bad row is reported with its line and why, nothing is dropped silently."""
    actor = as_actor(actor)
    require_perm(actor, use_case.tenant, "automations.add_qualitytestcase")
    files: dict[str, bytes] = {}
    list_name = name
    if name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
        list_name, data, files = _zip_contents(data)
    _header, rows = read_rows(data, name=list_name)
    report = CaseImportReport()
    used: set[str] = set()
    for row in rows:
        report.rows += 1
        where = f"{list_name}:{row.line}"
        if row.values is None:
            report.bad.append((where, row.error))
            continue
        try:
            values = _row_values(use_case, row.values)
            file_name = values.pop("file")
            content = None
            if file_name:
                if file_name not in files:
                    raise ValidationError(_("The file %(f)s is not in the upload.") % {"f": file_name})
                content = files[file_name]
                used.add(file_name)
            case = test_case_create(actor=actor, use_case=use_case, file_name=file_name, file_content=content,
                                    source=CaseSource.IMPORT, source_ref=where, reason=_("imported from %(n)s")
                                    % {"n": name}, **values)
        except ValidationError as exc:
            report.bad.append((where, " ".join(exc.messages)))
            continue
        report.created.append(case.pk)
    report.unused_files = sorted(set(files) - used)
    if report.rows == 0:
        raise ValidationError(_("The file holds no test case."))
    with transaction.atomic():
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="test_cases.imported", obj=use_case,
                           details={"use_case": use_case.key, "rows": report.rows, "created": len(report.created),
                                    "bad": len(report.bad), "unused_files": len(report.unused_files)})
    return report


def expected_from_json(text: str) -> dict:
    """The expected output typed as JSON in a form."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationError(_("Not valid JSON: %(e)s") % {"e": exc.msg}) from None
    if not isinstance(value, dict):
        raise ValidationError(_("A JSON object is expected."))
    return value


def test_cases_view_record(*, actor, use_case, cases, purpose: str) -> None:
    """A person saw the inputs of test cases (text, fields, a file's name) of a use case with personal data —
    a case taken from a reviewed item holds that item's input: one access event for the page, naming the
    cases and, through the fields that identify people, the people (pseudonyms found or created together)."""
    cases = list(cases)
    if not cases or not use_case.processes_personal_data:
        return
    # Shaped like an item for the identifier reader: the input fields and the expected output values.
    _shown_record(actor=actor, use_case=use_case, purpose=purpose, object_type="automations.qualitytestcase",
                  ids=[case.pk for case in cases], shaped=[(case.payload, case.expected) for case in cases])


def test_cases_page_view_record(*, actor, cases, purpose: str) -> None:
    """Test cases of several use cases on one page (the API's list): one access event per use case with
    personal data among them."""
    by_use_case: dict[int, tuple] = {}
    for case in cases:
        by_use_case.setdefault(case.use_case_id, (case.use_case, []))[1].append(case)
    for use_case, shown in by_use_case.values():
        test_cases_view_record(actor=actor, use_case=use_case, cases=shown, purpose=purpose)


def evaluation_results_view_record(*, actor, evaluation, results, purpose: str) -> None:
    """A person saw the failing cases of an evaluation (expected and suggested values side by side, the
    reasons) of a use case with personal data: one access event for the page, naming the results, their
    evaluation and, through the fields that identify people — the shown values and the input of the case each
    result is of — the people."""
    results = list(results)
    use_case = evaluation.use_case
    if not results or not use_case.processes_personal_data:
        return
    inputs = dict(QualityTestCase.objects.for_tenant(use_case.tenant_id).filter(
        pk__in={r.test_case_id for r in results if r.test_case_id}).values_list("pk", "payload"))
    shaped = []
    for result in results:
        suggested = {name: (got or {}).get("value") for name, got in (result.predicted or {}).items()}
        shaped += [(inputs.get(result.test_case_id), result.expected), (None, suggested)]
    _shown_record(actor=actor, use_case=use_case, purpose=purpose, object_type="automations.evaluationresult",
                  ids=[result.pk for result in results], shaped=shaped, evaluation=str(evaluation.pk))


def _shown_record(*, actor, use_case, purpose: str, object_type: str, ids, shaped, **extra) -> None:
    """One access event for a page of rows shaped like items ((input fields, output values) pairs): the rows'
    ids and the people their fields identify (pseudonyms found or created together)."""
    pairs: set[tuple[str, str]] = set()
    for payload, values in shaped:
        item = SimpleNamespace(use_case=use_case, payload=payload or {},
                               fields={name: {"value": value} for name, value in (values or {}).items()})
        pairs.update(work_item_identifiers(item))
    subjects = sorted(set(pseudonyms_for_many(tenant=use_case.tenant, identifiers=pairs).values()))
    details: dict = {"ids": [str(pk) for pk in ids], "use_case": use_case.key, **extra}
    if len(subjects) > 1:
        details["subjects"] = subjects[1:]
    access_event_record(actor=actor, tenant=use_case.tenant, purpose=purpose, event_type="personal_data.viewed",
                        object_type=object_type, subject_pseudonym=subjects[0] if subjects else "", details=details)
