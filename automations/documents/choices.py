from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    PDF = "pdf", _("PDF")
    IMAGE = "image", _("Image")
    EMAIL = "email", _("E-mail")
    TEXT = "text", _("Text")
    XML = "xml", _("XML")
    OTHER = "other", _("Other")


class ReadMethod(models.TextChoices):
    TEXT_LAYER = "text_layer", _("Text layer")
    OCR = "ocr", _("OCR")
    NONE = "none", _("No text")
