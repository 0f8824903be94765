from django.db import models
from django.utils.translation import gettext_lazy as _


class QueueKind(models.TextChoices):
    REVIEW = "review", _("Review")
    CLARIFICATION = "clarification", _("Clarification")
    SAMPLE_CHECK = "sample_check", _("Sample check")


class TaskState(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Claimed")
    AWAITING_SECOND_REVIEW = "awaiting_second_review", _("Awaiting second review")
    DONE = "done", _("Done")
    ESCALATED = "escalated", _("Escalated")
    CLARIFICATION = "clarification", _("In clarification")


OPEN_TASK_STATES = (TaskState.OPEN, TaskState.CLAIMED, TaskState.AWAITING_SECOND_REVIEW)


class DecisionAction(models.TextChoices):
    APPROVE = "approve", _("Approve as suggested")
    CORRECT = "correct", _("Correct")
    REJECT = "reject", _("Reject")
    ESCALATE = "escalate", _("Escalate")
    CLARIFY = "clarify", _("Ask for clarification")
    CONFIRM = "confirm", _("Confirm (second review)")
