"""Bulk import of work items: the backlog of another system, or its nightly export, as JSON Lines — one
record a line, each what `POST /api/v1/work-items/` takes as JSON without the use case: `{"payload":
{...input fields...}, "external_id": "..."}`.

Records go in batches: per batch one transaction that writes the items and their queued runs in one
statement each (PostgreSQL `COPY`; a multi-row INSERT elsewhere) and one audit event naming every item of
the batch. After the commit one task sends the batch's runs to the workers; a run whose message is lost is
sent again by the reaper, as after any intake. A line that cannot be taken — not JSON, not an object,
unknown keys, a payload over its fields' limits — is not lost: it becomes an item in clarification that
keeps the line and says why, and the report names it."""
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.copy import QueuedLibpqWriter

from audit.actors import as_actor
from audit.services.events import audit_event_record
from audit.services.pseudonyms import payload_identifiers, pseudonyms_for_many
from automations.choices import ItemSource, ItemStatus, RunStatus, RunTrigger, UseCaseStatus
from automations.engines import limits
from automations.execution.models.work import Run, WorkItem
from automations.execution.services.intake import canonical_payload, content_hash_of, use_case_accepting
from automations.registry.models.use_cases import UseCase
from portal import dispatch
from portal.jobs import task_send_on_commit
from portal.permissions import require_perm
from portal.problems import MAX_JSON_DEPTH, json_refusal

BATCH_SIZE = 2000
RECORD_KEYS = frozenset({"payload", "external_id"})
UNREADABLE_KEEP_CHARS = 20_000  # of a line that is not a record: what a person needs to clarify it


@dataclass
class ItemImportReport:
    created: int = 0
    clarification: int = 0
    held: int = 0
    batches: int = 0
    problems: list[str] = field(default_factory=list)  # "Zeile 3: ...", one per line sent to clarification


@dataclass
class _Record:
    line: int
    payload: dict
    external_id: str = ""
    problem: str = ""


def work_items_import(*, actor, tenant, use_case_key: str, lines: Iterable[str],
                      batch_size: int = BATCH_SIZE) -> ItemImportReport:
    """Import JSON Lines into one use case; returns what was created and which lines need clarification."""
    actor = as_actor(actor)
    require_perm(actor, tenant, "automations.add_workitem")
    use_case = use_case_accepting(actor=actor, tenant=tenant, key=use_case_key)
    report = ItemImportReport()
    batch: list[_Record] = []
    field_limits = limits.field_limits(use_case)  # the use case's declarations read once, not per line
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append(_record(use_case, number, line, field_limits=field_limits))
        if len(batch) >= batch_size:
            _import_batch(actor, tenant, use_case, batch, report)
            batch = []
    if batch:
        _import_batch(actor, tenant, use_case, batch, report)
    return report


def _record(use_case: UseCase, number: int, line: str, *, field_limits: dict | None = None) -> _Record:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        return _Record(number, {"unreadable_line": line.replace("\x00", "")[:UNREADABLE_KEEP_CHARS]},
                       problem=_("not a JSON line (%(error)s)") % {"error": error})
    refusal = json_refusal(record) if _may_be_refused(line) else None
    if refusal:  # kept as the text it came as (a NUL escaped, never stored as one)
        return _Record(number, {"unreadable_line": line.replace("\x00", "")[:UNREADABLE_KEEP_CHARS]},
                       problem=refusal)
    if not isinstance(record, dict) or not isinstance(record.get("payload"), dict):
        return _Record(number, {"unreadable_line": line[:UNREADABLE_KEEP_CHARS]},
                       problem=_("a line must be an object with the input fields in \"payload\""))
    unknown = sorted(set(record) - RECORD_KEYS)
    external_id = record.get("external_id") or ""
    payload = record["payload"]
    if unknown:
        problem = _("unknown keys: %(keys)s") % {"keys": ", ".join(unknown)}
    elif not payload:
        problem = _("the payload is empty")
    elif not isinstance(external_id, str):
        problem = _("\"external_id\" must be text")
    else:
        problem = "; ".join(str(p) for p in limits.payload_problems(use_case, payload, limits=field_limits))
    return _Record(number, payload, external_id=str(external_id)[:200], problem=problem)


def _may_be_refused(line: str) -> bool:
    """Whether the parsed line needs json_refusal's walk: a NUL can only have come as the escape \\u0000 (JSON
    allows no raw control characters in strings), and nesting is never deeper than the line has brackets —
    so a line with neither is accepted without walking every value (a third of a record's parsing time)."""
    return "\\u0000" in line or line.count("{") + line.count("[") > MAX_JSON_DEPTH


