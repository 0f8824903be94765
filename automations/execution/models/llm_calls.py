"""One row per language model call, with what was sent (as a hash, and masked where the use case allows),
tokens and latency: written by the execution layer as the call happens (pipeline runs and the playground)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import TenantOwned


class LlmCallStatus(models.TextChoices):
    OK = "ok", _("Answered")
    FAILED = "failed", _("Failed")
    CIRCUIT_OPEN = "circuit_open", _("Not sent: provider circuit open")


class LlmCallPurpose(models.TextChoices):
    RUN = "run", _("Pipeline run")
    REPAIR = "repair", _("Repair attempt")
    SAMPLE = "sample", _("Self-consistency sample")
    PLAYGROUND = "playground", _("Prompt playground")


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
