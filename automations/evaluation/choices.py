from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseTag(models.TextChoices):
    TYPICAL = "typical", _("typical")
    CRITICAL = "critical", _("critical")
    EDGE_CASE = "edge_case", _("edge case")


class CaseSource(models.TextChoices):
    MANUAL = "manual", _("created by hand")
    IMPORT = "import", _("imported")
    REVIEWED_ITEM = "reviewed_item", _("taken from a reviewed item")


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("finished")
    FAILED = "failed", _("failed")
