from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The newest sign of life of one background process: a Celery worker (written by its consumer loop,
    operations.heartbeat) or beat (written by the beat heartbeat task on the maintenance queue)."""

    class Kind(models.TextChoices):
        WORKER = "worker", _("worker")
        BEAT = "beat", _("beat")

    name = models.CharField(_("name"), max_length=200, primary_key=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    pid = models.PositiveIntegerField(_("process id"), default=0)
    queues = models.CharField(_("queues"), max_length=200, blank=True, default="")
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    seen_at = models.DateTimeField(_("seen at"), default=timezone.now)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"
