"""Quality records: the circuit breaker of each use case (read by routing), backtests of threshold sets on
past decisions, and the periodic reviews. The app label stays `automations` (automations/models/__init__.py)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from automations.quality.choices import ReviewOutcome, ReviewState
from portal.models import TenantOwned


class QualityBreaker(TenantOwned):
    """Per use case: while `tripped`, nothing is applied automatically (routing sends every item to review).
    It trips by itself when the figures of its window miss the use case's quality targets; it is switched
    back on only by an approved change request (kind `quality_breaker_reset`)."""

    use_case = models.OneToOneField("automations.UseCase", on_delete=models.CASCADE, related_name="quality_breaker",
                                    verbose_name=_("use case"))
    tripped = models.BooleanField(_("automatic application switched off"), default=False)
    tripped_at = models.DateTimeField(_("switched off at"), null=True, blank=True)
    # Why, in the words shown to people, and the figures that made it trip.
    reason = models.TextField(_("reason"), blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    reset_at = models.DateTimeField(_("switched on again at"), null=True, blank=True)
    reset_change_request = models.ForeignKey("automations.ChangeRequest", null=True, blank=True,
                                             on_delete=models.SET_NULL, related_name="+",
                                             verbose_name=_("switched on again by"))
    evaluated_at = models.DateTimeField(_("last evaluated"), null=True, blank=True)
    last_figures = models.JSONField(_("figures of the last evaluation"), default=dict, blank=True)

    class Meta:
        verbose_name = _("quality circuit breaker")
        verbose_name_plural = _("quality circuit breakers")

    def __str__(self) -> str:
        return f"{self.use_case} · {'off' if self.tripped else 'on'}"


class ThresholdBacktest(TenantOwned):
    """Proposed thresholds replayed on the past routed items and the clerks' decisions of `days` days; kept
    when attached to a change request (figures are stored as computed, so approvers see what was shown)."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("use case"))
    threshold_set = models.ForeignKey("automations.ThresholdSetVersion", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+", verbose_name=_("thresholds"))
    change_request = models.ForeignKey("automations.ChangeRequest", null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="threshold_backtests", verbose_name=_("change request"))
    thresholds = models.JSONField(_("thresholds replayed"), default=dict)
    days = models.PositiveIntegerField(_("days replayed"))
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("computed at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("threshold backtest")
        verbose_name_plural = _("threshold backtests")

    def __str__(self) -> str:
        return f"{self.use_case} · backtest {self.pk}"


class UseCaseReview(TenantOwned):
    """A periodic review of a use case, due from its review interval: a checklist, the period's figures and
    an outcome; completing it sets the use case's `last_reviewed_at`."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="periodic_reviews",
                                 verbose_name=_("use case"))
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=20, choices=ReviewState.choices, default=ReviewState.DUE)
    period_start = models.DateTimeField(_("period from"))
    period_end = models.DateTimeField(_("period to"), null=True, blank=True)
    checklist = models.JSONField(_("checklist"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    figures = models.JSONField(_("figures of the period"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=ReviewOutcome.choices, blank=True)
    change_request = models.ForeignKey("automations.ChangeRequest", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", verbose_name=_("change request"))
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("reviewed by"))
    completed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["use_case", "due_on"], name="usecasereview_unique_due")]
        ordering = ["-due_on"]
        verbose_name = _("periodic review")
        verbose_name_plural = _("periodic reviews")

    def __str__(self) -> str:
        return f"{self.use_case} · {self.due_on}"
