"""Runs: dispatch on commit, execute the steps, route in one short transaction, retry with backoff,
escalate after the last attempt. A lease on every run lets the reaper recover work that a crashed
worker (or the embedded broker) lost."""
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, Func, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import BaseExpression
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from audit.services.events import AuditEntry, audit_event_record, audit_events_record
from automations.choices import (
    FINAL_ITEM_STATUSES,
    ItemStatus,
    Label,
    RunStatus,
    RunTrigger,
    StepStatus,
    UseCaseStatus,
)
from automations.engines.base import EngineInput, InputFile
from automations.execution.models.work import Run, StepRun, Suggestion, WorkItem, WorkItemFile
from automations.execution.pipeline.context import PipelineContext, StepError, StopPipeline
from automations.execution.pipeline.steps import PREPARE_STEPS
from automations.execution.selectors import master_record_find, work_item_duplicates_of
from automations.execution.services.engine_services import EngineServicesForItem
from automations.execution.services.escalations import escalation_create
from automations.fields import field_label
from automations.quality.models import QualityBreaker
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import Release
from automations.registry.selectors import (
    active_release_label,
    active_release_labels_of,
    delivery_connectors_of,
    tenant_policy_value_of,
)
from portal import dispatch
from portal.db.prepared import PreparedQuery
from portal.db.writes import Update, write_together
from portal.jobs import task_send_on_commit

logger = logging.getLogger(__name__)


def _lease() -> timedelta:
    return timedelta(seconds=settings.RUN_LEASE_SECONDS)


def _grace() -> timedelta:
    return timedelta(seconds=settings.RUN_DISPATCH_SECONDS)


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _send(run: Run, countdown: int = 0) -> None:
    """After commit, send the run to a worker. A broker that cannot be reached fails nothing that was
    committed: the run stays queued (its item `received`), due for the reaper's next pass, which sends it
    again once the broker is back (DESIGN, "API errors")."""

    def unsent() -> None:
        try:
            Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(lease_expires_at=timezone.now())
        except Exception:  # the database is gone as well: the lease set at dispatch holds
            logger.warning("Run %s: lease not shortened.", run.pk, exc_info=True)

    task_send_on_commit("automations.process_run", run.pk, countdown=countdown, on_unsent=unsent)


def run_queued(*, item: WorkItem, trigger: str = RunTrigger.INTAKE, release=None) -> Run:
    """A queued run of the item, not written yet: run_dispatch writes and sends it; intake writes it in the
    statement that writes the item and sends it with run_send_on_commit."""
    return Run(tenant=item.tenant, item=item, trigger=trigger, release=release, status=RunStatus.QUEUED,
               lease_expires_at=timezone.now() + _grace())


def run_send_on_commit(run: Run) -> None:
    """Send the written run to a worker after commit (at once outside a transaction)."""
    _send(run)


def run_dispatch(*, item: WorkItem, trigger: str = RunTrigger.INTAKE, release=None) -> Run:
    """Inside the caller's transaction: a queued run, sent to a worker only after commit."""
    run = run_queued(item=item, trigger=trigger, release=release)
    run.save(force_insert=True)
    _send(run)
    return run


def runs_send(*, item_ids: list[str]) -> int:
    """Send the queued runs of these items to the workers (a bulk import's batch, after its commit); one
    whose message cannot be sent waits for the reaper. Returns how many were sent."""
    ids = [uuid.UUID(str(item_id)) for item_id in item_ids]
    runs = list(Run.objects.filter(item_id__in=ids, status=RunStatus.QUEUED).only("pk"))
    for run in runs:
        _send(run)
    return len(runs)


def engine_input_for(*, use_case: UseCase, payload: dict, files: list[InputFile], item_id=None,
                     actor=SYSTEM, tenant=None) -> EngineInput:
    """What the engines get: the input, the master data lookup of the use case's tenant and the engine services
    (for an item, or for none: an evaluation's test case)."""

    def lookup(kind: str, **attributes):
        for attribute, value in attributes.items():
            if value:
                record = master_record_find(tenant=tenant or use_case.tenant, kind=kind, attribute=attribute,
                                            value=str(value))
                if record is not None:
                    return {"number": record.number, "name": record.name, "vat_id": record.vat_id,
                            "iban": record.iban}
        return None

    return EngineInput(tenant_id=use_case.tenant_id, use_case_key=use_case.key, payload=payload, files=files,
                       output_fields=list(use_case.output_fields), lookup=lookup,
                       services=EngineServicesForItem(use_case=use_case, item_id=item_id, actor=actor))


