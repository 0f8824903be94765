"""Writing to the audit log. Every service of the portal calls audit_event_record() inside its own
transaction, as its last write, so that the per-chain lock is held only until commit."""
import json
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, connections, router, transaction
from django.db.models import ForeignKey, Model
from django.utils import timezone

from audit import registry, sequencer
from audit.actors import Actor, as_actor
from audit.chain import CURRENT_VERSION, compute_hash
from audit.models import GENESIS_HASH, AccessEvent, AuditEvent, SubjectReference, VerificationRun
from audit.selectors.pseudonyms import PSEUDONYM_PATTERN
from audit.services.checkpoints import verification_inputs
from audit.streams import ACCESS, AUDIT, Stream
from audit.verification import audit_verify
from portal.db.prepared import prepared_cursor
from portal.db.writes import Update, write_together
from portal.jobs import task_send_on_commit

logger = logging.getLogger(__name__)

# Details carry pseudonyms, ids and codes, never raw identifiers of people. Both patterns take time linear
# in the details' length: an address is looked for only where a run of its characters begins.
_RAW_PERSONAL_DATA = [
    ("e-mail address", re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++\.[\w.-]+")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")),
]


class RawPersonalDataInAudit(ValueError):
    pass


def _object_ref(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return f"{obj._meta.app_label}.{obj._meta.model_name}", str(obj.pk)


def audit_event_record(
    *,
    actor: Actor | Any,
    tenant,
    event_type: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    details: dict | None = None,
    write_with: Sequence[Model | Update] = (),
) -> AuditEvent:
    """Append one event to the tenant's chain (or the system chain for tenant=None).

    Runs inside the caller's transaction (or opens one): the event commits or rolls back with the
    change it describes. Appends to one chain are serialised by a row lock on its head.

    `write_with`: the change itself — new rows, not saved yet, and fields of saved rows (`Update`) — written ahead
    of the event in the same statement (PostgreSQL: the change and its event cost one round trip;
    portal.db.writes)."""
    return chain_append_many(stream=AUDIT, actor=actor, tenant=tenant, write_with=write_with, entries=[
        AuditEntry(event_type, obj=obj, details=details, object_type=object_type, object_id=object_id)])[0]


def audit_links_after_commit(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether events are linked into their chain after the writing transaction commits (the sequencer on
    PostgreSQL, AUDIT_SEQUENCER "on_commit"): then writing an event takes one INSERT and nothing else, and a
    change that is one statement with its event needs no transaction of its own."""
    return connections[using].vendor == "postgresql" and settings.AUDIT_SEQUENCER == "on_commit"


def access_event_record(
    *,
    actor: Actor | Any,
    tenant,
    purpose: str,
    subject_pseudonym: str = "",
    obj: Any = None,
    event_type: str = "personal_data.viewed",
    details: dict | None = None,
    object_type: str = "",
) -> AccessEvent:
    """Record that someone opened personal data: whose (a pseudonym from audit.services.pseudonyms), which record
    (obj) and why (purpose, a short code or text such as "review"). Call it in the request that shows the
    data; it appends to the tenant's access chain. In a transaction that also records audit events,
    record those first (heads are always locked audit first, then access)."""
    if not str(purpose or "").strip():
        raise ValueError("An access event needs its purpose.")
    details = {**(details or {}), "purpose": str(purpose).strip()[:200]}
    if subject_pseudonym:
        details["subject"] = subject_pseudonym
    return chain_append(stream=ACCESS, actor=actor, tenant=tenant, event_type=event_type, obj=obj,
                        object_type=object_type, details=details)


class AuditEntry(NamedTuple):
    """One event of several recorded together (audit_events_record)."""

    event_type: str
    obj: Any = None
    details: dict | None = None
    object_type: str = ""
    object_id: str = ""


def audit_events_record(*, actor: Actor | Any, tenant, events: Sequence[AuditEntry],
                        write_with: Sequence[Model | Update] = ()) -> list[AuditEvent]:
    """Append several events of one actor to the tenant's chain (or the system chain), in this order, inside
    the caller's transaction like audit_event_record — on PostgreSQL with one INSERT for all of them, in one
    statement with the change `write_with` (as audit_event_record's)."""
    return chain_append_many(stream=AUDIT, actor=actor, tenant=tenant, entries=events, write_with=write_with)


def chain_append(*, stream: Stream, actor, tenant, event_type: str, obj: Any = None, object_type: str = "",
                 object_id: str = "", details: dict | None = None):
    """Append one event to a chain of `stream`; the one place where events are written (chain_append_many
    for several)."""
    return chain_append_many(stream=stream, actor=actor, tenant=tenant, entries=[
        AuditEntry(event_type, obj=obj, details=details, object_type=object_type, object_id=object_id)])[0]


def chain_append_many(*, stream: Stream, actor, tenant, entries: Sequence[AuditEntry],
                      write_with: Sequence[Model | Update] = ()) -> list:
    """Append events to a chain of `stream`, in the order given (after the change `write_with`, in the same
    statement on PostgreSQL).

    PostgreSQL: one INSERT of pending events (no chain lock); the sequencer links them right after the
    transaction commits (AUDIT_SEQUENCER "on_commit"), or at once, under the chain lock until commit
    ("inline"). SQLite: linked here one by one, under the chain head's lock (hash version 1)."""
    actor = as_actor(actor)
    chain = stream.chain_key(tenant)
    actor_kind, actor_user_id, actor_token_id = actor.kind, actor.user_id, getattr(actor.token, "pk", None)
    rows = []
    for entry in entries:
        registry.get(entry.event_type)
        details_text = _check_details(entry.details or {})
        object_type, object_id = entry.object_type, entry.object_id
        if entry.obj is not None:
            object_type, object_id = _object_ref(entry.obj)
        rows.append({
            "chain": chain,
            "occurred_at": timezone.now(),
            "actor_kind": actor_kind,
            "actor_user_id": actor_user_id,
            "actor_token_id": actor_token_id,
            "event_type": entry.event_type,
            "object_type": object_type,
            "object_id": str(object_id),
            "details": details_text,
        })
    using = router.db_for_write(stream.event_model)
    if connections[using].vendor == "postgresql":
        return _append_pending(stream, tenant, chain, rows, using, write_with)
    write_together(write_with, using=using)
    return [_append_linked(stream, tenant, _parsed(values)) for values in rows]


def _parsed(values: dict) -> dict:
    """An event's values with its details as the JSON value again."""
    return {**values, "details": json.loads(values["details"])}


def _check_details(details: dict) -> str:
    """Refuse details that name a person directly; return them as the JSON text that is stored (values JSON
    cannot hold written as text)."""
    text = json.dumps(details, ensure_ascii=False, default=str)
    for label, pattern in _RAW_PERSONAL_DATA:
        if pattern.search(text):
            raise RawPersonalDataInAudit(
                f"Audit details must not contain a raw {label}; pass a pseudonym (audit.services.pseudonyms)."
            )
    return text


# The columns an appended event fills: all but its id and what the sequencer fills in (empty while pending).
_LINK_FIELDS = ("sequence", "prev_hash", "hash")


class _PendingInsert:
    """The INSERT of pending events into one stream's table, built once per process from the model's fields:
    each event costs its parameters, not the ORM's compilation of an INSERT (model instances, field
    conversions, SQL text), and on PostgreSQL it is prepared on the server once per connection (the values bound
    there: no quoting in Python, no parsing and planning per event). The values are those Django would send: the
    same columns, the details as JSON text, the timestamp as an aware datetime; the rows come back as model
    instances, as bulk_create returns them."""

    def __init__(self, model: type[Model], connection):
        meta = model._meta
        quote = connection.ops.quote_name
        self.model, self.fields = model, [f for f in meta.concrete_fields
                                          if f is not meta.pk and f.attname not in _LINK_FIELDS]
        self.names = [f.attname for f in meta.concrete_fields]
        self.head = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in self.fields)}) "
                     "VALUES ")
        self.row = "(" + ", ".join("%s::jsonb" if f.attname == "details" else "%s" for f in self.fields) + ")"
        self.tail = f" RETURNING {quote(meta.pk.column)}"
        self.tenant_field = cast(ForeignKey, meta.get_field("tenant"))

    def write(self, tenant, rows: list[dict], using: str, cursor) -> list:
        fixed = {"tenant_id": getattr(tenant, "pk", None), "hash_version": CURRENT_VERSION}
        filled = [{**fixed, **values} for values in rows]
        params = [values[f.attname] for values in filled for f in self.fields]
        cursor.execute(self.head + ", ".join([self.row] * len(rows)) + self.tail, params)
        ids = [row[0] for row in cursor.fetchall()]
        events = []
        for pk, values in zip(ids, filled, strict=True):
            values = {**_parsed(values), "id": pk, "sequence": None, "prev_hash": None, "hash": None}
            event = self.model.from_db(using, self.names, [values[name] for name in self.names])
            if tenant is not None:
                self.tenant_field.set_cached_value(event, tenant)
            events.append(event)
        return events


