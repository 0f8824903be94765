"""Change control: every change that can affect production is a ChangeRequest approved by the roles
the use case requires, each role by a different person who is not the author."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from automations.choices import ApprovalDecision, ChangeKind, ChangeState
from portal.choices import Role
from portal.models import TenantOwned


class ChangeRequest(TenantOwned):
    use_case = models.ForeignKey("automations.UseCase", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="change_requests", verbose_name=_("use case"))
    kind = models.CharField(_("kind"), max_length=30, choices=ChangeKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    # What applying does, e.g. {"label": "production", "release_id": 7}; validated per kind.
    payload = models.JSONField(_("change"), default=dict)
    # Human-readable before/after per changed item: [{"item": ..., "before": ..., "after": ...}]
    diff = models.JSONField(_("difference"), default=list, blank=True)
    required_roles = models.JSONField(_("required approver roles"), default=list)
    is_standard = models.BooleanField(_("standard change"), default=False)
    state = models.CharField(_("state"), max_length=20, choices=ChangeState.choices, default=ChangeState.OPEN)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    proposed_via_token = models.ForeignKey("portal.ApiToken", null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+", verbose_name=_("proposed with API token"))
    # A move of the `production` label carries the passing evaluation of exactly that release
    # (automations.evaluation); every approver sees it.
    evaluation = models.ForeignKey("automations.EvaluationRun", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="change_requests", verbose_name=_("evaluation"))
    # A change that alters the clerks' briefing: the automation lead decides, when approving, whether clerks
    # confirm the briefing again before their next task (True) or keep working and are told (False). Not yet
    # decided (None) counts as confirming again, the safe side.
    briefing_reconfirm = models.BooleanField(_("clerks confirm the briefing again"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "state", "created_at"], name="changerequest_tenant_state")]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")

    def __str__(self) -> str:
        return f"CR-{self.pk}: {self.title}"


class Approval(TenantOwned):
    change_request = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="approvals",
                                       verbose_name=_("change request"))
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("approver"))
    decision = models.CharField(_("decision"), max_length=10, choices=ApprovalDecision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("decided at"), default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change_request", "role"], name="approval_unique_role")]
        ordering = ["created_at"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")

    def __str__(self) -> str:
        return f"{self.change_request} · {self.role} · {self.decision}"
