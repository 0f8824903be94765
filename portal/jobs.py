"""Sending a Celery task from a service, after commit, by the name it is registered under.

Task modules are the thin outer layer that calls services, so a service must not import them; it names the
task instead (Celery's own way to send a task it does not import). The task modules are imported when the
apps load (AppConfig.ready), so the name resolves to the same task object in the web process, the worker
and tests (eager mode and patched `delay` included)."""
from celery import current_app
from django.db import transaction


def task_send(name: str, *args, countdown: int | None = None) -> None:
    task = current_app.tasks[name]
    if countdown:
        task.apply_async(args, countdown=countdown)
    else:
        task.delay(*args)


def task_send_on_commit(name: str, *args, countdown: int | None = None) -> None:
    transaction.on_commit(lambda: task_send(name, *args, countdown=countdown))
