"""Sending a Celery task from a service, after commit, by the name it is registered under.

Task modules are the thin outer layer that calls services, so a service must not import them; it names the
task instead (Celery's own way to send a task it does not import). The task modules are imported when the
apps load (AppConfig.ready), so the name resolves to the same task object in the web process, the worker
and tests (eager mode and patched `delay` included)."""
import logging
from collections.abc import Callable

import kombu.exceptions
from celery import current_app
from django import db
from django.db import transaction

logger = logging.getLogger(__name__)


# A database or broker that cannot be reached: what a task retries with backoff (`autoretry_for`) instead of
# failing its message at once.
UNREACHABLE: tuple[type[BaseException], ...] = (db.OperationalError, db.InterfaceError,
                                                kombu.exceptions.OperationalError)


def task_send(name: str, *args, countdown: int | None = None) -> None:
    task = current_app.tasks[name]
    if countdown:
        task.apply_async(args, countdown=countdown)
    else:
        task.delay(*args)


def task_send_on_commit(name: str, *args, countdown: int | None = None,
                        on_unsent: Callable[[], None] | None = None) -> None:
    """With `on_unsent`, a broker that cannot be reached raises nothing after the commit (what was committed
    stands): the failure is logged and `on_unsent` called, e.g. to leave the work to a reaper."""
    if on_unsent is None:
        transaction.on_commit(lambda: task_send(name, *args, countdown=countdown))
        return

    def send() -> None:
        try:
            task_send(name, *args, countdown=countdown)
        except Exception:  # any transport's connection error
            logger.warning("Task %s%r could not be sent to the broker.", name, args, exc_info=True)
            on_unsent()

    transaction.on_commit(send)
