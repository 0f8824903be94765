"""Signs of life of the background processes.

A Celery worker writes its heartbeat from its consumer (a bootstep on the consumer's timer), so a heartbeat
means "connected and consuming", not merely "the process exists":

- into the database (`Heartbeat`), which the health check and the metrics read across hosts;
- into a file under PORTAL_VAR_DIR/heartbeats/, which `manage.py worker_alive` reads on the worker's own
  host (a container health check, or a monitoring script);
- to systemd's watchdog when the worker runs under a unit with `WatchdogSec=` (sd_notify), so that systemd
  restarts a worker whose consumer stopped.

Beat proves itself through a task it schedules on the maintenance queue (operations.tasks), which also
shows that the maintenance queue is being consumed."""
import json
import logging
import os
import socket
from pathlib import Path

from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def heartbeat_folder() -> Path:
    return Path(settings.VAR_DIR) / "heartbeats"


def heartbeat_path(name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in name)
    return heartbeat_folder() / f"{safe}.json"


def heartbeat_record(*, name: str, kind: str, pid: int = 0, queues: str = "", started_at=None) -> None:
    """Upsert the process's heartbeat row (not audited: a sign of life is no governance event)."""
    # Celery loads this module by name for the worker's consumer step (portal/celery.py), possibly before Django's
    # app registry is ready: the model is imported when the first heartbeat is written (app loading).
    from operations.models import Heartbeat

    now = timezone.now()
    updated = Heartbeat.objects.filter(pk=name).update(kind=kind, pid=pid, queues=queues, seen_at=now,
                                                       **({"started_at": started_at} if started_at else {}))
    if not updated:
        Heartbeat.objects.update_or_create(pk=name, defaults={"kind": kind, "pid": pid, "queues": queues,
                                                              "seen_at": now, "started_at": started_at or now})


def heartbeat_file_write(name: str, payload: dict) -> None:
    path = heartbeat_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload))
    tmp.replace(path)  # atomic: a reader never sees half a file


def sd_notify(message: str) -> bool:
    """systemd's notification protocol (one datagram to $NOTIFY_SOCKET); a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
        return True
    except OSError:
        return False


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Consumer bootstep: every HEARTBEAT_SECONDS while the consumer runs."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.tref = None
        self.started_at = timezone.now()
        self.notified_ready = False

    def start(self, consumer):
        self.beat(consumer)
        self.tref = consumer.timer.call_repeatedly(settings.HEARTBEAT_SECONDS, self.beat, (consumer,), priority=10)

    def stop(self, consumer):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop

    def beat(self, consumer) -> None:
        name = consumer.hostname
        queues = ",".join(sorted(q.name for q in consumer.task_consumer.queues)) if consumer.task_consumer else ""
        now = timezone.now()
        heartbeat_file_write(name, {"name": name, "pid": os.getpid(), "queues": queues, "at": now.isoformat()})
        if not self.notified_ready:
            self.notified_ready = sd_notify("READY=1")
        sd_notify("WATCHDOG=1")
        try:
            close_old_connections()  # drops a connection the database closed during an outage
            heartbeat_record(name=name, kind="worker", pid=os.getpid(), queues=queues,
                             started_at=self.started_at)
        except Exception:  # a sign of life must never take the consumer down
            logger.warning("Worker heartbeat not written to the database", exc_info=True)
        finally:
            close_old_connections()
