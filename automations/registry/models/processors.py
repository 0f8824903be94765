"""Processors (language model providers of the catalogue) at run time: a processor's API key (encrypted at
rest) and its circuit breaker. The calls themselves are execution records (automations.execution.models.llm_calls)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import TenantOwned


class CircuitState(models.TextChoices):
    CLOSED = "closed", _("Closed (calls go through)")
    OPEN = "open", _("Open (no calls until the cool-down has passed)")
    HALF_OPEN = "half_open", _("Half open (one trial call)")


class ProcessorSecret(TenantOwned):
    """The API key of a processor (catalogue entry), Fernet-encrypted with the configured field keys
    (portal.field_keys). Set through processor_secret_set; never shown again."""

    entry = models.OneToOneField("automations.CatalogueEntry", on_delete=models.CASCADE, related_name="secret",
                                 verbose_name=_("processor"))
    ciphertext = models.TextField(_("encrypted key"), editable=False)
    key_fingerprint = models.CharField(_("key fingerprint"), max_length=80, editable=False)
    set_at = models.DateTimeField(_("set at"), default=timezone.now, editable=False)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("set by"))

    class Meta:
        verbose_name = _("processor API key")
        verbose_name_plural = _("processor API keys")

    def __str__(self) -> str:
        return f"{self.entry.key} ({self.key_fingerprint})"


class ProcessorCircuit(TenantOwned):
    """Circuit breaker per processor, kept in the database so every worker sees it: opens after a run
    of failed calls, lets one trial call through after the cool-down, closes on success."""

    entry = models.OneToOneField("automations.CatalogueEntry", on_delete=models.CASCADE, related_name="circuit",
                                 verbose_name=_("processor"))
    state = models.CharField(_("state"), max_length=20, choices=CircuitState.choices, default=CircuitState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    # While half open: the trial call's slot; other callers wait until it is answered or this passes.
    probe_until = models.DateTimeField(_("trial call until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("processor circuit")
        verbose_name_plural = _("processor circuits")

    def __str__(self) -> str:
        return f"{self.entry.key}: {self.state}"
