"""Celery tasks of execution: thin, they take primary keys, load and call a service."""
from celery import shared_task

from automations.execution.services import runs
from celery import current_task
from automations.registry.models.use_cases import UseCase


@shared_task(name="automations.process_run", acks_late=True)
def process_run_task(run_id: int) -> None:
    runs.run_execute(run_id=run_id, task_id=current_task.request.id or "")


@shared_task(name="automations.reap_runs")
def reap_runs_task() -> int:
    return runs.runs_reap()


@shared_task(name="automations.hold_queued_items")
def hold_queued_items_task(use_case_id: int) -> int:
    return runs.items_hold(use_case=UseCase.objects.get(pk=use_case_id))


@shared_task(name="automations.release_held_items")
def release_held_items_task(use_case_id: int) -> int:
    return runs.items_release(use_case=UseCase.objects.get(pk=use_case_id))
