from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewState(models.TextChoices):
    DUE = "due", _("Due")
    COMPLETED = "completed", _("Completed")


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", _("Continue as it is")
    ADJUST = "adjust", _("Adjust (with a change request)")
    RETIRE = "retire", _("Retire")


# The checklist of a periodic review: key, question. The answers are yes/no with a note.
REVIEW_CHECKLIST = (
    ("stable_benefit", _("Does the automation deliver its benefit steadily?")),
    ("too_much_rework", _("Does it cause too much rework?")),
    ("process_changed", _("Has the process changed?")),
    ("lawful_documented", _("Is it still lawful and documented as it runs?")),
)