def _engine_input(item: WorkItem, use_case: UseCase, *, has_files: bool = True) -> EngineInput:
    files = [InputFile(name=f.name, content_type=f.content_type, path=Path(f.file.path))
             for f in item.files.order_by("pk")] if has_files else []
    return engine_input_for(use_case=use_case, payload=item.payload, files=files, item_id=item.pk, tenant=item.tenant)


def _hold(item: WorkItem, run: Run, reason: str) -> None:
    item.status, item.updated_at = ItemStatus.HELD, timezone.now()
    item.reasons = [reason]
    item.save(update_fields=["status", "updated_at", "reasons"])
    run.status, run.finished_at, run.error = RunStatus.HELD, timezone.now(), reason
    run.save(update_fields=["status", "finished_at", "error"])
    audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="work_item.held", obj=item,
                       details={"run": run.pk, "use_case": item.use_case.key})


def _input_hash(item: WorkItem) -> str:
    return _hash({"content": item.content_hash, "payload": item.payload})


class _Releases:
    """The releases this process's runs used, each with its versions (thresholds, guardrails, prompt template,
    engine configurations). A release and its submitted versions never change (the database refuses edits,
    automations migration 0002), so a run reads only which release its label names now — in the query that locks
    it — and takes the rest from here. Kept by id and content hash: a database restored under a running worker
    cannot hand a run another release's versions."""

    SIZE = 64

    def __init__(self):
        self.entries: dict[tuple[int, str], Release] = {}

    def get(self, pk: int, content_hash: str) -> Release:
        release = self.entries.get((pk, content_hash))
        if release is None:
            release = (Release.objects.select_related("threshold_set", "prompt_template", "guardrail_set")
                       .prefetch_related("engine_configs").get(pk=pk))
            if len(self.entries) >= self.SIZE:
                self.entries.clear()
            self.entries[(pk, release.content_hash)] = release
        return release


_releases = _Releases()


class _Found(NamedTuple):
    """What the query that locks a starting run reads besides the run, its item, use case and tenant."""

    labelled_release_id: int | None  # the release the use case's label names now
    labelled_release_hash: str | None
    own_release_hash: str | None  # a dry run's own release
    has_files: bool
    duplicate_of: uuid.UUID | None  # the first earlier item this one may duplicate


def _start_query(*, lock: bool, asynchronous_commit: bool) -> PreparedQuery[Run]:
    """The query of _load_locked, compiled once per process (portal.db.prepared)."""

    def build(run_id: int) -> QuerySet[Run]:
        labels = active_release_labels_of(use_case=OuterRef("item__use_case"))
        read: dict[str, BaseExpression] = {
            "labelled_release_id": Subquery(labels.values("release_id")[:1]),
            "labelled_release_hash": Subquery(labels.values("release__content_hash")[:1]),
            "own_release_hash": Subquery(Release.objects.filter(pk=OuterRef("release_id"))
                                         .values("content_hash")[:1]),
            "has_files": Exists(WorkItemFile.objects.filter(item=OuterRef("item"))),
            "duplicate_of": Subquery(work_item_duplicates_of(item="item").values("pk")[:1])}
        if asynchronous_commit:
            read["commit_mode"] = _ASYNCHRONOUS_COMMIT
        runs = Run.objects.select_for_update(of=("self", "item")) if lock else Run.objects.all()
        return runs.select_related("item", "item__use_case", "item__tenant").annotate(**read).filter(pk=run_id)

    return PreparedQuery(Run, build, run_id=int)


# (lock, asynchronous_commit) -> the start's query; each compiled on its first use.
_START_QUERIES = {(lock, asynchronous): _start_query(lock=lock, asynchronous_commit=asynchronous)
                  for lock in (True, False) for asynchronous in (True, False)}


