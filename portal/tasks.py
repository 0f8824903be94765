"""Portal tasks: a diagnostic ping that proves a worker is consuming the queue."""
import json
import os
import socket

from celery import shared_task
from django.conf import settings
from django.utils import timezone

PING_FOLDER = "ping"


def ping_path(token: str):
    if not token.isalnum():
        raise ValueError("A ping token is alphanumeric.")
    return settings.CELERY_FOLDER / PING_FOLDER / f"{token}.json"


@shared_task(name="portal.tasks.ping")
def ping_task(token: str) -> dict:
    """Leaves a receipt under var/ naming the worker process that ran it (`manage.py ping_worker`)."""
    receipt = {"token": token, "pid": os.getpid(), "host": socket.gethostname(),
               "at": timezone.now().isoformat()}
    path = ping_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(receipt))
    tmp.replace(path)  # atomic: the waiting command never reads half a file
    return receipt
