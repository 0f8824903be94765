"""The Leitstand's daily figures: one row per use case and day, so that a year of figures is a few hundred rows
read at once instead of every item, run and decision recounted on each page view. Derived data: recomputed
from the records whenever wanted (leitstand.services), never edited by people, and free of personal data."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import TenantOwned


class DailyFigures(TenantOwned):
    """What happened to one use case's items on one day (the portal's time zone). Each figure counts events
    of that day: items received that day, final that day, decisions taken that day, tasks due that day."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("use case"))
    day = models.DateField(_("day"))
    received = models.PositiveIntegerField(_("items received"), default=0)
    applied_auto = models.PositiveIntegerField(_("applied automatically"), default=0)
    applied_manual = models.PositiveIntegerField(_("applied after review"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    escalations = models.PositiveIntegerField(_("escalations"), default=0)
    failed = models.PositiveIntegerField(_("runs failed for good"), default=0)
    # Review decisions that judge a suggestion (approve, correct, reject; sample checks included).
    decisions = models.PositiveIntegerField(_("review decisions"), default=0)
    corrected = models.PositiveIntegerField(_("decisions with a correction"), default=0)
    # {field: [corrected, reviewed]}: how often each output field was changed by the clerk, of how often seen.
    field_corrections = models.JSONField(_("corrections per field"), default=dict, blank=True)
    # {step key: failed step runs}
    step_failures = models.JSONField(_("failures per pipeline step"), default=dict, blank=True)
    # Time from receipt to the final result (applied or rejected) of the items final that day.
    latency_count = models.PositiveIntegerField(default=0)
    latency_p50_ms = models.BigIntegerField(null=True, blank=True)
    latency_p95_ms = models.BigIntegerField(null=True, blank=True)
    # {bucket index: count} of a logarithmic histogram (leitstand.selectors.latency_bucket): the percentiles
    # of a longer period come from the days' histograms added up.
    latency_histogram = models.JSONField(default=dict, blank=True)
    # Pipeline processing time of the runs that succeeded that day.
    processing_p50_ms = models.BigIntegerField(null=True, blank=True)
    processing_p95_ms = models.BigIntegerField(null=True, blank=True)
    backlog = models.PositiveIntegerField(_("open review tasks at the end of the day"), default=0)
    sla_breaches = models.PositiveIntegerField(_("review tasks past their due time"), default=0)
    # Ten bands of suggestion confidence, [0, 0.1) … [0.9, 1.0]: the distribution, day by day (drift).
    confidence_bands = models.JSONField(_("suggestions per confidence band"), default=list, blank=True)
    confidence_sum = models.FloatField(default=0.0)
    delivery_failures = models.PositiveIntegerField(_("failed delivery attempts"), default=0)
    deliveries_dead = models.PositiveIntegerField(_("dead letters"), default=0)
    delivered = models.PositiveIntegerField(_("deliveries delivered"), default=0)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["use_case", "day"], name="dailyfigures_unique_day")]
        indexes = [models.Index(fields=["tenant", "day"], name="dailyfigures_tenant_day")]
        ordering = ["day", "use_case"]
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")

    def __str__(self) -> str:
        return f"{self.use_case_id} {self.day}"
