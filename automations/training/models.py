"""Labelled examples and trained classifier versions (immutable, stored with their evaluation)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from automations.choices import ExampleSource
from portal.models import TenantOwned


class LabelledExample(TenantOwned):
    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="examples",
                                 verbose_name=_("use case"))
    texts = models.JSONField(_("input text fields"), default=dict)
    labels = models.JSONField(_("labels (output field values)"), default=dict)
    source = models.CharField(_("source"), max_length=20, choices=ExampleSource.choices, default=ExampleSource.IMPORT)
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64)
    item = models.ForeignKey("automations.WorkItem", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("work item corrected"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["use_case", "content_hash"], name="example_hash")]
        ordering = ["use_case", "pk"]
        verbose_name = _("labelled example")
        verbose_name_plural = _("labelled examples")

    def __str__(self) -> str:
        return f"{self.use_case.key} #{self.pk}"


class ClassifierVersion(TenantOwned):
    """A trained model: immutable, with the hash of its training data, the library versions, its
    parameters and its evaluation. It reaches production only inside a release."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.PROTECT, related_name="classifier_versions",
                                 verbose_name=_("use case"))
    number = models.PositiveIntegerField(_("version"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("trained by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    text_columns = models.JSONField(_("text columns"), default=list)
    fields = models.JSONField(_("output fields"), default=list)
    training_data_hash = models.CharField(_("training data hash"), max_length=64)
    example_count = models.PositiveIntegerField(_("examples"), default=0)
    library_versions = models.JSONField(_("library versions"), default=dict)
    parameters = models.JSONField(_("parameters"), default=dict)
    evaluation = models.JSONField(_("evaluation"), default=dict)
    format_version = models.PositiveIntegerField(_("artifact format"), default=1)
    artifact = models.FileField(_("artifact"), upload_to="classifiers/", max_length=300)
    artifact_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["use_case", "number"], name="classifierversion_unique_number")]
        ordering = ["use_case", "-number"]
        verbose_name = _("classifier version")
        verbose_name_plural = _("classifier versions")

    def __str__(self) -> str:
        return f"{self.use_case.key} · classifier v{self.number}"
