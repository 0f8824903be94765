from celery import shared_task

from automations.services import pipeline


@shared_task(name="automations.process_run", acks_late=True)
def process_run_task(run_id: int) -> None:
    from celery import current_task

    pipeline.run_execute(run_id=run_id, task_id=current_task.request.id or "")


@shared_task(name="automations.reap_runs")
def reap_runs_task() -> int:
    return pipeline.runs_reap()


@shared_task(name="automations.hold_queued_items")
def hold_queued_items_task(use_case_id: int) -> int:
    from automations.models import UseCase

    return pipeline.items_hold(use_case=UseCase.objects.get(pk=use_case_id))


@shared_task(name="automations.release_held_items")
def release_held_items_task(use_case_id: int) -> int:
    from automations.models import UseCase

    return pipeline.items_release(use_case=UseCase.objects.get(pk=use_case_id))


@shared_task(name="automations.expire_change_requests")
def expire_change_requests_task() -> int:
    from automations.services.changes import change_requests_expire

    return change_requests_expire()
