"""Celery tasks of the registry: thin, each calls a service."""
from celery import shared_task

from automations.registry.services.changes import change_requests_expire


@shared_task(name="automations.expire_change_requests")
def expire_change_requests_task() -> int:
    return change_requests_expire()