_pending_inserts: dict[tuple[type[Model], str], _PendingInsert] = {}


def _pending_insert(model: type[Model], using: str) -> _PendingInsert:
    statement = _pending_inserts.get((model, using))
    if statement is None:
        statement = _pending_inserts[model, using] = _PendingInsert(model, connections[using])
    return statement


def _append_pending(stream: Stream, tenant, chain: str, rows: list[dict], using: str,
                    write_with: Sequence[Model | Update] = ()) -> list:
    if write_with:  # the change and the events in one statement (portal.db.writes)
        events = [stream.event_model(tenant=tenant, sequence=None, prev_hash=None, hash=None,
                                     hash_version=CURRENT_VERSION, **_parsed(values)) for values in rows]
        write_together([*write_with, *events], using=using)
    else:
        with prepared_cursor(using) as cursor:  # one INSERT of every row, prepared on the server
            events = _pending_insert(stream.event_model, using).write(tenant, rows, using, cursor)
    table = stream.event_model._meta.db_table
    if settings.AUDIT_SEQUENCER == "inline":
        mine = {event.pk: event for event in events}
        for event_id, sequence, prev_hash, digest in sequencer.sequence_chain_inline(table, chain, using=using):
            if event_id in mine:
                mine[event_id].sequence, mine[event_id].prev_hash, mine[event_id].hash = sequence, prev_hash, digest
    else:
        _sequence_on_commit(table, chain, using)
    return events


