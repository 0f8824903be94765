"""Test cases of a use case (governed: historised with the acting person and a reason) and evaluation runs of a
release against them, with one result row per case. A change request that points `production` at a release
carries the passing evaluation of exactly that release (automations.registry.services.changes)."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from automations.evaluation.choices import CaseSource, EvaluationStatus
from portal.models import TenantOwned


def _case_file_path(instance: "QualityTestCase", filename: str) -> str:
    return f"test_cases/{instance.tenant_id}/{instance.use_case_id}/{uuid.uuid4().hex}"


class QualityTestCase(TenantOwned):
    """One test case: the input (text, a file or input fields), the expected value of some output fields and
    tags. Edited in place through the services, every version kept (django-simple-history); retired, never
    deleted, so that an evaluation always points at the version it ran."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="test_cases",
                                 verbose_name=_("use case"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("input text"), blank=True)
    payload = models.JSONField(_("input fields"), default=dict, blank=True)
    file = models.FileField(_("input file"), upload_to=_case_file_path, max_length=300, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    # {field name: expected value}; output fields not named here are not scored.
    expected = models.JSONField(_("expected output"), default=dict)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=CaseSource.choices, default=CaseSource.MANUAL)
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    item = models.ForeignKey("automations.WorkItem", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("reviewed work item"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["use_case", "pk"]
        indexes = [models.Index(fields=["use_case", "is_active"], name="testcase_use_case")]
        verbose_name = _("test case")
        verbose_name_plural = _("test cases")

    def __str__(self) -> str:
        return f"{self.use_case.key} · T{self.pk}: {self.title}"


class EvaluationRun(TenantOwned):
    """A release run against the use case's active test cases in the worker, with its progress, the figures
    (`metrics`, automations.evaluation.metrics) and the verdict against the use case's quality targets."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="evaluations",
                                 verbose_name=_("use case"))
    release = models.ForeignKey("automations.Release", on_delete=models.PROTECT, related_name="evaluations",
                                verbose_name=_("release"))
    status = models.CharField(_("status"), max_length=20, choices=EvaluationStatus.choices,
                              default=EvaluationStatus.QUEUED)
    task_id = models.CharField(_("task id"), max_length=200, blank=True)
    total = models.PositiveIntegerField(_("test cases"), default=0)
    done = models.PositiveIntegerField(_("test cases done"), default=0)
    # The quality targets as they were when the run finished; the gate checks against the current ones.
    targets = models.JSONField(_("quality targets"), default=dict, blank=True)
    metrics = models.JSONField(_("figures"), default=dict, blank=True)
    passed = models.BooleanField(_("meets the quality targets"), null=True)
    misses = models.JSONField(_("targets missed"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("started by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["release", "status"], name="evaluation_release")]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.use_case.key} · R{self.release.number} · E{self.pk}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.status in (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)


class EvaluationResult(TenantOwned):
    """One test case in one evaluation: the case's version and expectation as evaluated, what the release
    suggested, where routing would have sent it, and per field whether it was right."""

    evaluation = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="results",
                                   verbose_name=_("evaluation"))
    test_case = models.ForeignKey(QualityTestCase, null=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("test case"))
    case_version = models.PositiveIntegerField(_("test case version (history id)"), null=True)
    title = models.CharField(_("title"), max_length=200)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    expected = models.JSONField(_("expected output"), default=dict)
    # {field: {"value": ..., "confidence": ..., "engine": ...}}
    predicted = models.JSONField(_("suggested output"), default=dict)
    outcome = models.CharField(_("routing"), max_length=20)
    correct = models.BooleanField(_("all fields right"), default=False)
    # {field: true|false} for each expected field
    field_correct = models.JSONField(_("fields right"), default=dict)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["evaluation", "pk"]
        verbose_name = _("evaluation result")
        verbose_name_plural = _("evaluation results")
