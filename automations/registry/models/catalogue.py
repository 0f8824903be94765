"""The Baukasten: a tenant's approved processors (LLM providers) and connectors."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from automations.choices import CatalogueKind, ConnectorDirection, ConnectorType, TransferBasis
from portal.models import TenantOwned


class CatalogueEntry(TenantOwned):
    """An approved building block. A use case may only use active entries; adding or widening one is a
    change request that the security officer (and the DSB, for personal data) approves."""

    kind = models.CharField(_("kind"), max_length=20, choices=CatalogueKind.choices)
    key = models.SlugField(_("key"), max_length=60)
    # Connectors only: what kind of connector, and whether work arrives through it or results leave.
    connector_type = models.CharField(_("connector type"), max_length=20, choices=ConnectorType.choices, blank=True)
    direction = models.CharField(_("direction"), max_length=20, choices=ConnectorDirection.choices, blank=True)
    name = models.CharField(_("name"), max_length=200)
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    method = models.CharField(_("integration method"), max_length=60, blank=True,
                              help_text=_("e.g. openai-compatible, imap, rest, sftp, erp-api"))
    endpoint = models.CharField(_("endpoint / base URL"), max_length=500, blank=True)
    location = models.CharField(_("processing location"), max_length=120, blank=True)
    transfer_basis = models.CharField(_("transfer basis"), max_length=20, choices=TransferBasis.choices,
                                      default=TransferBasis.EU_EEA)
    dpa_reference = models.CharField(_("data processing agreement (Art. 28 GDPR)"), max_length=200, blank=True)
    approved_categories = models.JSONField(_("approved personal data categories"), default=list, blank=True)
    # Non-secret settings (model name, timeouts, folder); the API key is stored encrypted elsewhere.
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="catalogueentry_unique_tenant_key")]
        ordering = ["kind", "name"]
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def approves(self, categories: set[str]) -> bool:
        return set(categories) <= set(self.approved_categories)