def _load_locked(run_id: int, *, asynchronous_commit: bool, lock: bool = True) -> tuple[Run, _Found] | None:
    """Inside the start's transaction: the run and its item locked, with everything the run needs to start, in
    one query — its item, use case and tenant, the release the use case's label names (read in the same snapshot
    as the use case's status, so the two agree), whether the item has files, and the first earlier item it may
    duplicate (the check step's question, answered here rather than in a query of its own). The use case and
    tenant are not locked: routing reads the use case's status again under its own lock.

    `asynchronous_commit`: the same query makes the transaction's commit asynchronous (PostgreSQL; see _start).
    `lock=False`: the same read with no lock, before the transaction (SQLite; see _start), checked again under the
    lock by _lock_fresh."""
    run = _START_QUERIES[lock, asynchronous_commit].first(run_id=run_id)
    if run is None:
        return None
    return run, _Found(**{name: vars(run)[name] for name in _Found._fields})


def _lock_fresh(run: Run, found: _Found) -> _Found | None:
    """Inside the start's transaction, for a run read before it (SQLite): lock the run and its item and read again,
    in one narrow query, what may have changed since — the run's state, the item's status and restriction, the use
    case's status; when that status moved, its label's release too. None: the run is gone."""
    fresh = (Run.objects.select_for_update(of=("self", "item")).select_related("item", "item__use_case")
             .only("status", "lease_expires_at", "task_id", "attempt", "release_id", "item", "item__status",
                   "item__restricted", "item__use_case", "item__use_case__status").filter(pk=run.pk).first())
    if fresh is None:
        return None
    item, use_case = run.item, run.item.use_case
    run.status, run.lease_expires_at, run.task_id = fresh.status, fresh.lease_expires_at, fresh.task_id
    run.attempt, run.release_id = fresh.attempt, fresh.release_id
    item.status, item.restricted = fresh.item.status, fresh.item.restricted
    if fresh.item.use_case.status != use_case.status:  # the label the run reads moves with the status
        use_case.status = fresh.item.use_case.status
        label = active_release_label(tenant=item.tenant, use_case_key=use_case.key)
        found = found._replace(labelled_release_id=label.release_id if label else None,
                               labelled_release_hash=label.release.content_hash if label else None)
    return found


# set_config(..., is_local => true): for the rest of this transaction only; evaluated once, for the one row.
_ASYNCHRONOUS_COMMIT = Func(Value("synchronous_commit"), Value("off"), Value(True), function="set_config",
                            output_field=CharField())


class _Routing(NamedTuple):
    """What routing's locking query reads besides the run, its item and use case."""

    breaker_reason: str | None  # the reason of the use case's tripped quality circuit breaker, None if none is
    sample_check_share: Decimal  # the tenant's share of applied items drawn for a sample check
    names_delivery_connectors: bool  # whether the use case names delivery connectors (outbox rows if applied)


def _routing_query(run_id: int) -> QuerySet[Run]:
    tripped = QualityBreaker.objects.filter(use_case=OuterRef("item__use_case"), tripped=True)
    return (Run.objects.select_for_update(of=("self", "item")).select_related("item", "item__use_case")
            .annotate(breaker_reason=Subquery(tripped.values("reason")[:1]),
                      sample_check_share=tenant_policy_value_of(tenant=OuterRef("item__tenant"),
                                                                field="sample_check_share"),
                      names_delivery_connectors=Exists(delivery_connectors_of(use_case=OuterRef("item__use_case"))))
            .filter(pk=run_id))


# Compiled once per process (portal.db.prepared): each run sends it with its own id.
_ROUTING_QUERY = PreparedQuery(Run, _routing_query, run_id=int)


def _locked_for_routing(run_id: int, tenant) -> tuple[Run, _Routing] | None:
    """The run and its item locked, with the item's use case read fresh, the use case's quality circuit breaker,
    the tenant's sample check share (its policy's, or the default while it has none) and whether the use case
    names delivery connectors, in one query (the tenant is the one the run started with): what the review layer
    and the connectors would otherwise each read in a query of their own. Compiled once per process."""
    run = _ROUTING_QUERY.first(run_id=run_id)
    if run is None:
        return None
    run.tenant = run.item.tenant = tenant
    return run, _Routing(**{name: vars(run)[name] for name in _Routing._fields})


