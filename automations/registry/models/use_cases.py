"""The automation registry: a tenant's control settings and its documented use cases."""
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from automations.choices import LegalBasis, RiskTier, UseCaseStatus
from portal.models import Tenant, TenantOwned

DEFAULT_DATA_CATEGORIES = [
    "contact", "bank", "contract", "employee", "customer_history", "identification", "health", "other",
]


def _default_categories() -> list[str]:
    return list(DEFAULT_DATA_CATEGORIES)


def _default_standard_kinds() -> list[str]:
    return ["threshold_small_move"]


class TenantPolicy(models.Model):
    """Per tenant: the controller's details for the records of processing, and the control settings.

    Settings that weaken a control (marked in WEAKENING_FIELDS) change only through a change request;
    the contact details and the data category vocabulary are edited directly (audited, historised).
    The works agreement and the smallest group size decide whether figures about people are shown
    (reviews.oversight, the works council's view): a change to them needs the works council
    (WORKS_COUNCIL_FIELDS)."""

    WEAKENING_FIELDS = (
        "allow_dual_role", "standard_change_kinds", "standard_threshold_delta", "bulk_approval_allowed",
        "sample_check_share", "works_agreement_reference", "min_group_size",
    )
    WORKS_COUNCIL_FIELDS = ("works_agreement_reference", "min_group_size")

    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="policy")
    controller_name = models.CharField(_("controller"), max_length=200, blank=True)
    controller_contact = models.TextField(_("controller contact details"), blank=True)
    dsb_contact = models.TextField(_("data protection officer contact details"), blank=True)
    technical_measures = models.TextField(_("technical and organisational measures"), blank=True)
    data_categories = models.JSONField(_("personal data categories"), default=_default_categories)
    allow_dual_role = models.BooleanField(
        _("one person may fill two approver roles"), default=False,
        help_text=_("Off by default: each required role is filled by a different person."),
    )
    standard_change_kinds = models.JSONField(_("standard change kinds"), default=_default_standard_kinds, blank=True)
    standard_threshold_delta = models.DecimalField(
        _("largest threshold move that counts as a standard change"), max_digits=4, decimal_places=3, default=0.05
    )
    bulk_approval_allowed = models.BooleanField(_("bulk approval allowed"), default=False)
    sample_check_share = models.DecimalField(
        _("share of automatically applied items sent to sample checks"), max_digits=4, decimal_places=3, default=0.05
    )
    change_request_expiry_days = models.PositiveIntegerField(_("change requests expire after (days)"), default=30)
    works_agreement_reference = models.CharField(_("works agreement (Betriebsvereinbarung)"), max_length=200,
                                                 blank=True)
    min_group_size = models.PositiveIntegerField(_("smallest group shown in figures about people"), default=5)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tenant policy")
        verbose_name_plural = _("tenant policies")

    def __str__(self) -> str:
        return str(self.tenant)


