"""Seams where the execution core plugs into the registry without the registry importing it."""
from django.db import transaction


def on_suspended(use_case) -> None:
    """Called inside the suspending transaction: queued items are held after commit."""
    try:
        from automations.tasks import hold_queued_items_task
    except ImportError:  # the execution core is not installed yet
        return
    transaction.on_commit(lambda: hold_queued_items_task.delay(use_case.pk))