def _start(run_id: int, task_id: str, retry: int = 0) -> tuple[Run, _Found] | None:
    """Take the run (or find it needs nothing). Returns the run to execute (with its item, use case, tenant,
    release and the release's versions loaded) and what was found with it, or None.

    One transaction of four statements (the run with its context, locked; the run, the item, the `run.started`
    event), committed **asynchronously** on PostgreSQL (`synchronous_commit = off` for this transaction only): the
    commit returns without waiting for its WAL flush, which the server does within a few hundred milliseconds (three
    times `wal_writer_delay`) or earlier, with the next durable commit of any session. Only a crash of the database
    server inside that window can lose it (a worker's crash cannot: what committed is committed), and then nothing
    that matters is lost:
    - the run is `queued` again with the lease it was sent with, its item `received`: the same message (or the
      reaper, once that lease is over) starts it again; the worker that took it meets the database gone in its
      next statement and retries the task, which starts the run again;
    - nothing outside the database has acted on the start: no broker message, no delivery, no e-mail follows
      from it. Everything that does (routing's outbox rows, review tasks, the item's final status) commits
      durably in routing's transaction, and a durable commit flushes the WAL before it, this start included;
    - the `run.started` event is gone with the rows it describes, never half: the chain is linked by the
      sequencer in durable commits, which flush the start's event before the link that names it, so a
      linked event is never lost and the chain cannot fork or show a gap;
    - the attempt it counted (a redelivery after a worker died) is counted again when the run starts again —
      an item that kills its worker every time is still stopped after RUN_MAX_ATTEMPTS unless the database
      server crashes each time within that window as well;
    - the start's other outcomes (a run found finished, an item restricted, a use case suspended: held) are
      decided again, the same way, when the run is started again.
    The item's input is hashed after this commit (run_execute): no transaction waits while it is serialised.

    On SQLite (the embedded default), whose transactions hold the database's one write lock from BEGIN, the context
    is read before the transaction and only the run's and item's state read again under the lock (_lock_fresh).
    """
    now = timezone.now()
    # Only a transaction of its own: inside a caller's (a demo seed), the setting would hold for the caller's too.
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    # SQLite (the embedded default) has one write lock for the whole database, and its transactions take it at
    # BEGIN (IMMEDIATE): the context is read before the transaction, so that the other worker threads wait only
    # for a narrow re-read and the writes.
    read_first = connection.vendor == "sqlite" and not connection.in_atomic_block
    preloaded = _load_locked(run_id, asynchronous_commit=False, lock=False) if read_first else None
    if read_first and preloaded is None:
        return None
    with transaction.atomic():
        if preloaded is not None:
            run, found = preloaded
            fresh = _lock_fresh(run, found)
            if fresh is None:
                return None
            found = fresh
        else:
            loaded = _load_locked(run_id, asynchronous_commit=asynchronous)
            if loaded is None:
                return None
            run, found = loaded
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.HELD):
            return None
        if run.status == RunStatus.RUNNING and run.lease_expires_at and run.lease_expires_at > now \
                and run.task_id and run.task_id != task_id:
            return None  # another worker holds a live lease on this run
        item = run.item
        run.tenant = item.tenant
        if item.status in FINAL_ITEM_STATUSES:
            run.status, run.finished_at = RunStatus.SUCCEEDED, now
            run.save(update_fields=["status", "finished_at"])
            return None
        if item.restricted:  # Art. 18 GDPR (audit.services.erasure): a restricted item is not processed any more
            run.status, run.finished_at = RunStatus.HELD, now
            run.save(update_fields=["status", "finished_at"])
            return None
        use_case = item.use_case
        if not item.is_dry_run:
            if use_case.status not in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION):
                _hold(item, run, _("The use case is %(status)s: nothing is dispatched.")
                      % {"status": use_case.get_status_display()})
                return None
            if found.labelled_release_id is None or found.labelled_release_hash is None:
                _hold(item, run, _("No release is labelled for the use case's status."))
                return None
            release = _releases.get(found.labelled_release_id, found.labelled_release_hash)
            run.label = Label.PILOT if use_case.status == UseCaseStatus.PILOT else Label.PRODUCTION
        else:
            if run.release_id is None or found.own_release_hash is None:
                raise RuntimeError(f"Run {run.pk} has no release to run.")
            release = _releases.get(run.release_id, found.own_release_hash)
            run.label = "dry_run"
        run.release = release
        # Redelivered after the worker died mid-run: one more attempt. The task retrying itself after a
        # database or broker error (same task id, retry > 0) is no attempt of the run's.
        if run.status == RunStatus.RUNNING and not (retry and run.task_id == task_id):
            run.attempt += 1
        run.status, run.started_at, run.task_id = RunStatus.RUNNING, now, task_id
        run.lease_expires_at = now + _lease()
        run.manifest = release.manifest()
        item.status, item.release, item.updated_at = ItemStatus.PROCESSING, release, now
        # The run, the item and the event in one statement (portal.db.writes).
        audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="run.started", obj=run,
                           details={"item": str(item.pk), "release": release.number, "label": run.label,
                                    "attempt": run.attempt},
                           write_with=[Update(run, _STARTED_RUN), Update(item, ("status", "release", "updated_at"))])
    return run, found


