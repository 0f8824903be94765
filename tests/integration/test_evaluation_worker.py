"""An evaluation on a real Celery worker (Redis broker, PostgreSQL): started as a person starts it, carried out
by the worker with its progress visible on the row while it runs, finished with the figures and the verdict —
and then the production label may move."""
import pytest

from automations.choices import ChangeKind
from automations.evaluation.models import EvaluationRun
from automations.evaluation.services import evaluations, test_cases
from automations.models import WorkItem
from automations.registry.selectors import label_map
from automations.registry.services import changes
from tests.automations.factories import approve_all
from tests.integration.builders import live_use_case
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DELAY = 0.4  # seconds the worker's rules engine takes per case: long enough to see the progress move


def test_an_evaluation_runs_on_the_worker_with_progress_and_opens_the_way_to_production(tenant, team, worker):
    lead = team["automation_lead"]
    use_case = live_use_case(tenant, team, key="belege-eval", delay=DELAY, status="pilot")
    release = label_map(use_case=use_case)["pilot"]
    for n, (text, expected) in enumerate([("Rechnung Nr. {n}", "invoice"), ("Mahnung {n}", "reminder"),
                                          ("Lieferschein {n}", "delivery_note")] * 3):
        test_cases.test_case_create(actor=lead, use_case=use_case, payload={"text": text.format(n=n)},
                                    expected={"document_class": expected})
    worker.start()
    evaluation = evaluations.evaluation_start(actor=lead, release=release)  # sent to the broker on commit

    seen = set()

    def progress():
        row = EvaluationRun.objects.get(pk=evaluation.pk)
        seen.add((row.status, row.done))
        return row if row.status in ("succeeded", "failed") else None

    done = wait_until(progress, timeout=90, interval=0.05, what=lambda: f"the evaluation to finish: {worker.logs()}")
    assert done.status == "succeeded", done.error
    assert (done.done, done.total) == (9, 9)
    assert any(status == "running" and 0 < count < 9 for status, count in seen), seen  # progress while running
    assert done.task_id and done.metrics["cases"] == 9 and done.metrics["correction_rate"] == 0.0
    assert done.metrics["automation"]["share"] == 1.0 and done.passed
    assert not WorkItem.objects.filter(use_case=use_case).exists()  # no work item, no delivery
    # the worker writes its journal's end line after the task has committed: wait for it, do not race it
    wait_until(lambda: [e for e in worker.entries("automations.run_evaluation") if e["event"] == "end"],
               timeout=10, what="the evaluation task's end in the worker's journal")

    cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.LABEL_MOVE,
                                       title="live", description="evaluated",
                                       payload={"label": "production", "release_id": release.pk})
    assert cr.evaluation_id == done.pk
    approve_all(cr, team)
    assert label_map(use_case=use_case)["production"] == release