def _import_batch(actor, tenant, use_case: UseCase, batch: list[_Record], report: ItemImportReport) -> None:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.RUN_DISPATCH_SECONDS)  # then the reaper sends a lost message
    arriving = ItemStatus.HELD if use_case.status == UseCaseStatus.SUSPENDED else ItemStatus.RECEIVED
    common = {"tenant_id": tenant.pk, "use_case_id": use_case.pk, "source": ItemSource.IMPORT,
              "created_by_id": actor.user.pk if actor.user else None, "created_at": now, "updated_at": now}
    items, runs, unclear, people, ids = [], [], [], set(), hashlib.sha256()
    for record in batch:
        item_id = uuid.uuid4()
        ids.update(item_id.bytes)
        reasons = []
        if record.problem:
            reasons = [_("Line %(line)s of the import: %(problem)s") % {"line": record.line, "problem": record.problem}]
            unclear.append(item_id)
        else:
            people |= payload_identifiers(use_case=use_case, payload=record.payload)
        status = ItemStatus.CLARIFICATION if record.problem else arriving
        # The payload is encoded once: its canonical text is hashed and is what COPY writes.
        canonical = canonical_payload(record.payload)
        items.append({**common, "id": item_id, "external_id": record.external_id, "payload": JsonText(canonical),
                      "content_hash": content_hash_of(use_case, record.payload, [], canonical=canonical),
                      "status": status, "reasons": reasons or NO_REASONS})
        if status == ItemStatus.RECEIVED:
            runs.append({"tenant_id": tenant.pk, "item_id": item_id, "trigger": RunTrigger.INTAKE,
                         "status": RunStatus.QUEUED, "lease_expires_at": lease, "created_at": now})
        report.problems += reasons
    held = len(items) - len(unclear) if arriving == ItemStatus.HELD else 0
    subjects = set(pseudonyms_for_many(tenant=tenant, identifiers=people).values())  # the batch's people at once
    with transaction.atomic():
        _insert(WorkItem, items)
        _insert(Run, runs)
        audit_event_record(actor=actor, tenant=tenant, event_type="work_items.imported", obj=use_case, details={
            "use_case": use_case.key, "source": ItemSource.IMPORT, "lines": [batch[0].line, batch[-1].line],
            "items": [str(item["id"]) for item in items], "items_sha256": ids.hexdigest(),
            "received": len(runs), "held": held, "clarification": len(unclear), "subjects": sorted(subjects)})
        for item in WorkItem.objects.filter(pk__in=unclear).select_related("use_case", "tenant"):
            dispatch.emit("work_item.routed", item=item, outcome=ItemStatus.CLARIFICATION, reasons=item.reasons)
        if runs:  # the reaper sends them if this message is lost
            task_send_on_commit("automations.send_runs", [str(run["item_id"]) for run in runs], on_unsent=lambda: None)
    report.batches += 1
    report.created += len(items)
    report.held += held
    report.clarification += len(unclear)


class JsonText(str):
    """A JSON value already encoded (a record's canonical payload): written to a JSON column as it is."""


NO_REASONS = JsonText("[]")  # the reasons of every item that came in clean, encoded once


def _insert(model, rows: list[dict]) -> None:
    """New rows (dicts of attribute names; the model's defaults for the rest) in one statement: COPY on
    PostgreSQL (the fastest way in), else a multi-row INSERT. No model instance is built per row on
    PostgreSQL: at tens of thousands of rows a second that is where the time would go."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**{name: json.loads(value) if isinstance(value, JsonText) else value
                                            for name, value in row.items()}) for row in rows])
        return
    given = rows[0].keys()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
    # A row's values start as the defaults (prepared once); the given columns are filled in per row.
    template: list[Any] = []
    given_at: list[tuple[int, str, bool]] = []  # (column, the row's key, is JSON)
    for column, f in enumerate(fields):
        is_json = isinstance(f, models.JSONField)
        if f.attname in given:
            template.append(None)
            given_at.append((column, f.attname, is_json))
        else:
            default = f.get_default()
            template.append(json.dumps(default) if is_json else default)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        # The queued writer sends the rows from a thread of its own while this one formats the next: the server
        # takes them in as they are written, instead of after each buffer the client filled.
        statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
        with cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
            for row in rows:
                values = template.copy()
                for column, name, is_json in given_at:
                    value = row[name]
                    values[column] = json.dumps(value) if is_json and not isinstance(value, JsonText) else value
                copy.write_row(values)
