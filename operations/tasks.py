import os

from celery import shared_task

from operations.heartbeat import heartbeat_record
from operations.models import Heartbeat


@shared_task(name="operations.beat_heartbeat", ignore_result=True)
def beat_heartbeat_task() -> None:
    """Scheduled by beat on the maintenance queue: its row shows that beat sends and that the maintenance
    queue is consumed (the health check's `beat`)."""
    heartbeat_record(name="beat", kind=Heartbeat.Kind.BEAT, pid=os.getpid())
