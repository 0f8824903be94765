"""The execution core's acceptance with real processes (issue 4): a real Celery worker process on a real
Redis broker and PostgreSQL, killed with SIGKILL in the middle of its tasks, restarted, and recovered by
the lease reaper; concurrent idempotent intake over HTTP; no task for a rolled-back transaction; a
suspended use case holding its items."""
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from automations.choices import ChangeKind, ItemStatus, RunStatus, RunTrigger, StepStatus
from automations.execution.services import intake
from automations.execution.services import runs as pipeline
from automations.models import Escalation, Run, StepRun, Suggestion, WorkItem
from automations.registry.services import changes, use_cases
from portal import services as portal_services
from tests.automations.factories import approve_all
from tests.integration.builders import live_use_case
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STEPS = ["read", "extract", "check", "decide", "validate", "guard", "route", "deliver"]
UNSETTLED = (ItemStatus.RECEIVED, ItemStatus.PROCESSING)


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def submit(team, tenant, text, key="belege", **kwargs) -> WorkItem:
    item, _created = intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key=key,
                                             payload={"text": text}, **kwargs)
    return item


def statuses(items) -> dict[str, str]:
    return dict(WorkItem.objects.filter(pk__in=[i.pk for i in items]).values_list("pk", "status"))


def settled(items) -> bool:
    return not WorkItem.objects.filter(pk__in=[i.pk for i in items], status__in=UNSETTLED).exists()


def routed_count(item) -> int:
    return AuditEvent.objects.filter(event_type="work_item.routed", object_id=str(item.pk)).count()


_last_reap = [0.0]


def reap():
    """What beat does every minute, here at most twice a second while a test waits."""
    if time.monotonic() - _last_reap[0] >= 0.5:
        _last_reap[0] = time.monotonic()
        pipeline.runs_reap()


def assert_audit_chain_intact(tenant):
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", "--tenant", tenant.slug, stdout=out)
    assert out.getvalue().strip().endswith("events ok"), out.getvalue()


# --- a) kill -9 in the middle of tasks, repeatedly ---------------------------------------------------

ITEMS = 30
KILLS = 6  # alternately in the middle of the engine call and between routing and the acknowledgement
DELAY = 0.3  # the engine's time per item
ACK_DELAY = 0.3  # between the task's return and its late acknowledgement
VISIBILITY_TIMEOUT = 5  # Redis hands an unacknowledged message out again after this (production: 30 min)