_STARTED_RUN = ("release", "label", "status", "started_at", "task_id", "lease_expires_at", "manifest", "attempt")


def _release_of(run: Run) -> Release:
    """The release a started run runs (a dry run is created with its release, a live one gets its label's)."""
    if run.release is None:
        raise RuntimeError(f"Run {run.pk} has no release to run.")
    return run.release


def _step_row(run: Run, name: str, status: str, started: float, details: dict, error: str = "") -> StepRun:
    return StepRun(tenant=run.tenant, run=run, step=name, status=status, attempt=run.attempt,
                   duration_ms=int((time.monotonic() - started) * 1000), error=error[:4000],
                   details=json.loads(json.dumps(details, default=str)))


def run_execute(*, run_id: int, task_id: str = "", retry: int = 0) -> None:
    """Steps outside any transaction; their StepRun rows are written together, with the routing (or with
    the failure) in its transaction: a run that dies in between is run again whole, its attempt recorded."""
    taken = _start(run_id, task_id, retry)
    if taken is None:
        return
    run, found = taken
    item = run.item
    use_case = item.use_case
    # After the start's commit, like everything that reads or serialises the item's input (which may be large):
    # no transaction waits for it. Written with routing's (or the failure's) transaction.
    run.input_hash = _input_hash(item)
    ctx = PipelineContext(item=item, run=run, use_case=use_case, release=_release_of(run),
                          engine_input=_engine_input(item, use_case, has_files=found.has_files), tenant=item.tenant,
                          payload=item.payload, dry_run=item.is_dry_run,
                          duplicate_ids=[found.duplicate_of] if found.duplicate_of else [])
    steps: list[StepRun] = []
    for step in PREPARE_STEPS:
        started = time.monotonic()
        try:
            details = step.run(ctx)
        except StepError as exc:
            steps.append(_step_row(run, step.name, StepStatus.FAILED, started, {}, error=str(exc)))
            run_fail(run_id=run.pk, error=f"{step.name}: {exc}", steps=steps, input_hash=run.input_hash)
            return
        except StopPipeline as exc:
            steps.append(_step_row(run, step.name, StepStatus.SKIPPED, started, {"stopped": str(exc)}))
            break
        steps.append(_step_row(run, step.name, StepStatus.OK, started, details))
    _route(ctx, run, item, steps)


def _finish_steps(ctx: PipelineContext, run: Run, steps: list[StepRun], outcome: str, started: float,
                  held_back: bool = False, *, delivered: bool = False) -> list[StepRun]:
    """The step rows of the run with routing's and delivery's added, to be written with routing's other rows."""
    # held_back: the steps before routing gave reasons of their own, so no thresholds could have applied the
    # item automatically (what a threshold backtest replays, automations.quality.backtest).
    steps.append(_step_row(run, "route", StepStatus.OK, started, {"outcome": outcome, "held_back": held_back}))
    started = time.monotonic()
    if outcome == ItemStatus.APPLIED and not ctx.dry_run:
        # Target systems pull final items through the API and acknowledge them; the use case's delivery
        # connectors got their outbox rows in the routing transaction (automations.connectors): `delivered`.
        steps.append(_step_row(run, "deliver", StepStatus.OK, started,
                               {"delivery": "outbox" if delivered else "pull"}))
    else:
        steps.append(_step_row(run, "deliver", StepStatus.SKIPPED, started,
                               {"reason": "not applied" if not ctx.dry_run else "dry run"}))
    return steps


