"""What the document stage read of an item's files: one row per document (a file, or an attachment of an
e-mail), one row per page with its words and boxes and how it was read. Written by the pipeline's read
step in the worker; shown on the review page so that a clerk sees the text a value came from."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from automations.documents.choices import DocumentKind, ReadMethod
from portal.models import TenantOwned


class ItemDocument(TenantOwned):
    """One document of a work item as text. `position` orders an item's documents as they were read
    (a mail first, then its attachments); `parent` is the mail an attachment came with."""

    item = models.ForeignKey("automations.WorkItem", on_delete=models.CASCADE, related_name="documents",
                             verbose_name=_("work item"))
    file = models.ForeignKey("automations.WorkItemFile", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="documents", verbose_name=_("file"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments",
                               verbose_name=_("attached to"))
    position = models.PositiveIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices)
    text = models.TextField(_("text"), blank=True)
    mail = models.JSONField(_("e-mail headers"), default=dict, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    created_at = models.DateTimeField(_("read at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["item", "position"]
        constraints = [models.UniqueConstraint(fields=["item", "position"], name="itemdocument_unique_position")]
        verbose_name = _("read document")
        verbose_name_plural = _("read documents")

    def __str__(self) -> str:
        return self.name


class DocumentPage(TenantOwned):
    """One page: its size in points, how it was read, and its words as [text, x0, top, x1, bottom,
    confidence] in points from the top left corner (confidence in percent for OCR, null for a text
    layer)."""

    document = models.ForeignKey(ItemDocument, on_delete=models.CASCADE, related_name="pages",
                                 verbose_name=_("document"))
    number = models.PositiveIntegerField(_("page"))  # 1-based
    width = models.FloatField(_("width (pt)"))
    height = models.FloatField(_("height (pt)"))
    method = models.CharField(_("read by"), max_length=12, choices=ReadMethod.choices)
    ocr_confidence = models.FloatField(_("mean OCR confidence (%)"), null=True, blank=True)
    words = models.JSONField(_("words"), default=list, blank=True)

    class Meta:
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="documentpage_unique_number")]
        verbose_name = _("page")
        verbose_name_plural = _("pages")

    def __str__(self) -> str:
        return f"{self.document} p. {self.number}"
