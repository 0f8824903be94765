"""Where status changes of the registry reach the execution core: after commit, held or queued items
follow the use case's status."""
from django.db import transaction

from automations.choices import UseCaseStatus


def on_suspended(use_case) -> None:
    from automations.execution.tasks import hold_queued_items_task

    transaction.on_commit(lambda: hold_queued_items_task.delay(use_case.pk))


def on_status_changed(use_case, before: str, after: str) -> None:
    from automations.execution.tasks import release_held_items_task

    if after in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION):
        transaction.on_commit(lambda: release_held_items_task.delay(use_case.pk))