class _SequenceDue:
    """The on-commit call that links a chain's pending events (once per chain and transaction)."""

    def __init__(self, table: str, chain: str, using: str):
        self.table, self.chain, self.using = table, chain, using

    def __eq__(self, other) -> bool:
        return isinstance(other, _SequenceDue) and (self.table, self.chain, self.using) == (
            other.table, other.chain, other.using)

    def __hash__(self) -> int:
        return hash((self.table, self.chain, self.using))

    def __call__(self) -> None:
        delay = settings.AUDIT_SEQUENCE_DELAY_SECONDS
        if delay > 0:
            _background.schedule(self, delay)
        else:
            self.link()

    def link(self) -> None:
        try:
            sequencer.sequence_chain(self.table, self.chain, using=self.using)
        except DatabaseError:
            # The events are committed and pending; the maintenance sweep links them (audit.sequence_pending).
            logger.warning("Audit events of chain %s stay pending until the next sweep.", self.chain, exc_info=True)


class _BackgroundSequencer:
    """With AUDIT_SEQUENCE_DELAY_SECONDS > 0: one thread per process links the chains its writers committed to,
    at most that long after the first commit of a round, all of them together — one sequencer transaction per
    chain and round instead of one per writing transaction. A process that dies with a round due leaves its
    events pending for the sweep."""

    IDLE_SECONDS = 1.0

    def __init__(self):
        self.lock = threading.Lock()
        self.due: set[_SequenceDue] = set()
        self.wake = threading.Event()
        self.pid = None

    def schedule(self, due: _SequenceDue, delay: float) -> None:
        with self.lock:
            self.due.add(due)
            if self.pid != os.getpid():  # first use in this process (also after a fork)
                self.pid = os.getpid()
                threading.Thread(target=self._loop, args=(delay,), name="audit-sequencer", daemon=True).start()
        self.wake.set()

    def _loop(self, delay: float) -> None:
        while True:
            if not self.wake.wait(self.IDLE_SECONDS):
                connections.close_all()  # no commit asked for a round in a while: no connection stays open idle
                self.wake.wait()
            time.sleep(delay)
            with self.lock:
                self.wake.clear()
                due, self.due = self.due, set()
            # This thread's own connection lives across rounds as a request's does (CONN_MAX_AGE, checked before
            # use, closed after an error): a new server process per round would compile the sequencing function
            # and plan its statements afresh each time, which costs more than linking the round's events.
            close_old_connections()
            for item in sorted(due, key=lambda d: (d.using, d.table, d.chain)):
                item.link()
            close_old_connections()


