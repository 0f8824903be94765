"""Celery tasks of execution: thin, they take primary keys, load and call a service."""
from celery import shared_task

from automations.execution.services import runs
from automations.registry.models.use_cases import UseCase
from portal.jobs import UNREACHABLE


# A database or broker that cannot be reached is retried with backoff (up to a minute apart, for as long
# as it takes) instead of failing the message at once; engine and step errors are the run's own business
# (run_fail: retries with backoff, then escalation).
@shared_task(name="automations.process_run", acks_late=True, ignore_result=True, bind=True,
             autoretry_for=UNREACHABLE,
             retry_backoff=2, retry_backoff_max=60, retry_jitter=True, max_retries=None)
def process_run_task(self, run_id: int) -> None:
    runs.run_execute(run_id=run_id, task_id=self.request.id or "", retry=self.request.retries or 0)


@shared_task(name="automations.send_runs")
def send_runs_task(item_ids: list[str]) -> int:
    return runs.runs_send(item_ids=item_ids)


@shared_task(name="automations.reap_runs")
def reap_runs_task() -> int:
    return runs.runs_reap()


@shared_task(name="automations.hold_queued_items")
def hold_queued_items_task(use_case_id: int) -> int:
    return runs.items_hold(use_case=UseCase.objects.get(pk=use_case_id))


@shared_task(name="automations.release_held_items")
def release_held_items_task(use_case_id: int) -> int:
    return runs.items_release(use_case=UseCase.objects.get(pk=use_case_id))
