"""Language model providers at run time: a processor's API key (encrypted at rest), its circuit breaker,
and one row per call with what was sent (as a hash, and masked where the use case allows), tokens and
latency."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import TenantOwned


class CircuitState(models.TextChoices):
    CLOSED = "closed", _("Closed (calls go through)")
    OPEN = "open", _("Open (no calls until the cool-down has passed)")
    HALF_OPEN = "half_open", _("Half open (one trial call)")


class LlmCallStatus(models.TextChoices):
    OK = "ok", _("Answered")
    FAILED = "failed", _("Failed")
    CIRCUIT_OPEN = "circuit_open", _("Not sent: provider circuit open")


class LlmCallPurpose(models.TextChoices):
    RUN = "run", _("Pipeline run")
    REPAIR = "repair", _("Repair attempt")
    SAMPLE = "sample", _("Self-consistency sample")
    PLAYGROUND = "playground", _("Prompt playground")


class ProcessorSecret(TenantOwned):
    """The API key of a processor (catalogue entry), Fernet-encrypted with the configured field keys
    (automations.secrets). Set through processor_secret_set; never shown again."""

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


class LlmCall(TenantOwned):
    """One call to a provider (with its retries). The prompt is kept as a hash; the masked text only
    when the use case allows it (UseCase.store_masked_prompts)."""

    item = models.ForeignKey("automations.WorkItem", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="llm_calls", verbose_name=_("work item"))
    use_case = models.ForeignKey("automations.UseCase", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("use case"))
    prompt_version = models.ForeignKey("automations.PromptTemplateVersion", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("prompt template version"))
    processor_key = models.SlugField(_("processor"), max_length=60)
    model = models.CharField(_("model"), max_length=120)
    purpose = models.CharField(_("purpose"), max_length=20, choices=LlmCallPurpose.choices,
                               default=LlmCallPurpose.RUN)
    prompt_hash = models.CharField(_("prompt hash (SHA-256)"), max_length=64)
    prompt_masked = models.TextField(_("masked prompt"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=LlmCallStatus.choices)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "processor_key", "created_at"], name="llmcall_processor")]
        verbose_name = _("language model call")
        verbose_name_plural = _("language model calls")

    def __str__(self) -> str:
        return f"{self.processor_key}/{self.model} {self.status} ({self.latency_ms} ms)"
