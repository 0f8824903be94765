"""Health checks (django-health-check): web, database, broker, worker heartbeat, beat, disk and the heads
of the audit chains. `/health/` (token) reports them all; `/health/live/` answers without asking anyone."""
import dataclasses
import datetime
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from audit.chain import compute_hash, event_values
from audit.services.checkpoints import checkpoints_latest
from audit.streams import ACCESS, AUDIT
from operations.models import Heartbeat
from portal.celery import app


@dataclasses.dataclass
class Web(HealthCheck):
    """The web process answers and has its settings (the report itself is the proof)."""

    def run(self):
        if not settings.SECRET_KEY:
            raise ServiceUnavailable("no SECRET_KEY")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection."""

    timeout = datetime.timedelta(seconds=4)

    def run(self):
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=3)
        except Exception as exc:  # every transport raises its own kind
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


def _stale_after(seconds: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=max(3 * seconds, 60))


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """At least one worker consumes each queue: its consumer wrote a heartbeat recently."""

    def run(self):
        try:
            fresh = Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER,
                                             seen_at__gte=timezone.now() - _stale_after(settings.HEARTBEAT_SECONDS))
            queues = {q for row in fresh.values_list("queues", flat=True) for q in row.split(",") if q}
        except Exception as exc:
            raise ServiceUnavailable("heartbeats unreadable (database)") from exc
        missing = sorted({settings.CELERY_TASK_DEFAULT_QUEUE, settings.MAINTENANCE_QUEUE} - queues)
        if missing:
            raise ServiceUnavailable(f"no live worker consumes: {', '.join(missing)}")


@dataclasses.dataclass
class Beat(HealthCheck):
    """Beat sent its heartbeat task and the maintenance worker ran it within three of its intervals."""

    def run(self):
        try:
            row = Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).order_by("-seen_at").first()
        except Exception as exc:
            raise ServiceUnavailable("heartbeats unreadable (database)") from exc
        interval = settings.CELERY_BEAT_SCHEDULE["beat-heartbeat"]["schedule"]
        if row is None:
            raise ServiceUnavailable("beat has never reported")
        age = (timezone.now() - row.seen_at).total_seconds()
        if age > 3 * interval:
            raise ServiceUnavailable(f"beat last reported {age:.0f} s ago")


def _watched_folders() -> dict[str, Path]:
    return {"var": Path(settings.VAR_DIR), "media": Path(settings.MEDIA_ROOT),
            "checkpoints": Path(settings.AUDIT_CHECKPOINT_DIR)}


@dataclasses.dataclass
class Disk(HealthCheck):
    """The folders the portal writes to (var, media, audit checkpoints) exist, are writable and not full."""

    def run(self):
        full = []
        for label, folder in _watched_folders().items():
            probe = folder
            while not probe.exists() and probe != probe.parent:
                probe = probe.parent
            if not os.access(probe, os.W_OK):
                raise ServiceUnavailable(f"{label} folder not writable")
            usage = shutil.disk_usage(probe)
            percent = 100.0 * usage.used / usage.total if usage.total else 0.0
            if percent > settings.HEALTH_DISK_MAX_PERCENT:
                full.append(f"{label} {percent:.0f} %")
        if full:
            raise ServiceWarning(f"disk usage above {settings.HEALTH_DISK_MAX_PERCENT} %: {', '.join(full)}")


@dataclasses.dataclass
class AuditChainHead(HealthCheck):
    """Every chain's head row points at its newest event, whose hash is right, and no chain is shorter than
    its newest signed checkpoint (a cut-off chain). The full verification runs daily (verify_audit)."""

    def run(self):
        try:
            checkpoints = checkpoints_latest()
        except Exception:  # noqa: BLE001 - an unreadable checkpoint folder is reported by verify_audit
            checkpoints = {}
        try:
            for stream in (AUDIT, ACCESS):
                for head in stream.head_model.objects.all():
                    newest = stream.event_model.objects.filter(chain=head.chain).order_by("-sequence").first()
                    if newest is None:
                        if head.sequence:
                            raise ServiceUnavailable(f"chain {head.chain}: head at {head.sequence}, no events")
                        continue
                    if (newest.sequence, newest.hash) != (head.sequence, head.hash):
                        raise ServiceUnavailable(f"chain {head.chain}: head {head.sequence} differs from the "
                                                 f"newest event {newest.sequence}")
                    if compute_hash(event_values(newest)) != newest.hash:
                        raise ServiceUnavailable(f"chain {head.chain}: sequence {newest.sequence} modified")
                    checkpoint = checkpoints.get(head.chain)
                    if checkpoint is not None and checkpoint.sequence > newest.sequence:
                        raise ServiceUnavailable(f"chain {head.chain}: cut off after {newest.sequence}, "
                                                 f"checkpoint at {checkpoint.sequence}")
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable("audit chains unreadable (database)") from exc


CHECKS = (Web, Database, Broker, WorkerHeartbeat, Beat, Disk, AuditChainHead)
