"""Celery tasks of the connectors: thin, they take primary keys and call a service."""
from celery import shared_task

from automations.connectors.services import deliveries, folders, mailboxes
from automations.execution.api.serializers import WorkItemSerializer
from portal.jobs import UNREACHABLE


def _render(item) -> dict:
    return WorkItemSerializer(item).data


@shared_task(name="automations.deliver", acks_late=True, autoretry_for=UNREACHABLE, retry_backoff=2,
             retry_backoff_max=60, retry_jitter=True, max_retries=None)
def deliver_task(delivery_id: int) -> str:
    return deliveries.delivery_send(delivery_id=delivery_id, render=_render)


@shared_task(name="automations.poll_folders")
def poll_folders_task() -> int:
    return folders.folders_poll().taken


@shared_task(name="automations.poll_mailboxes")
def poll_mailboxes_task() -> int:
    return mailboxes.mailboxes_poll().items


@shared_task(name="automations.sweep_deliveries")
def sweep_deliveries_task() -> int:
    return deliveries.deliveries_sweep()