class UseCase(TenantOwned):
    """One AI use case, documented to the portal's standard. Every field is historised."""

    key = models.SlugField(_("key"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    department = models.CharField(_("department"), max_length=120, blank=True)
    purpose = models.TextField(_("purpose"))
    automated_decisions = models.TextField(_("decisions that are automated"), blank=True)
    human_decisions = models.TextField(_("decisions that stay with people"), blank=True)
    # [{"kind": "erp", "system": "SAP Business One"}]
    integration_points = models.JSONField(_("integration points"), default=list, blank=True)
    # [{"name", "type", "choices", "required", "validation", "send_to_model", "personal_data", "category"}]
    input_fields = models.JSONField(_("input fields"), default=list, blank=True)
    output_fields = models.JSONField(_("output fields"), default=list, blank=True)
    data_subjects = models.JSONField(_("data subjects"), default=list, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices, default=LegalBasis.NONE)
    legal_basis_note = models.TextField(_("legal basis, explained"), blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    catalogue_entries = models.ManyToManyField(
        "automations.CatalogueEntry", blank=True, related_name="use_cases", verbose_name=_("processors and connectors")
    )
    retention_days = models.PositiveIntegerField(_("work items kept for (days)"), default=90)
    risk_tier = models.CharField(_("EU AI Act risk tier"), max_length=20, choices=RiskTier.choices,
                                 default=RiskTier.MINIMAL)
    risk_rationale = models.TextField(_("risk rationale"), blank=True)
    dpia_reference = models.CharField(_("data protection impact assessment (reference)"), max_length=200, blank=True)
    worker_information_reference = models.CharField(_("worker information (reference)"), max_length=200, blank=True)
    affects_employees = models.BooleanField(_("affects employees (works council co-determination)"), default=False)
    department_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name=_("department owner"))
    it_contact = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("IT contact"))
    security_officer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name=_("information security officer"))
    data_protection_officer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                on_delete=models.SET_NULL, related_name="+",
                                                verbose_name=_("data protection officer"))
    escalation_contact = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+", verbose_name=_("escalation contact"))
    manual_fallback = models.TextField(_("manual fallback procedure"), blank=True)
    # {"min_precision": {"field": 0.95}, "max_correction_rate": 0.1, "min_automation_share": 0.5}
    quality_targets = models.JSONField(_("quality targets"), default=dict, blank=True)
    review_interval_days = models.PositiveIntegerField(_("review interval (days)"), default=365)
    last_reviewed_at = models.DateTimeField(_("last reviewed"), null=True, blank=True)
    training_reuse_allowed = models.BooleanField(
        _("corrected items may be reused as training data"), default=False,
        help_text=_("Purpose limitation: only when purpose and legal basis allow it."),
    )
    store_masked_prompts = models.BooleanField(_("masked prompts may be stored"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=UseCaseStatus.choices, default=UseCaseStatus.DRAFT)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords(m2m_fields=[catalogue_entries])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="usecase_unique_tenant_key")]
        permissions = [("suspend_usecase", "Can suspend a use case (kill switch)")]
        ordering = ["title"]
        verbose_name = _("use case")
        verbose_name_plural = _("use cases")

    def __str__(self) -> str:
        return self.title

    # --- facts derived from the documentation, used by change control and the pipeline ----------

    @property
    def processes_personal_data(self) -> bool:
        fields = list(self.input_fields) + list(self.output_fields)
        return bool(self.data_subjects) or any(f.get("personal_data") for f in fields)

    def personal_data_categories(self) -> set[str]:
        fields = list(self.input_fields) + list(self.output_fields)
        return {f.get("category") for f in fields if f.get("personal_data") and f.get("category")}

    def retention_end(self, received_at):
        """When an item received at `received_at` may go. Under a legal obligation (§ 147 AO, § 257 HGB) the
        period runs from the end of the calendar year of receipt, in whole years (3650 days: ten years), so an
        invoice of March 2016 is kept to the end of 2026; otherwise retention_days from receipt."""
        if self.legal_basis != LegalBasis.LEGAL_OBLIGATION:
            return received_at + timedelta(days=self.retention_days)
        years = max(1, round(self.retention_days / 365))
        local = timezone.localtime(received_at)
        return local.replace(year=local.year + years + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)

    def retention_cutoff(self, now):
        """Items received before this moment are past their retention (the inverse of retention_end)."""
        if self.legal_basis != LegalBasis.LEGAL_OBLIGATION:
            return now - timedelta(days=self.retention_days)
        years = max(1, round(self.retention_days / 365))
        local = timezone.localtime(now)
        return local.replace(year=local.year - years, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)

    def output_field(self, name: str) -> dict | None:
        return next((f for f in self.output_fields if f.get("name") == name), None)

    @property
    def review_due_at(self):
        start = self.last_reviewed_at or self.created_at
        return start + timedelta(days=self.review_interval_days)