def _fields_view(ctx: PipelineContext) -> dict:
    return {name: {"value": s.value, "confidence": round(float(s.confidence), 4), "engine": s.engine,
                   "explanation": s.explanation, "reasons": ctx.field_reasons.get(name, [])}
            for name, s in sorted(ctx.chosen.items())}


def route_prepare(ctx: PipelineContext) -> bool:
    """Compare confidences with the release's thresholds: reasons for missing and rejected fields (to
    clarification) and for low confidence; True when every chosen value reaches its `auto` threshold."""
    thresholds = ctx.release.threshold_set.thresholds
    for spec in ctx.use_case.output_fields:
        name = spec["name"]
        suggestion = ctx.chosen.get(name)
        if suggestion is None:
            if spec.get("required"):
                ctx.add_reason(_("%(f)s: not found.") % {"f": field_label(spec)}, field_name=name,
                               clarification=True)
            continue
        reject = float(thresholds.get(name, {}).get("reject", 0.0))
        if suggestion.confidence < reject:
            ctx.add_reason(_("%(f)s: confidence %(c).0f%% is below the reject threshold.")
                           % {"f": field_label(spec), "c": suggestion.confidence * 100}, field_name=name,
                           clarification=True)
    all_auto = bool(ctx.chosen) and all(
        s.confidence >= float(thresholds.get(name, {}).get("auto", 1.01)) for name, s in ctx.chosen.items())
    low = [name for name, s in ctx.chosen.items()
           if s.confidence < float(thresholds.get(name, {}).get("auto", 1.01))]
    if low and not ctx.needs_clarification:
        ctx.add_reason(_("Low confidence: %(fields)s") % {"fields": ", ".join(
            field_label(ctx.use_case.output_field(name), name) for name in sorted(low))})
    return all_auto


def route_outcome(ctx: PipelineContext, *, all_auto: bool, may_apply: bool) -> str:
    """Clarification, automatic application (where the label and status allow it) or review."""
    if ctx.needs_clarification:
        return ItemStatus.CLARIFICATION
    if all_auto and not ctx.reasons and may_apply:
        return ItemStatus.APPLIED
    return ItemStatus.REVIEW