_background = _BackgroundSequencer()


def _sequence_on_commit(table: str, chain: str, using: str) -> None:
    due = _SequenceDue(table, chain, using)
    # Django keeps (savepoint ids, callback, robust) per callback; the stubs know only two of them.
    pending = connections[using].run_on_commit
    if not any(entry[1] == due for entry in pending):
        transaction.on_commit(due, using=using)


def audit_sequence_pending(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Link every pending event of every chain (the sweep after a writer stopped between its commit and
    linking its events; also run before verification and signing). Returns how many it linked."""
    return sequencer.sequence_all_pending(using=using)


def _append_linked(stream: Stream, tenant, values: dict):
    with transaction.atomic():
        chain = values["chain"]
        stream.head_model.objects.bulk_create(
            [stream.head_model(chain=chain, sequence=0, hash=GENESIS_HASH)], ignore_conflicts=True
        )
        head = stream.head_model.objects.select_for_update().get(chain=chain)
        values = {**values, "sequence": head.sequence + 1, "prev_hash": head.hash}
        event = stream.event_model.objects.create(tenant=tenant, hash=compute_hash(values, 1), hash_version=1,
                                                  **values)
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
        if tenant is not None:
            _index_subjects(stream, tenant, event)
    return event


def _index_subjects(stream: Stream, tenant, event) -> None:
    found = sorted(set(PSEUDONYM_PATTERN.findall(json.dumps(event.details))))
    if found:
        SubjectReference.objects.bulk_create([
            SubjectReference(stream=stream.key, tenant=tenant, chain=event.chain, sequence=event.sequence,
                             pseudonym=pseudonym)
            for pseudonym in found
        ])


def audit_verification_start(*, actor, tenant) -> None:
    """Verify a tenant's chains now, in a worker (it reads every event), once the request's transaction has
    committed; the run is kept as a VerificationRun like a scheduled one."""
    task_send_on_commit("audit.verify_chains", as_actor(actor).user.pk, tenant.pk)


def audit_verification_run(*, trigger: str, actor, tenant=None):
    """Verify the chains (all, or one tenant's) against the newest signed checkpoints and anchors, and keep
    the result as a VerificationRun (the DSB area shows the last one). Returns (run, result, problems),
    problems being checkpoint files that were ignored."""
    user = as_actor(actor).user
    started_at = timezone.now()
    audit_sequence_pending()  # events committed but not yet linked are linked first, not reported missing
    problems: list = []
    checkpoints, anchors = verification_inputs(problems)
    result = audit_verify(tenant=tenant, checkpoints=checkpoints, anchors=anchors)
    results = [{"chain": chain.chain, "label": chain.label, "stream": chain.stream, "events": chain.events,
                "ok": chain.ok, "line": chain.line, "lines": chain.lines, "failures": chain.failure_count,
                "checkpoint": chain.checkpoint, "anchor": chain.anchor} for chain in result.chains]
    # Written once, when it is done: verification runs are append-only like the chains they judge.
    run = VerificationRun.objects.create(trigger=trigger, actor=user, tenant=tenant, started_at=started_at,
                                         finished_at=timezone.now(), ok=result.ok and not problems, results=results)
    return run, result, problems
