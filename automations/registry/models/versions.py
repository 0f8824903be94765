"""Versions are rows, never edits: prompt templates, thresholds, guardrails and engine configurations
are numbered per use case, frozen once submitted, and bundled exactly by a Release."""
import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from automations.choices import Engine, Label
from portal.models import TenantOwned


def content_hash(content: dict) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    ).hexdigest()


class VersionedRecord(TenantOwned):
    """Common to every version: number per use case, author, change note, content hash. A draft version
    may be revised by its author; once submitted it never changes (the services refuse, and so does
    the database on PostgreSQL)."""

    CONTENT_FIELDS: tuple[str, ...] = ()
    KIND: str = ""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("use case"))
    number = models.PositiveIntegerField(_("version"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    change_note = models.TextField(_("change note"), blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["use_case", "-number"]

    def __str__(self) -> str:
        return f"{self.use_case.key} · {self._meta.verbose_name} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.submitted_at is not None

    def content(self) -> dict:
        return {name: getattr(self, name) for name in self.CONTENT_FIELDS}

    def refresh_content_hash(self) -> None:
        self.content_hash = content_hash(self.content())


def _unique_number(model_name: str) -> list:
    return [models.UniqueConstraint(fields=["use_case", "number"], name=f"{model_name}_unique_number")]


class PromptTemplateVersion(VersionedRecord):
    KIND = "prompt_template"
    CONTENT_FIELDS = ("template", "system_prompt", "declared_fields", "processor_key", "model_name", "parameters",
                      "output_schema", "confidence_mode", "fixed_confidence", "output_field")

    template = models.TextField(_("template"), help_text=_("Variables as {{ field_name }}."))
    system_prompt = models.TextField(_("system prompt"), blank=True)
    declared_fields = models.JSONField(_("input fields the template may use"), default=list)
    processor_key = models.SlugField(_("processor (catalogue key)"), max_length=60, blank=True)
    model_name = models.CharField(_("model"), max_length=120, blank=True)
    parameters = models.JSONField(_("model parameters"), default=dict, blank=True)
    output_schema = models.JSONField(_("expected output (JSON Schema)"), default=dict, blank=True)
    CONFIDENCE_MODES = [("logprobs", _("log-probabilities")), ("self_consistency", _("self-consistency")),
                        ("fixed", _("a fixed value"))]
    confidence_mode = models.CharField(_("confidence from"), max_length=20, default="fixed",
                                       choices=CONFIDENCE_MODES)
    fixed_confidence = models.FloatField(_("fixed confidence"), default=0.5)
    output_field = models.CharField(_("output field filled"), max_length=60, blank=True)

    class Meta(VersionedRecord.Meta):
        constraints = _unique_number("prompttemplateversion")
        verbose_name = _("prompt template version")
        verbose_name_plural = _("prompt template versions")


class ThresholdSetVersion(VersionedRecord):
    """Per output field: at or above `auto` a value may be applied automatically; below `reject` it is
    dropped and the field goes to clarification; in between, a person reviews it."""

    KIND = "threshold_set"
    CONTENT_FIELDS = ("thresholds",)

    thresholds = models.JSONField(_("thresholds"), default=dict, help_text='{"field": {"auto": 0.95, "reject": 0.3}}')

    class Meta(VersionedRecord.Meta):
        constraints = _unique_number("thresholdsetversion")
        verbose_name = _("threshold set version")
        verbose_name_plural = _("threshold set versions")


class GuardrailSetVersion(VersionedRecord):
    KIND = "guardrail_set"
    CONTENT_FIELDS = ("forbidden_phrases", "forbidden_patterns", "personal_data_patterns", "required_disclaimers",
                      "max_length")

    forbidden_phrases = models.JSONField(_("forbidden phrases"), default=list, blank=True)
    forbidden_patterns = models.JSONField(_("forbidden patterns (regular expressions)"), default=list, blank=True)
    personal_data_patterns = models.JSONField(_("personal data that must not appear"), default=list, blank=True,
                                              help_text=_("e.g. email, iban, phone"))
    required_disclaimers = models.JSONField(_("required disclaimers"), default=list, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length (characters)"), null=True, blank=True)

    class Meta(VersionedRecord.Meta):
        constraints = _unique_number("guardrailsetversion")
        verbose_name = _("guardrail set version")
        verbose_name_plural = _("guardrail set versions")


class EngineConfigVersion(VersionedRecord):
    KIND = "engine_config"
    CONTENT_FIELDS = ("engine", "parameters", "artifact_ref", "fields")

    engine = models.CharField(_("engine"), max_length=20, choices=Engine.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    artifact_ref = models.CharField(_("trained model artifact"), max_length=200, blank=True)
    fields = models.JSONField(_("output fields it suggests"), default=list, blank=True)

    class Meta(VersionedRecord.Meta):
        constraints = _unique_number("engineconfigversion")
        verbose_name = _("engine configuration version")
        verbose_name_plural = _("engine configuration versions")


VERSION_MODELS = {m.KIND: m for m in (PromptTemplateVersion, ThresholdSetVersion, GuardrailSetVersion,
                                      EngineConfigVersion)}


class Release(TenantOwned):
    """An immutable bundle of exact, submitted versions. Labels point at releases; a run records the
    release it used."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="releases",
                                 verbose_name=_("use case"))
    number = models.PositiveIntegerField(_("release"))
    engine_configs = models.ManyToManyField(EngineConfigVersion, related_name="releases",
                                            verbose_name=_("engine configurations"))
    prompt_template = models.ForeignKey(PromptTemplateVersion, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="releases", verbose_name=_("prompt template"))
    threshold_set = models.ForeignKey(ThresholdSetVersion, on_delete=models.PROTECT, related_name="releases",
                                      verbose_name=_("thresholds"))
    guardrail_set = models.ForeignKey(GuardrailSetVersion, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="releases", verbose_name=_("guardrails"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    note = models.TextField(_("release note"), blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["use_case", "number"], name="release_unique_number")]
        ordering = ["use_case", "-number"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")

    def __str__(self) -> str:
        return f"{self.use_case.key} · R{self.number}"

    def manifest(self) -> dict:
        """The exact versions bundled, as recorded by every run."""
        return {
            "release": self.number,
            "engine_configs": sorted((e.engine, e.number) for e in self.engine_configs.all()),
            "prompt_template": self.prompt_template.number if self.prompt_template is not None else None,
            "threshold_set": self.threshold_set.number,
            "guardrail_set": self.guardrail_set.number if self.guardrail_set is not None else None,
        }


class ReleaseLabel(TenantOwned):
    """`pilot` or `production` of a use case points at one release; moving it is a change request."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="labels",
                                 verbose_name=_("use case"))
    name = models.CharField(_("label"), max_length=20, choices=Label.choices)
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="labels", verbose_name=_("release"))
    moved_at = models.DateTimeField(_("moved at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["use_case", "name"], name="releaselabel_unique_name")]
        verbose_name = _("release label")
        verbose_name_plural = _("release labels")

    def __str__(self) -> str:
        return f"{self.use_case.key}:{self.name} → R{self.release.number}"