def _route(ctx: PipelineContext, started_run: Run, started_item: WorkItem, steps: list[StepRun]) -> str:
    """Compare confidences with the release's thresholds and apply, review or clarify — in one
    transaction that re-reads the use case's status, so a suspension in flight applies nothing."""
    started = time.monotonic()
    held_back = bool(ctx.reasons) or ctx.needs_clarification
    all_auto = route_prepare(ctx)

    with transaction.atomic():
        locked = _locked_for_routing(started_run.pk, started_item.tenant)
        if locked is None:
            raise Run.DoesNotExist(f"Run {started_run.pk} was deleted while it ran.")
        run, read = locked
        item, use_case = run.item, run.item.use_case
        run.release = ctx.release
        if item.status in FINAL_ITEM_STATUSES:  # already final: a repeated run never applies twice
            run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
            write_together([Update(run, ("status", "finished_at")),
                            *_finish_steps(ctx, started_run, steps, item.status, started, held_back)])
            return item.status
        production = use_case.status == UseCaseStatus.PRODUCTION and run.label == Label.PRODUCTION
        if production and not ctx.dry_run:
            # The quality circuit breaker, read with the lock like the status: while it holds automatic
            # application off, every item goes to a person.
            if read.breaker_reason is not None:
                ctx.add_reason(_("Automatic application is switched off (quality circuit breaker): %(reason)s")
                               % {"reason": read.breaker_reason})
        if use_case.status == UseCaseStatus.PILOT and not ctx.dry_run:
            ctx.add_reason(_("Pilot: nothing is applied automatically."))
        outcome: str
        if not ctx.dry_run and use_case.status not in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION):
            outcome = ItemStatus.HELD
            ctx.reasons.insert(0, _("The use case was suspended while the item was processed: nothing applied."))
        else:
            outcome = route_outcome(ctx, all_auto=all_auto, may_apply=production or ctx.dry_run)
        now = timezone.now()
        item.fields, item.reasons, item.status, item.updated_at = _fields_view(ctx), ctx.reasons, outcome, now
        if outcome == ItemStatus.APPLIED:
            item.finalised_at = now
        if run.attempt > 1:  # an earlier attempt's routing never committed, but be sure nothing of it stays
            Suggestion.objects.filter(run=run).delete()
        # The item's row is written at the end, with the run's, its suggestions, steps and events, in one statement:
        # the layers that act on the outcome below take the item's new state from `item`, not from its row.
        if not ctx.dry_run:
            # The review layer queues the item for people (review, clarification, sample check).
            dispatch.emit("work_item.routed", item=item, outcome=outcome, reasons=ctx.reasons,
                          sample_check_share=read.sample_check_share)
        delivered = False
        if outcome == ItemStatus.APPLIED:
            # A dry run's result too: the connectors make its deliveries test deliveries (a sandbox, or recorded).
            delivered = any(dispatch.emit("work_item.finalised", item=item,
                                          delivery_connectors_named=read.names_delivery_connectors))
        if not ctx.dry_run and ctx.escalation_reasons:
            escalation_create(item=item, reason="; ".join(ctx.escalation_reasons), actor=SYSTEM)
        run.status, run.finished_at = RunStatus.SUCCEEDED, now
        run.input_hash, run.output_hash = started_run.input_hash, _hash(item.fields)
        suggestions = [Suggestion(tenant=item.tenant, run=run, item=item, field=s.field, value=s.value,
                                  confidence=s.confidence, engine=s.engine, explanation=s.explanation[:4000])
                       for s in ctx.suggestions]
        steps = _finish_steps(ctx, started_run, steps, outcome, started, held_back, delivered=delivered)
        audit_events_record(actor=SYSTEM, tenant=item.tenant, write_with=[
            Update(item, ("fields", "reasons", "status", "updated_at", "finalised_at")), *suggestions,
            Update(run, ("status", "finished_at", "input_hash", "output_hash")), *steps], events=[
            AuditEntry("work_item.routed", obj=item, details={"outcome": outcome, "run": run.pk,
                                                              "reasons": len(ctx.reasons), "dry_run": ctx.dry_run}),
            AuditEntry("run.finished", obj=run, details={
                "item": str(item.pk), "release": run.release.number, "manifest": run.manifest,
                "engines": sorted({s.engine for s in ctx.suggestions}), "input_hash": run.input_hash,
                "output_hash": run.output_hash})])
    return outcome


def _backoff(attempt: int) -> int:
    return min(300, 2 ** attempt * 5)


def run_fail(*, run_id: int, error: str, steps: Sequence[StepRun] = (), input_hash: str = "") -> None:
    """A failed attempt: retried with backoff; after the last attempt the item is escalated and put in
    the clarification queue, so nothing rests in a log line alone. `steps`: the attempt's step rows;
    `input_hash`: the hash of the input the attempt read, if it got that far."""
    with transaction.atomic():
        StepRun.objects.bulk_create(steps)
        run = Run.objects.select_for_update().get(pk=run_id)
        item = WorkItem.objects.select_for_update().get(pk=run.item_id)
        run.error = error[:4000]
        run.input_hash = input_hash or run.input_hash
        retry = run.attempt < settings.RUN_MAX_ATTEMPTS and item.status not in FINAL_ITEM_STATUSES
        if retry:
            countdown = _backoff(run.attempt)
            run.status, run.attempt = RunStatus.QUEUED, run.attempt + 1
            run.lease_expires_at = timezone.now() + timedelta(seconds=countdown) + _grace()
            run.save(update_fields=["status", "attempt", "lease_expires_at", "error", "input_hash"])
            _send(run, countdown=countdown)
        else:
            run.status, run.finished_at = RunStatus.FAILED, timezone.now()
            run.save(update_fields=["status", "finished_at", "error", "input_hash"])
            if item.status not in FINAL_ITEM_STATUSES and not item.is_dry_run:
                reason = (_("Processing failed after %(n)s attempts: %(error)s")
                          % {"n": run.attempt, "error": error[:300]})
                item.status, item.reasons, item.updated_at = ItemStatus.ESCALATED, [reason], timezone.now()
                item.save(update_fields=["status", "reasons", "updated_at"])
                dispatch.emit("work_item.failed", item=item, reasons=[reason])
                escalation_create(item=item, reason=reason, actor=SYSTEM)
            elif item.is_dry_run:
                item.status, item.reasons = ItemStatus.FAILED, [error[:300]]
                item.save(update_fields=["status", "reasons"])
        audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="run.failed", obj=run,
                           details={"item": str(item.pk), "attempt": run.attempt, "retry": retry})


