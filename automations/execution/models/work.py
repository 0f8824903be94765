"""Execution records: master data, work items and their files, runs, steps, suggestions, escalations."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from automations.choices import (
    EscalationState,
    ItemSource,
    ItemStatus,
    MasterKind,
    PipelineStep,
    RunStatus,
    RunTrigger,
    StepStatus,
)
from portal.models import TenantOwned


class MasterRecord(TenantOwned):
    """A supplier or customer, used to resolve the references in incoming items."""

    kind = models.CharField(_("kind"), max_length=20, choices=MasterKind.choices)
    number = models.CharField(_("number"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    vat_id = models.CharField(_("VAT id"), max_length=40, blank=True)
    iban = models.CharField(_("IBAN"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "number"], name="masterrecord_unique_number")]
        indexes = [
            models.Index(fields=["tenant", "kind", "vat_id"], name="masterrecord_vat"),
            models.Index(fields=["tenant", "kind", "iban"], name="masterrecord_iban"),
        ]
        ordering = ["kind", "name"]
        verbose_name = _("master data record")
        verbose_name_plural = _("master data")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class WorkItem(TenantOwned):
    """One document, ticket, e-mail or record to process. `fields` is the item's current view per
    output field: every value the engines found, and after a clerk's decision the final value."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the four composite indexes below start with the tenant and serve every lookup by it,
    # and one index less is one less to write per item (the bulk import writes tens of thousands a second).
    tenant = models.ForeignKey("portal.Tenant", on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"),
                               db_index=False)
    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="work_items",
                                 verbose_name=_("use case"))
    source = models.CharField(_("source"), max_length=20, choices=ItemSource.choices, default=ItemSource.API)
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    # NULL, not "": items sent without a key never collide in the unique constraint.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True)  # noqa: DJ001
    content_hash = models.CharField(_("content hash"), max_length=64)
    payload = models.JSONField(_("input fields"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.RECEIVED)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    # No index on release or creator: nothing looks items up by either, releases are never deleted and users are
    # deactivated, not deleted (a deletion's check would read the table once) — two indexes less per item written.
    release = models.ForeignKey("automations.Release", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("release"), db_index=False)
    is_dry_run = models.BooleanField(_("dry run"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"), db_index=False)
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    finalised_at = models.DateTimeField(_("final since"), null=True, blank=True)
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    restricted = models.BooleanField(_("processing restricted (Art. 18 GDPR)"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="workitem_unique_idempotency_key",
                                    condition=models.Q(idempotency_key__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["tenant", "use_case", "status", "finalised_at"], name="workitem_results"),
            models.Index(fields=["tenant", "content_hash"], name="workitem_content_hash"),
            models.Index(fields=["tenant", "external_id"], name="workitem_external_id"),
            models.Index(fields=["tenant", "status", "updated_at"], name="workitem_status"),
        ]
        ordering = ["-created_at"]
        verbose_name = _("work item")
        verbose_name_plural = _("work items")

    def __str__(self) -> str:
        return f"{self.use_case.key}/{str(self.id)[:8]}"


def _item_file_path(instance: "WorkItemFile", filename: str) -> str:
    return f"items/{instance.tenant_id}/{instance.item_id}/{uuid.uuid4().hex}"


class WorkItemFile(TenantOwned):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="files", verbose_name=_("work item"))
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=_item_file_path, max_length=300)

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")

    def __str__(self) -> str:
        return self.name


class Run(TenantOwned):
    """One execution of the pipeline on an item, with the exact release it used. `lease_expires_at` is
    what the reaper watches: a run past its lease is retried or escalated."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="runs", verbose_name=_("work item"))
    # No index on release: runs are read by item, status and lease, never by release (immutable, never deleted).
    release = models.ForeignKey("automations.Release", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="runs", verbose_name=_("release"), db_index=False)
    manifest = models.JSONField(_("versions used"), default=dict, blank=True)
    label = models.CharField(_("label"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(_("trigger"), max_length=20, choices=RunTrigger.choices, default=RunTrigger.INTAKE)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    input_hash = models.CharField(_("input hash"), max_length=64, blank=True)
    output_hash = models.CharField(_("output hash"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="run_lease")]
        ordering = ["-created_at"]
        verbose_name = _("run")
        verbose_name_plural = _("runs")

    def __str__(self) -> str:
        return f"run {self.pk} of {self.item_id}"


class StepRun(TenantOwned):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps", verbose_name=_("run"))
    step = models.CharField(_("step"), max_length=30)
    status = models.CharField(_("status"), max_length=20, choices=StepStatus.choices)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.TextField(_("error"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["run", "started_at", "pk"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self) -> str:
        return f"{self.step} ({self.status})"

    @property
    def step_label(self) -> str:
        try:
            return str(PipelineStep(self.step).label)
        except ValueError:
            return self.step


class Suggestion(TenantOwned):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="suggestions", verbose_name=_("run"))
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="suggestions",
                             verbose_name=_("work item"))
    field = models.CharField(_("field"), max_length=60)
    value = models.JSONField(_("value"), null=True)
    confidence = models.FloatField(_("confidence"))
    engine = models.CharField(_("engine"), max_length=20)
    explanation = models.TextField(_("explanation"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["run", "field"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")

    def __str__(self) -> str:
        return f"{self.field}={self.value!r} ({self.confidence:.2f})"


class Escalation(TenantOwned):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="escalations",
                             verbose_name=_("work item"))
    reason = models.TextField(_("reason"))
    contact = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="escalations", verbose_name=_("escalation contact"))
    manual_fallback = models.TextField(_("manual fallback"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=EscalationState.choices, default=EscalationState.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "state", "contact"], name="escalation_open")]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"{self.item} · {self.get_state_display()}"


class ResultAcknowledgement(TenantOwned):
    """A target system (consumer) took a final item; each consumer takes each item once."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="acknowledgements")
    consumer = models.CharField(_("consumer"), max_length=100)
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "consumer"], name="ack_unique_item_consumer")]
        verbose_name = _("result acknowledgement")
        verbose_name_plural = _("result acknowledgements")