def test_killing_the_worker_mid_task_again_and_again_loses_no_item_and_applies_none_twice(
        tenant, team, worker, redis_broker, settings):
    # The 30 items wait up to half a minute behind each other: a dispatch grace longer than that keeps
    # the reaper to the runs the kills left behind (waiting items have their own test below).
    settings.RUN_DISPATCH_SECONDS = 60
    live_use_case(tenant, team, delay=DELAY)
    worker.env |= {"LEITPLANKE_TEST_ACK_DELAY": str(ACK_DELAY),
                   "LEITPLANKE_TEST_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    started = time.monotonic()
    items = [submit(team, tenant, f"Rechnung, Rechnungsnummer {n:04d}") for n in range(ITEMS)]
    worker.start()

    in_engine: list[int] = []  # runs killed while the engine worked on them
    after_routing: list[int] = []  # runs killed after their routing committed, before the broker heard of it

    # A run is killed at most twice: a third death would rightly escalate it (RUN_MAX_ATTEMPTS = 3).
    def working():
        run = worker.current_run()
        if run and in_engine.count(run) < 2 and Run.objects.filter(pk=run, status=RunStatus.RUNNING).exists():
            return run
        return None

    def just_routed():
        entry = worker.last_entry()
        fresh = entry and entry["event"] == "end" and time.time() - entry["at"] < ACK_DELAY / 2
        if fresh and worker.runs_started().count(entry["args"][0]) == 1:  # routed now, not a redelivery
            return entry["args"][0]
        return None

    while len(in_engine) + len(after_routing) < KILLS:
        if len(in_engine) <= len(after_routing):
            run_id = wait_until(working, timeout=60, interval=0.02, what="a run in its engine call", tick=reap)
            time.sleep(DELAY / 3)
            if worker.current_run() != run_id:
                continue  # finished meanwhile (a loaded machine): wait for the next one
            worker.kill()
            in_engine.append(run_id)
            assert Run.objects.get(pk=run_id).status == RunStatus.RUNNING  # the dead worker left it behind
        else:
            run_id = wait_until(just_routed, timeout=60, interval=0.01, what="a run just routed", tick=reap)
            worker.kill()
            after_routing.append(run_id)
            assert Run.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
            assert WorkItem.objects.get(runs=run_id).status == ItemStatus.APPLIED
        worker.start()

    def all_done():
        return (settled(items) and not redis_broker.llen("celery") and not redis_broker.hlen("unacked")
                and worker.current_run() is None)

    def left():
        open_runs = list(Run.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
                         .values_list("pk", "status", "attempt", "lease_expires_at"))
        return (f"every item to settle and every message to be acknowledged; left: "
                f"{[s for s in statuses(items).values() if s in UNSETTLED]}, queue {redis_broker.llen('celery')}, "
                f"unacked {redis_broker.hlen('unacked')}, runs {open_runs}, worker in run {worker.current_run()}, "
                f"killed {in_engine} {after_routing}")

    wait_until(all_done, timeout=120, interval=0.25, tick=reap, what=left)
    elapsed = time.monotonic() - started

    # Nothing lost: every item reached a final status, here `applied` (each text is a confident invoice).
    assert WorkItem.objects.filter(tenant=tenant).count() == ITEMS
    assert set(statuses(items).values()) == {ItemStatus.APPLIED}, statuses(items)
    # Nothing twice: one routing, one finished run, one suggestion per item.
    for item in items:
        assert routed_count(item) == 1, item.pk
        runs = list(Run.objects.filter(item=item))
        assert len(runs) == 1 and runs[0].status == RunStatus.SUCCEEDED
        run = runs[0]
        assert AuditEvent.objects.filter(event_type="run.finished", object_id=str(run.pk)).count() == 1
        assert list(Suggestion.objects.filter(item=item).values_list("run_id", "field")) == [(run.pk, "document_class")]
        final_steps = list(run.steps.filter(attempt=run.attempt).values_list("step", "status"))
        assert [step for step, _status in final_steps] == STEPS, final_steps
        assert StepRun.objects.filter(run=run, step="route").count() == 1
    # Killed in the engine: taken over by the reaper and run again (a later attempt).
    for run_id in set(in_engine):
        run = Run.objects.get(pk=run_id)
        # Whichever came first took it over: the reaper (lease expired) or Redis (visibility timeout).
        assert run.attempt >= 2 and worker.runs_started().count(run_id) >= 2
    # Killed after routing: Redis delivered the message again, and the worker applied nothing twice.
    for run_id in after_routing:
        run = Run.objects.get(pk=run_id)
        assert run.attempt == 1 and run.steps.filter(step="route").count() == 1
        assert worker.runs_started().count(run_id) >= 2, "the unacknowledged message came back"
        # (On a slow machine the reaper may have re-sent it while it still waited in the queue; it never
        # took it over once started.)
        assert not AuditEvent.objects.filter(event_type="run.reaped", object_id=str(run_id),
                                             details__status=RunStatus.RUNNING).exists()
    assert (len(in_engine), len(after_routing), worker.starts) == (KILLS // 2, KILLS // 2, KILLS + 1)
    assert not Escalation.objects.exists()
    assert_audit_chain_intact(tenant)
    print(f"\n{ITEMS} items, {KILLS} kills ({len(after_routing)} after routing), all applied once, "
          f"{len(worker.runs_started())} deliveries, in {elapsed:.1f} s")


# --- b) the same idempotency key, concurrently ---------------------------------------------------------

def test_the_same_idempotency_key_sent_concurrently_creates_one_item(tenant, team, worker, http_server):
    live_use_case(tenant, team)
    worker.start()
    _token, plain = portal_services.api_token_create(actor=team["it_operator"], tenant=tenant,
                                                     user=team["it_operator"], name="ERP")
    url = http_server + reverse("api:work-item-list")
    senders = 8
    barrier = threading.Barrier(senders)
    answers: list = [None] * senders

    def send(n: int, text: str) -> None:
        session = requests.Session()
        barrier.wait()
        try:
            answers[n] = session.post(url, json={"use_case": "belege", "payload": {"text": text}}, timeout=60,
                                      headers={"Authorization": f"Bearer {plain}", "Idempotency-Key": "erp-0815",
                                               "Accept-Language": "en"})
        except Exception as error:  # noqa: BLE001  (reported by the assertions below)
            answers[n] = error

    def all_at_once(text: str) -> list:
        threads = [threading.Thread(target=send, args=(n, text)) for n in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert all(hasattr(answer, "status_code") for answer in answers), answers
        return list(answers)

    same = all_at_once("Rechnung, Rechnungsnummer 0815")
    codes = sorted(answer.status_code for answer in same)
    assert codes == [200] * (senders - 1) + [201], [(a.status_code, a.text) for a in same]
    assert len({answer.json()["id"] for answer in same}) == 1
    item = WorkItem.objects.get(tenant=tenant)
    assert str(item.pk) == same[0].json()["id"]

    other = all_at_once("Mahnung, Zahlungserinnerung")
    assert [answer.status_code for answer in other] == [422] * senders
    assert all("idempotency key" in answer.json()["detail"] for answer in other)

    wait_until(lambda: statuses([item])[item.pk] == ItemStatus.APPLIED, timeout=30, tick=reap,
               what="the item to be applied")
    assert WorkItem.objects.filter(tenant=tenant).count() == 1
    assert Run.objects.filter(item=item).count() == 1 and routed_count(item) == 1
    assert worker.runs_started() == [Run.objects.get(item=item).pk]
    assert AuditEvent.objects.filter(event_type="work_item.received").count() == 1


# --- c) a rolled-back transaction sends no task ----------------------------------------------------------

def test_a_rolled_back_transaction_sends_no_task(tenant, team, worker, redis_broker):
    live_use_case(tenant, team)
    worker.start()
    wait_until(lambda: not redis_broker.llen("celery"), timeout=10, what="an empty queue")

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with transaction.atomic():
            doomed = submit(team, tenant, "Rechnung, Rechnungsnummer 1")
            doomed_run = Run.objects.get(item=doomed).pk  # a queued run existed inside the transaction
            raise Abort
    assert not WorkItem.objects.filter(pk=doomed.pk).exists() and not Run.objects.filter(pk=doomed_run).exists()
    assert redis_broker.llen("celery") == 0

    # An item that commits afterwards is processed; the worker saw its run and nothing else.
    kept = submit(team, tenant, "Rechnung, Rechnungsnummer 2")
    wait_until(lambda: statuses([kept])[kept.pk] == ItemStatus.APPLIED, timeout=30, tick=reap,
               what="the committed item to be applied")
    worker.drain()  # a stray message would have reached the worker before the ping
    assert worker.runs_started() == [Run.objects.get(item=kept).pk]
    assert doomed_run not in worker.runs_started()
    assert redis_broker.llen("celery") == 0
    assert not AuditEvent.objects.filter(object_id=str(doomed.pk)).exists()


# --- d) a run stuck past its lease ---------------------------------------------------------------------------

def test_a_run_stuck_past_its_lease_is_picked_up_by_the_reaper(tenant, team, worker):
    lease = 8  # long enough to look at the run within its lease, even on a loaded machine
    worker.env["RUN_LEASE_SECONDS"] = str(lease)  # the worker sets the lease when it starts a run
    live_use_case(tenant, team, delay=2.0)
    worker.start()
    item = submit(team, tenant, "Rechnung, Rechnungsnummer 7")
    run = wait_until(lambda: Run.objects.filter(item=item, status=RunStatus.RUNNING).first(), timeout=30,
                     interval=0.02, what="the run to start")
    worker.kill()  # the broker keeps the message unacknowledged for its visibility timeout (30 minutes)

    # Within its lease the run is left alone: for all anyone knows, a live worker is still on it.
    assert Run.objects.get(pk=run.pk).lease_expires_at > timezone.now()
    assert pipeline.runs_reap() == 0
    worker.start()
    worker.drain()  # the restarted worker has taken all there is
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING
    assert statuses([item])[item.pk] == ItemStatus.PROCESSING  # the restarted worker does not see it

    # Past its lease, the reaper sends it again and the restarted worker finishes it.
    wait_until(lambda: Run.objects.get(pk=run.pk).lease_expires_at < timezone.now(),
               timeout=lease + 5, what="the lease to expire")
    assert pipeline.runs_reap() == 1
    wait_until(lambda: statuses([item])[item.pk] == ItemStatus.APPLIED, timeout=30, what="the item to be applied")
    run.refresh_from_db()
    assert (run.status, run.attempt, run.trigger) == (RunStatus.SUCCEEDED, 2, RunTrigger.REAPER)
    assert [s for s, in run.steps.filter(attempt=2).values_list("step")] == STEPS
    assert not run.steps.filter(attempt=1).exists()  # the first attempt died inside the engine
    assert routed_count(item) == 1
    reaped = AuditEvent.objects.get(event_type="run.reaped", object_id=str(run.pk))
    assert reaped.details == {"status": RunStatus.RUNNING, "attempt": 1}


# --- e) a suspended use case holds new items ----------------------------------------------------------------

def test_a_suspended_use_case_holds_new_and_queued_items_and_runs_nothing(tenant, team, worker):
    use_case = live_use_case(tenant, team)
    queued = submit(team, tenant, "Rechnung, Rechnungsnummer 1")  # waits in Redis: no worker yet
    use_cases.use_case_suspend(actor=team["security_officer"], use_case=use_case, reason="Vorfall beim Lieferanten")
    fresh = [submit(team, tenant, f"Rechnung, Rechnungsnummer {n}") for n in (2, 3)]
    assert set(statuses(fresh).values()) == {ItemStatus.HELD}
    assert not Run.objects.filter(item__in=fresh).exists()

    worker.start()
    wait_until(lambda: statuses([queued])[queued.pk] == ItemStatus.HELD, timeout=30, tick=reap,
               what="the queued item to be held")
    worker.drain()
    assert set(statuses([queued, *fresh]).values()) == {ItemStatus.HELD}
    assert Run.objects.get(item=queued).status == RunStatus.HELD
    assert not AuditEvent.objects.filter(event_type__in=("run.started", "work_item.routed")).exists()
    assert not WorkItem.objects.filter(finalised_at__isnull=False).exists()

    # Resuming (an approved change request) runs the held items; none was lost while held.
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, use_case=use_case,
                                       kind=ChangeKind.STATUS_CHANGE, title="resume", description="geklärt",
                                       payload={"to": "production"})
    approve_all(cr, team)
    wait_until(lambda: set(statuses([queued, *fresh]).values()) == {ItemStatus.APPLIED}, timeout=30, tick=reap,
               what="the held items to be applied after resuming")
    assert all(routed_count(item) == 1 for item in (queued, *fresh))


# --- the worker away for longer than the dispatch grace -----------------------------------------------------

def test_items_waiting_for_a_worker_are_neither_escalated_nor_flooded_with_copies(
        tenant, team, worker, redis_broker, settings):
    settings.RUN_DISPATCH_SECONDS = 5 * 60  # the defaults
    settings.RUN_LEASE_SECONDS = 20 * 60
    live_use_case(tenant, team)
    before = redis_broker.llen("celery")  # going live sent a task of its own (release held items)
    items = [submit(team, tenant, f"Rechnung, Rechnungsnummer {n}") for n in range(3)]
    assert redis_broker.llen("celery") == before + 3
    # No worker for two hours (a backlog, a maintenance window) while beat runs the reaper every minute.
    start = timezone.now()
    for minute in range(120):
        pipeline.runs_reap(now=start + timedelta(minutes=minute, seconds=30))
    # Each waiting run was sent again after 5.5, 11.5 and 23.5 minutes — as long again as it had waited, so
    # a long backlog is not flooded with copies — and from then on once a lease (20 minutes), at 44.5, 65.5,
    # 86.5 and 107.5 minutes: a message the broker lost is sent again within a lease, however old the item.
    # Never escalated, though far more than RUN_MAX_ATTEMPTS dispatch graces passed.
    assert redis_broker.llen("celery") == before + 3 * 8
    assert AuditEvent.objects.filter(event_type="run.reaped").count() == 3 * 7
    assert set(statuses(items).values()) == {ItemStatus.RECEIVED}
    assert set(Run.objects.values_list("status", "attempt")) == {(RunStatus.QUEUED, 1)}
    assert not Escalation.objects.exists()

    worker.start()
    wait_until(lambda: settled(items) and not redis_broker.llen("celery") and not redis_broker.hlen("unacked"),
               timeout=60, what="the items to settle and the queue to drain")
    assert set(statuses(items).values()) == {ItemStatus.APPLIED}
    assert all(routed_count(item) == 1 for item in items)
    # Every copy was delivered; the first did the work, the others found the run done.
    assert Counter(worker.runs_started()) == dict.fromkeys(Run.objects.values_list("pk", flat=True), 8)
    assert not StepRun.objects.filter(status=StepStatus.FAILED).exists()