def runs_reap(*, now=None) -> int:
    """Beat: runs past their lease (a worker died, or the embedded broker lost the message) are sent
    again, or failed and escalated after the last attempt."""
    now = now or timezone.now()
    reaped = 0
    for run_id in Run.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING),
                                     lease_expires_at__lt=now).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            run = Run.objects.select_for_update().get(pk=run_id)
            if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING) or run.lease_expires_at >= now:
                continue
            audit_event_record(actor=SYSTEM, tenant=run.tenant, event_type="run.reaped", obj=run,
                               details={"status": run.status, "attempt": run.attempt})
            reaped += 1
            # A queued run never started: its message waits behind a backlog or for a worker, or the
            # embedded broker lost it. Sending it again costs no attempt, so waiting never escalates.
            if run.status == RunStatus.QUEUED or run.attempt < settings.RUN_MAX_ATTEMPTS:
                attempt = run.attempt + 1 if run.status == RunStatus.RUNNING else run.attempt
                # ... and it waits as long again as it has waited so far, so that a long backlog is not
                # flooded with copies of its messages — but never longer than a lease, so that a message
                # lost with the broker is sent again within a lease, whatever the item's age.
                wait = _grace() if run.status == RunStatus.RUNNING else \
                    min(max(_grace(), now - run.created_at), max(_grace(), _lease()))
                run.status, run.attempt, run.trigger = RunStatus.QUEUED, attempt, RunTrigger.REAPER
                run.lease_expires_at = now + wait
                run.save(update_fields=["status", "attempt", "trigger", "lease_expires_at"])
                _send(run)
                continue
        run_fail(run_id=run_id, error=_("the run was stuck past its lease %(n)s times") % {"n": run.attempt})
    return reaped


def runs_orphaned_release(*, now=None) -> int:
    """The only pipeline worker died (the embedded default, whose broker loses what a worker had taken):
    the runs it was in the middle of, and the queued runs whose messages it may have taken but not yet started,
    are due for the reaper now, not when their lease ends. The reaper sends each again; a message of a queued
    run still in the broker finds its run started or finished and is turned away (_start). Returns how many."""
    now = now or timezone.now()
    return Run.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING), lease_expires_at__gte=now).update(
        lease_expires_at=now - timedelta(microseconds=1))


def items_hold(*, use_case: UseCase) -> int:
    """After a suspension: items waiting for a worker are held (running ones are held by routing)."""
    held = 0
    for item in WorkItem.objects.filter(use_case=use_case, status=ItemStatus.RECEIVED, is_dry_run=False):
        with transaction.atomic():
            item = WorkItem.objects.select_for_update().get(pk=item.pk)
            if item.status != ItemStatus.RECEIVED:
                continue
            run = item.runs.filter(status=RunStatus.QUEUED).first()
            if run is not None:
                _hold(item, run, _("The use case was suspended."))
            else:
                item.status = ItemStatus.HELD
                item.save(update_fields=["status"])
            held += 1
    return held


def items_release(*, use_case: UseCase) -> int:
    """After the use case resumed (through an approved change request): held items run again."""
    released = 0
    for item in WorkItem.objects.filter(use_case=use_case, status=ItemStatus.HELD, is_dry_run=False, restricted=False):
        with transaction.atomic():
            item = WorkItem.objects.select_for_update().get(pk=item.pk)
            if item.status != ItemStatus.HELD:
                continue
            item.status, item.reasons, item.updated_at = ItemStatus.RECEIVED, [], timezone.now()
            item.save(update_fields=["status", "reasons", "updated_at"])
            run_dispatch(item=item, trigger=RunTrigger.RESUME)
            audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="work_item.released", obj=item)
            released += 1
    return released
