"""Human oversight: queues per team with an SLA, tasks with reasons and an expiring claim, decisions
with the per-field difference between suggestion and final value."""
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import TenantOwned
from reviews.choices import DecisionAction, QueueKind, TaskState


class ReviewQueue(TenantOwned):
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=QueueKind.choices, default=QueueKind.REVIEW)
    team = models.CharField(_("team"), max_length=120, blank=True)
    use_cases = models.ManyToManyField("automations.UseCase", related_name="review_queues", blank=True,
                                       verbose_name=_("use cases"))
    sla_hours = models.PositiveIntegerField(_("SLA (hours)"), default=24)
    required_training = models.CharField(_("required training topic"), max_length=200, blank=True)
    bulk_approval_allowed = models.BooleanField(_("bulk approval allowed"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [("work_reviewqueue", "Can work tasks of a review queue")]
        verbose_name = _("review queue")
        verbose_name_plural = _("review queues")

    def __str__(self) -> str:
        return self.name


class ReviewTeam(TenantOwned):
    """A team (a department) of clerks: its group holds the work permission on every queue of the tenant
    whose `team` is the team's name, those created later included (django-guardian group object
    permissions). A clerk added to the team works them all; one taken out, none of them."""

    name = models.CharField(_("name"), max_length=120)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="review_team", editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="reviewteam_unique_tenant_name")]
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class ReviewTask(TenantOwned):
    item = models.ForeignKey("automations.WorkItem", on_delete=models.CASCADE, related_name="review_tasks",
                             verbose_name=_("work item"))
    queue = models.ForeignKey(ReviewQueue, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("queue"))
    # Copied from the item so that "next task" filters by use case without a join (the claim locks one row).
    use_case = models.ForeignKey("automations.UseCase", null=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("use case"))
    reasons = models.JSONField(_("reasons"), default=list)
    priority = models.PositiveSmallIntegerField(_("priority"), default=3, help_text=_("1 = most urgent"))
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=30, choices=TaskState.choices, default=TaskState.OPEN)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("claimed by"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_expires_at = models.DateTimeField(_("claim expires"), null=True, blank=True)
    first_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", verbose_name=_("first reviewer"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        indexes = [
            # "next task": open tasks of a queue by priority, then due time, then age (keyset order).
            models.Index(fields=["queue", "state", "priority", "due_at", "id"], name="reviewtask_next"),
            models.Index(fields=["tenant", "state", "claim_expires_at"], name="reviewtask_claims"),
            models.Index(fields=["item"], name="reviewtask_item"),
            # Overdue and due-soon figures per queue and state (capped counts, reviews.selectors).
            models.Index(fields=["queue", "state", "due_at"], name="reviewtask_due"),
            # "Next task" looks at open, claimed and second-review tasks together, in keyset order.
            models.Index(fields=["queue", "priority", "due_at", "id"], name="reviewtask_claimable",
                         condition=models.Q(state__in=["open", "claimed", "awaiting_second_review"])),
        ]
        ordering = ["priority", "due_at", "id"]
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")

    def __str__(self) -> str:
        return f"{self.queue} · {self.item}"


class ReviewDecision(TenantOwned):
    task = models.ForeignKey(ReviewTask, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("task"))
    item = models.ForeignKey("automations.WorkItem", on_delete=models.CASCADE, related_name="review_decisions",
                             verbose_name=_("work item"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("decided by"))
    action = models.CharField(_("decision"), max_length=20, choices=DecisionAction.choices)
    final_fields = models.JSONField(_("final values"), default=dict)
    # {"field": {"suggested": ..., "final": ..., "confidence": ...}} for each field that differs
    diff = models.JSONField(_("difference to the suggestion"), default=dict)
    comment = models.TextField(_("comment"), blank=True)
    time_on_task_ms = models.PositiveIntegerField(_("time on task (ms)"), default=0)
    created_at = models.DateTimeField(_("decided at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]
        permissions = [("view_oversight", "Can see oversight figures of review queues")]
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")

    def __str__(self) -> str:
        return f"{self.task} · {self.action}"


class BriefingConfirmation(TenantOwned):
    """A clerk confirmed the use case's briefing (EU AI Act Art. 4). The hash ties the confirmation to
    the documentation it was generated from: a changed documentation needs a new confirmation."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("use case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("clerk"))
    briefing_hash = models.CharField(_("briefing version"), max_length=64)
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)
    # Set when the confirmation was carried over to a changed briefing because the automation lead decided that
    # clerks keep working without confirming again (they were told what changed).
    carried_by = models.ForeignKey("reviews.BriefingChange", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("carried over by the briefing change"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["use_case", "user", "briefing_hash"],
                                               name="briefing_unique_confirmation")]
        verbose_name = _("briefing confirmation")
        verbose_name_plural = _("briefing confirmations")


class BriefingChange(TenantOwned):
    """A change request took a use case's briefing live in another version: what it was generated from before
    and after, and whether the automation lead asked clerks to confirm it again."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("use case"))
    change_request = models.ForeignKey("automations.ChangeRequest", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", verbose_name=_("change request"))
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    reconfirm_required = models.BooleanField(_("clerks confirm the briefing again"), default=True)
    created_at = models.DateTimeField(_("live since"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("briefing change")
        verbose_name_plural = _("briefing changes")


class BriefingNotice(TenantOwned):
    """A clerk was told of a briefing change (home page and e-mail) until they read it or confirmed the briefing."""

    change = models.ForeignKey(BriefingChange, on_delete=models.CASCADE, related_name="notices",
                               verbose_name=_("briefing change"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("clerk"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "user"], name="briefing_notice_unique")]
        indexes = [models.Index(fields=["tenant", "user", "read_at"], name="briefing_notice_unread")]
        verbose_name = _("briefing notice")
        verbose_name_plural = _("briefing notices")


class TrainingRecord(TenantOwned):
    """A training the core team recorded for a clerk on a use case."""

    use_case = models.ForeignKey("automations.UseCase", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("use case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("clerk"))
    topic = models.CharField(_("topic"), max_length=200)
    held_on = models.DateField(_("date"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-held_on"]
        verbose_name = _("training")
        verbose_name_plural = _("trainings")


class ReviewTaskSkip(TenantOwned):
    """A clerk gave a task back or skipped it: the next task for that clerk is another one, and the skipped
    task comes back to them only when nothing else is left (other clerks get it as before)."""

    task = models.ForeignKey(ReviewTask, on_delete=models.CASCADE, related_name="skips", verbose_name=_("task"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("clerk"))
    skipped_at = models.DateTimeField(_("skipped at"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="reviewtaskskip_unique_task_user")]
        verbose_name = _("skipped task")
        verbose_name_plural = _("skipped tasks")

    def __str__(self) -> str:
        return f"{self.task_id} skipped by {self.user_id}"
