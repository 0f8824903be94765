"""Change control. A change request names what it changes (payload) and shows the difference; the
approver roles follow from the use case; applying happens atomically with the last approval."""
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from audit.services.events import audit_event_record
from automations.choices import (
    ApprovalDecision,
    CatalogueKind,
    ChangeKind,
    ChangeState,
    ConnectorDirection,
    ConnectorType,
    Label,
    RiskTier,
    UseCaseStatus,
)
from automations.evaluation.selectors import evaluation_list, evaluation_misses, evaluation_passing
from automations.quality.models import QualityBreaker
from automations.registry.connector_settings import connector_settings_validate
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.changes import Approval, ChangeRequest
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.models.versions import Release, ReleaseLabel
from automations.registry.selectors import (
    approval_role_in_reach,
    briefing_basis,
    change_request_briefing_items,
    change_request_open_roles,
    label_map,
    tenant_policy_get,
    use_case_may,
)
from automations.registry.services.use_cases import (
    DOCUMENTATION_FIELDS,
    ensure_person,
    tenant_policy_ensure,
    use_case_update,
    validate_documentation,
)
from portal import dispatch
from portal.choices import Role
from portal.history import stamp
from portal.jobs import task_send_on_commit
from portal.models import validate_roles
from portal.permissions import require_perm
from portal.roles import (
    GRANT_FALLBACK_APPROVER,
    author_control_conflict,
    control_roles_granted,
    grant_approver_roles,
)
from portal.selectors import membership_list, roles_of, users_with_role
from portal.services import membership_create, membership_set_roles

ALL_APPROVERS = [Role.DEPARTMENT_OWNER, Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER, Role.WORKS_COUNCIL,
                 Role.SECURITY_OFFICER]
CATALOGUE_FIELDS = ("kind", "connector_type", "direction", "name", "vendor", "method", "endpoint", "location",
                    "transfer_basis", "dpa_reference", "approved_categories", "settings", "is_active")
# Status moves a change request may make; suspending is the kill switch (use_case_suspend).
TRANSITIONS: dict[str, set[UseCaseStatus]] = {
    UseCaseStatus.DRAFT: {UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION, UseCaseStatus.RETIRED},
    UseCaseStatus.PILOT: {UseCaseStatus.PRODUCTION, UseCaseStatus.DRAFT, UseCaseStatus.RETIRED},
    UseCaseStatus.PRODUCTION: {UseCaseStatus.PILOT, UseCaseStatus.RETIRED},
    UseCaseStatus.SUSPENDED: {UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION, UseCaseStatus.RETIRED},
    UseCaseStatus.RETIRED: set(),
}


# --- what a change needs --------------------------------------------------------------------------

def _threshold_move(use_case: UseCase, payload: dict) -> Decimal | None:
    """If a label move changes nothing but thresholds, the largest threshold move; else None."""
    current = label_map(use_case=use_case).get(str(payload.get("label")))
    release_id = payload.get("release_id")
    new = Release.objects.filter(pk=release_id, use_case=use_case).first() if release_id is not None else None
    if current is None or new is None:
        return None
    same = (current.prompt_template_id == new.prompt_template_id and current.guardrail_set_id == new.guardrail_set_id
            and set(current.engine_configs.values_list("pk", flat=True))
            == set(new.engine_configs.values_list("pk", flat=True)))
    if not same:
        return None
    old_t, new_t = current.threshold_set.thresholds, new.threshold_set.thresholds
    if set(old_t) != set(new_t):
        return None
    moves = [abs(Decimal(str(new_t[f][k])) - Decimal(str(old_t[f].get(k, 0))))
             for f in new_t for k in ("auto", "reject")]
    return max(moves, default=Decimal(0))


def _membership_grant_approvers(tenant, payload: dict, author) -> list[str]:
    """The roles that approve granting control roles (portal.roles.GRANT_APPROVERS). A role nobody but the
    author or the grantee holds is vacant and not waited for; with every one vacant, another automation
    lead approves — never nobody."""
    user_id = payload.get("user_id")
    current = membership_list(tenant=tenant).filter(user_id=user_id).first() if user_id is not None else None
    granted = control_roles_granted(current.roles if current else [], payload.get("roles") or [])
    excluded = {payload.get("user_id"), getattr(author, "pk", None)}
    roles = [role for role in grant_approver_roles(granted)
             if any(holder.pk not in excluded for holder in users_with_role(tenant=tenant, role=role))]
    return roles or [GRANT_FALLBACK_APPROVER]


def required_approver_roles(*, tenant, kind: str, use_case: UseCase | None, payload: dict,
                            author=None) -> tuple[list[str], bool]:
    """(roles, is_standard) per DESIGN.md: department owner and automation lead always; the DSB when
    personal data is processed; the works council when employees are affected; the security officer for
    a new processor or connector; all of them for high risk. Standard changes need the automation lead.
    Granting a control role: docs/roles.md."""
    if kind == ChangeKind.MEMBERSHIP_ROLES:
        return _membership_grant_approvers(tenant, payload, author), False
    policy = tenant_policy_get(tenant=tenant)
    if kind == ChangeKind.CATALOGUE:
        roles = {Role.AUTOMATION_LEAD, Role.SECURITY_OFFICER}
        if payload.get("fields", {}).get("approved_categories"):
            roles.add(Role.DATA_PROTECTION_OFFICER)
        return [r for r in ALL_APPROVERS if r in roles], False
    if kind == ChangeKind.TENANT_POLICY:
        deciders = [Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER, Role.SECURITY_OFFICER]
        if set(payload) & set(TenantPolicy.WORKS_COUNCIL_FIELDS):
            deciders.append(Role.WORKS_COUNCIL)  # figures about people: co-determination (BetrVG § 87 (1) 6)
        return [r for r in ALL_APPROVERS if r in deciders], False
    if use_case is None:
        raise ValidationError(_("This kind of change belongs to a use case."))
    # Decide on the use case as it will be after the change, and as it is (the stricter wins).
    after = dict(payload.get("changes", {})) if kind == ChangeKind.DOCUMENTATION else {}
    high = RiskTier.HIGH in (use_case.risk_tier, after.get("risk_tier"))
    if kind == ChangeKind.LABEL_MOVE and not high and "threshold_small_move" in policy.standard_change_kinds:
        move = _threshold_move(use_case, payload)
        if move is not None and move <= policy.standard_threshold_delta:
            return [Role.AUTOMATION_LEAD], True
    if high:
        return list(ALL_APPROVERS), False
    roles = {Role.DEPARTMENT_OWNER, Role.AUTOMATION_LEAD}
    personal = use_case.processes_personal_data or any(
        f.get("personal_data") for key in ("input_fields", "output_fields") for f in after.get(key, []))
    if personal or after.get("data_subjects"):
        roles.add(Role.DATA_PROTECTION_OFFICER)
    if use_case.affects_employees or after.get("affects_employees"):
        roles.add(Role.WORKS_COUNCIL)
    if "catalogue_entries" in after:
        current = set(use_case.catalogue_entries.values_list("key", flat=True))
        if set(after["catalogue_entries"]) - current:
            roles.add(Role.SECURITY_OFFICER)
    return [r for r in ALL_APPROVERS if r in roles], False


# --- validating and describing a change ---------------------------------------------------------

def _label_move_check(use_case: UseCase, payload: dict) -> list[dict]:
    if payload.get("label") not in Label.values:
        raise ValidationError(_("Choose the label pilot or production."))
    release_id = payload.get("release_id")
    release = Release.objects.filter(pk=release_id, use_case=use_case).first() if release_id is not None else None
    if release is None:
        raise ValidationError(_("Choose a release of this use case."))
    current = label_map(use_case=use_case).get(payload["label"])
    if current == release:
        raise ValidationError(_("The label already points at this release."))
    entry = {"item": f"label {payload['label']}", "before": f"R{current.number}" if current else None,
             "after": f"R{release.number}", "manifest": release.manifest()}
    if payload["label"] == Label.PRODUCTION:
        evaluation = production_evidence(use_case, release)
        entry["evaluation"] = {"id": evaluation.pk, "cases": evaluation.metrics.get("cases"),
                               "correction_rate": evaluation.metrics.get("correction_rate"),
                               "automatic_share": (evaluation.metrics.get("automation") or {}).get("share")}
    return [entry]


def production_evidence(use_case: UseCase, release: Release):
    """The passing evaluation of exactly `release` against the use case's current quality targets, which a move
    of the `production` label needs; a ValidationError says what is missing."""
    evaluation = evaluation_passing(release=release)
    if evaluation is not None:
        return evaluation
    latest = evaluation_list(release=release).first()
    if latest is not None and latest.is_active:
        latest = evaluation_list(release=release).filter(status="succeeded").first() or latest
    if latest is None:
        raise ValidationError(_("R%(n)s has no evaluation. The production label needs a passing evaluation of "
                                "exactly this release against the use case's quality targets: run one on the "
                                "release's page.") % {"n": release.number})
    if latest.is_active:
        raise ValidationError(_("The evaluation of R%(n)s has not finished yet; propose the move once it has "
                                "passed.") % {"n": release.number})
    raise ValidationError(_("The evaluation of R%(n)s misses the use case's quality targets, so it cannot go to "
                            "production: %(misses)s") % {"n": release.number, "misses": " ".join(
                                evaluation_misses(evaluation=latest, use_case=use_case))})


def _status_check(use_case: UseCase, payload: dict) -> list[dict]:
    to = payload.get("to")
    if to not in TRANSITIONS.get(use_case.status, set()):
        raise ValidationError(_("%(a)s cannot move to %(b)s.") % {
            "a": use_case.get_status_display(), "b": UseCaseStatus(to).label if to in UseCaseStatus.values else to})
    if to in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION):
        if use_case.risk_tier == RiskTier.PROHIBITED:
            raise ValidationError(_("A prohibited use case (EU AI Act Art. 5) can never be activated."))
        if to not in label_map(use_case=use_case):
            raise ValidationError(_("The %(label)s label points at no release yet.") % {"label": Label(to).label})
    if to == UseCaseStatus.PRODUCTION and use_case.risk_tier == RiskTier.HIGH:
        missing = [name for name, value in (("risk rationale", use_case.risk_rationale),
                                            ("DPIA reference", use_case.dpia_reference),
                                            ("worker information", use_case.worker_information_reference))
                   if not value.strip()]
        if missing:
            raise ValidationError(_("A high-risk use case needs before production: %(m)s") % {"m": ", ".join(missing)})
    return [{"item": "status", "before": use_case.status, "after": to}]


def _documentation_check(use_case: UseCase, payload: dict) -> list[dict]:
    changes = payload.get("changes") or {}
    unknown = set(changes) - set(DOCUMENTATION_FIELDS)
    if not changes or unknown:
        raise ValidationError(_("Name documentation fields to change."))
    resolved = _resolve_documentation(use_case.tenant, changes)
    validate_documentation(resolved, tenant=use_case.tenant)
    diff = []
    for name, value in changes.items():
        before = getattr(use_case, name)
        if name == "catalogue_entries":
            before = sorted(use_case.catalogue_entries.values_list("key", flat=True))
        elif name in ("department_owner", "it_contact", "security_officer", "data_protection_officer",
                      "escalation_contact"):
            before = getattr(before, "username", None)
        diff.append({"item": name, "before": before, "after": value})
    return diff


def _catalogue_check(tenant, payload: dict) -> list[dict]:
    key, fields = payload.get("key"), payload.get("fields") or {}
    unknown = set(fields) - set(CATALOGUE_FIELDS)
    if not key or unknown:
        raise ValidationError(_("A catalogue change names the entry's key and known fields."))
    existing = CatalogueEntry.objects.for_tenant(tenant).filter(key=key).first()
    if existing is None and fields.get("kind") not in CatalogueKind.values:
        raise ValidationError(_("A new catalogue entry needs its kind (processor or connector)."))
    kind = fields.get("kind", existing.kind if existing else None)
    if kind == CatalogueKind.CONNECTOR:
        connector_type = fields.get("connector_type", existing.connector_type if existing else "")
        direction = fields.get("direction", existing.direction if existing else "")
        if connector_type not in ConnectorType.values or direction not in ConnectorDirection.values:
            raise ValidationError(_("A connector names its type (imap, folder, webhook, file_drop, email) and its "
                                    "direction (intake or delivery)."))
        endpoint = fields.get("endpoint", existing.endpoint if existing else "")
        if connector_type == ConnectorType.WEBHOOK and not str(endpoint).startswith(("https://", "http://")):
            raise ValidationError(_("A webhook connector's target is an http(s) URL."))
        connector_settings_validate(connector_type=connector_type, direction=direction, endpoint=endpoint,
                                    settings=fields.get("settings", existing.settings if existing else {}))
    categories = tenant_policy_get(tenant=tenant).data_categories
    if set(fields.get("approved_categories") or []) - set(categories):
        raise ValidationError(_("Approved categories must come from the tenant's vocabulary."))
    return [{"item": f"{key}.{name}", "before": getattr(existing, name, None) if existing else None, "after": value}
            for name, value in fields.items()]


def _policy_check(tenant, payload: dict) -> list[dict]:
    unknown = set(payload) - set(TenantPolicy.WEAKENING_FIELDS)
    if not payload or unknown:
        raise ValidationError(_("Only control settings change through this kind of request."))
    policy = tenant_policy_get(tenant=tenant)
    return [{"item": name, "before": str(getattr(policy, name)), "after": str(value)}
            for name, value in payload.items()]


def _membership_roles_check(tenant, payload: dict) -> list[dict]:
    """A grant names the member (user id) and the roles they will hold; it must grant a control role
    (the other roles are changed directly) and keep the tenant's rule on author and controlling roles."""
    roles = payload.get("roles")
    if set(payload) - {"user_id", "roles"} or not isinstance(payload.get("user_id"), int) \
            or not isinstance(roles, list):
        raise ValidationError(_("A role grant names the member (user_id) and their roles."))
    validate_roles(roles)
    user = get_user_model().objects.filter(pk=payload["user_id"], is_active=True).first()
    if user is None:
        raise ValidationError(_("There is no active user with this id."))
    current = membership_list(tenant=tenant).filter(user=user).first()
    if current is not None and not current.is_active:
        raise ValidationError(_("The membership of %(user)s is deactivated; it cannot be changed.")
                              % {"user": user.get_username()})
    before = list(current.roles) if current else []
    if not control_roles_granted(before, roles):
        raise ValidationError(_("This change grants no control role: change the roles on the members page."))
    authors, controls = author_control_conflict(roles)
    if authors and not tenant_policy_get(tenant=tenant).allow_dual_role:
        raise ValidationError(
            _("%(author)s and %(control)s are not held by one person: nobody controls what they author. The "
              "tenant's policy may allow two roles (a change request).")
            % {"author": ", ".join(str(Role(r).label) for r in authors),
               "control": ", ".join(str(Role(r).label) for r in controls)})
    return [{"item": f"roles: {user.get_username()}",
             "before": ", ".join(before) or None, "after": ", ".join(sorted(set(roles)))}]


def _breaker_reset_check(use_case: UseCase, payload: dict) -> list[dict]:
    """Switching automatic application back on: only while the quality circuit breaker holds it off."""
    if set(payload) - {"tripped_at"}:
        raise ValidationError(_("Switching automatic application back on changes nothing else."))
    breaker = QualityBreaker.objects.filter(use_case=use_case, tripped=True).first()
    if breaker is None:
        raise ValidationError(_("Automatic application of this use case is not switched off."))
    return [{"item": "automatic application", "before": _("switched off: %(reason)s") % {"reason": breaker.reason},
             "after": _("switched on")}]


def _resolve_documentation(tenant, changes: dict) -> dict:
    """Payloads name users and catalogue entries by username and key; services want objects."""
    resolved = dict(changes)
    for name in ("department_owner", "it_contact", "security_officer", "data_protection_officer", "escalation_contact"):
        if name in resolved and resolved[name] is not None:
            resolved[name] = get_user_model().objects.get(username=resolved[name])
    if "catalogue_entries" in resolved:
        keys = resolved["catalogue_entries"]
        entries = list(CatalogueEntry.objects.for_tenant(tenant).filter(key__in=keys))
        if len(entries) != len(set(keys)):
            raise ValidationError(_("Unknown catalogue entries."))
        resolved["catalogue_entries"] = entries
    return resolved


# What each kind of change checks: of a use case, or of the tenant.
USE_CASE_CHECKS: dict[str, Callable[[UseCase, dict], list[dict]]] = {
    ChangeKind.LABEL_MOVE: _label_move_check, ChangeKind.STATUS_CHANGE: _status_check,
    ChangeKind.DOCUMENTATION: _documentation_check, ChangeKind.QUALITY_BREAKER_RESET: _breaker_reset_check}
TENANT_CHECKS: dict[str, Callable[[Any, dict], list[dict]]] = {
    ChangeKind.CATALOGUE: _catalogue_check, ChangeKind.TENANT_POLICY: _policy_check,
    ChangeKind.MEMBERSHIP_ROLES: _membership_roles_check}


def _check(tenant, kind: str, use_case: UseCase | None, payload: dict) -> list[dict]:
    use_case_check = USE_CASE_CHECKS.get(kind)
    if use_case_check is not None:
        if use_case is None:
            raise ValidationError(_("This kind of change belongs to a use case."))
        return use_case_check(use_case, payload)
    tenant_check = TENANT_CHECKS.get(kind)
    if tenant_check is not None:
        return tenant_check(tenant, payload)
    raise ValidationError(_("Unknown kind of change."))


# --- the services ---------------------------------------------------------------------------------

def _briefing_mail_difference(change_request: ChangeRequest, items: list[str]) -> str:
    """The briefing's documentation before and after, for the approvers' mail (thresholds: see the request)."""
    proposed = (change_request.payload or {}).get("changes", {})
    lines = [f"\n{briefing_item_label(name)}:\n  "
             + _("before: %(before)s") % {"before": getattr(change_request.use_case, name) or "-"} + "\n  "
             + _("now: %(after)s") % {"after": proposed.get(name) or "-"}
             for name in items if name in proposed]
    return "\n" + "".join(lines) if lines else ""


def _notify_approvers(change_request: ChangeRequest) -> None:
    recipients = set()
    for role in change_request_open_roles(change_request=change_request):
        recipients |= {u.email for u in users_with_role(tenant=change_request.tenant, role=role)
                       if u.email and u.pk != change_request.author_id}
    if recipients:
        briefing = change_request_briefing_items(change_request=change_request)
        send_mail(
            subject=_("Leitplanke: approval requested — %(title)s") % {"title": change_request.title},
            message=_("%(author)s asks for your approval of “%(title)s”.\n\n%(description)s\n\nOpen your approval "
                      "inbox in Leitplanke to review the difference and decide.")
            % {"author": change_request.author, "title": change_request.title,
               "description": change_request.description}
            + ("\n\n" + _("This change alters what clerks must know (their briefing): %(items)s. The automation lead "
                           "decides when approving whether clerks confirm the briefing again before their next task.")
               % {"items": ", ".join(briefing_item_label(name) for name in briefing)}
               + _briefing_mail_difference(change_request, briefing) if briefing else ""),
            from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=sorted(recipients), fail_silently=True,
        )


def change_request_create(*, actor, tenant, kind: str, title: str, description: str, payload: dict,
                          use_case: UseCase | None = None) -> ChangeRequest:
    """Propose a change. People and API tokens may propose; only people approve."""
    actor = as_actor(actor)
    require_perm(actor, tenant, "automations.add_changerequest")
    if actor.user is None:
        raise PermissionDenied(_("A change request has a person as its author."))
    if not description.strip():
        raise ValidationError(_("Describe the change and why it is needed."))
    if use_case is not None:  # decide on the stored state, not on a caller's stale copy
        use_case = UseCase.objects.for_tenant(tenant).get(pk=use_case.pk)
        if not use_case_may(use_case=use_case, user=actor.user, action="propose"):
            raise PermissionDenied(_("A department owner proposes changes to the use cases of their own "
                                     "departments only."))
    if kind == ChangeKind.MEMBERSHIP_ROLES:
        require_perm(actor, tenant, "portal.change_membership")
        if payload.get("user_id") == actor.user.pk:
            raise PermissionDenied(_("Nobody changes their own roles; another member with the right to do so must."))
        use_case = None
    diff = _check(tenant, kind, use_case, payload)
    evaluation_id = next((entry["evaluation"]["id"] for entry in diff if isinstance(entry.get("evaluation"), dict)),
                         None)
    roles, standard = required_approver_roles(tenant=tenant, kind=kind, use_case=use_case, payload=payload,
                                              author=actor.user)
    policy = tenant_policy_get(tenant=tenant)
    with transaction.atomic():
        cr = ChangeRequest.objects.create(
            tenant=tenant, use_case=use_case, kind=kind, title=title.strip() or kind, description=description,
            payload=payload, diff=diff, required_roles=[str(r) for r in roles], is_standard=standard,
            author=actor.user, proposed_via_token=actor.token, evaluation_id=evaluation_id,
            expires_at=timezone.now() + timedelta(days=policy.change_request_expiry_days),
        )
        audit_event_record(actor=actor, tenant=tenant, event_type="change_request.created", obj=cr,
                           details={"kind": kind, "use_case": use_case.key if use_case else None,
                                    "required_roles": cr.required_roles, "standard": standard,
                                    **({"evaluation": evaluation_id} if evaluation_id else {})})
        transaction.on_commit(lambda: _notify_approvers(cr))
        if kind == ChangeKind.LABEL_MOVE:  # new thresholds are replayed on past decisions for the approvers
            task_send_on_commit("automations.threshold_backtest_attach", cr.pk)
    return cr


def _lock_open(change_request: ChangeRequest) -> ChangeRequest:
    cr = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if cr.state != ChangeState.OPEN:
        raise ValidationError(_("This change request is no longer open (%(state)s).")
                              % {"state": cr.get_state_display()})
    if cr.expires_at <= timezone.now():
        raise ValidationError(_("This change request has expired."))
    return cr


def _check_approver(actor, cr: ChangeRequest, role: str) -> None:
    ensure_person(actor)
    user = as_actor(actor).user
    if user.pk == cr.author_id:
        raise PermissionDenied(_("The author of a change cannot approve it."))
    if role not in roles_of(user=user, tenant=cr.tenant):
        raise PermissionDenied(_("You do not hold the role %(role)s in this tenant.") % {"role": Role(role).label})
    if cr.kind == ChangeKind.MEMBERSHIP_ROLES and cr.payload.get("user_id") == user.pk:
        raise PermissionDenied(_("Nobody approves a grant of roles to themselves."))
    if not approval_role_in_reach(change_request=cr, user=user, role=role):
        raise PermissionDenied(_("The department owner of the use case's own department approves for the "
                                 "department."))


def briefing_item_label(name: str) -> str:
    """A part of the clerks' briefing by its name for people."""
    if name == "thresholds":
        return str(_("Thresholds in force"))
    field = UseCase._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, Field) else name


def change_request_approve(*, actor, change_request: ChangeRequest, role: str, comment: str = "",
                           briefing_reconfirm: bool | None = None) -> ChangeRequest:
    """Fill one required role. With the last one, the change is applied in the same transaction.
    An automation lead approving a change that alters the clerks' briefing decides with `briefing_reconfirm`
    whether clerks confirm it again (True) or keep working and are told (False)."""
    _check_approver(actor, change_request, role)
    user = as_actor(actor).user
    with transaction.atomic():
        cr = _lock_open(change_request)
        if role not in change_request_open_roles(change_request=cr):
            raise ValidationError(_("This role is not required here, or already approved."))
        if (not tenant_policy_get(tenant=cr.tenant).allow_dual_role
                and cr.approvals.filter(approver=user).exists()):
            raise PermissionDenied(
                _("You already approved this change in another role; each role needs another person."))
        Approval.objects.create(tenant=cr.tenant, change_request=cr, role=role, approver=user,
                                decision=ApprovalDecision.APPROVE, comment=comment)
        decided = {}
        if (role == Role.AUTOMATION_LEAD and briefing_reconfirm is not None
                and change_request_briefing_items(change_request=cr)):
            cr.briefing_reconfirm = briefing_reconfirm
            cr.save(update_fields=["briefing_reconfirm"])
            decided = {"briefing_reconfirm": briefing_reconfirm}
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="change_request.approved", obj=cr,
                           details={"role": role, **decided})
        if not change_request_open_roles(change_request=cr):
            _apply(actor, cr)
    return cr


def change_request_reject(*, actor, change_request: ChangeRequest, role: str, comment: str) -> ChangeRequest:
    _check_approver(actor, change_request, role)
    if not comment.strip():
        raise ValidationError(_("Say why you reject the change."))
    with transaction.atomic():
        cr = _lock_open(change_request)
        Approval.objects.create(tenant=cr.tenant, change_request=cr, role=role, approver=as_actor(actor).user,
                                decision=ApprovalDecision.REJECT, comment=comment)
        cr.state, cr.decided_at = ChangeState.REJECTED, timezone.now()
        cr.save(update_fields=["state", "decided_at"])
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="change_request.rejected", obj=cr,
                           details={"role": role})
    return cr


def change_request_withdraw(*, actor, change_request: ChangeRequest) -> ChangeRequest:
    with transaction.atomic():
        cr = _lock_open(change_request)
        if as_actor(actor).user != cr.author:
            raise PermissionDenied(_("Only the author withdraws a change request."))
        cr.state, cr.decided_at = ChangeState.WITHDRAWN, timezone.now()
        cr.save(update_fields=["state", "decided_at"])
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="change_request.withdrawn", obj=cr)
    return cr


def change_requests_expire(*, now=None) -> int:
    """Beat: open requests past their expiry are kept as `expired`."""
    now = now or timezone.now()
    count = 0
    for cr in ChangeRequest.objects.filter(state=ChangeState.OPEN, expires_at__lte=now):
        with transaction.atomic():
            cr = ChangeRequest.objects.select_for_update().get(pk=cr.pk)
            if cr.state != ChangeState.OPEN:
                continue
            cr.state, cr.decided_at = ChangeState.EXPIRED, now
            cr.save(update_fields=["state", "decided_at"])
            audit_event_record(actor=SYSTEM, tenant=cr.tenant, event_type="change_request.expired", obj=cr)
            count += 1
    return count


# --- applying ---------------------------------------------------------------------------------------

def _apply_membership_roles(actor, cr: ChangeRequest, reason: str) -> None:
    """The approved grant: the member's roles are set (or their membership created) by the last approver,
    audited in this transaction with the request's number."""
    user = get_user_model().objects.get(pk=cr.payload["user_id"])
    allow_dual = tenant_policy_get(tenant=cr.tenant).allow_dual_role
    membership = membership_list(tenant=cr.tenant).filter(user=user).first()
    if membership is None:
        membership_create(actor=actor, tenant=cr.tenant, user=user, roles=cr.payload["roles"], reason=reason,
                          allow_dual_role=allow_dual, via_change_request=True, change_request_id=cr.pk)
    else:
        membership_set_roles(actor=actor, membership=membership, roles=cr.payload["roles"], reason=reason,
                             allow_dual_role=allow_dual, via_change_request=True, change_request_id=cr.pk)


def _apply(actor, cr: ChangeRequest) -> None:
    """Runs inside the approving transaction: re-checks the change against the current state, applies
    it and marks the request applied — all or nothing."""
    _check(cr.tenant, cr.kind, cr.use_case, cr.payload)
    reason = f"CR-{cr.pk}: {cr.title}"
    briefing_before = briefing_basis(use_case=cr.use_case) if cr.use_case is not None else None
    if cr.kind == ChangeKind.LABEL_MOVE:
        release = Release.objects.get(pk=cr.payload["release_id"])
        if cr.payload["label"] == Label.PRODUCTION:
            # The evidence the approvers saw must still hold: the evaluation attached, of this release, against
            # the targets as they are now.
            if cr.evaluation is None or cr.evaluation.release_id != release.pk:
                raise ValidationError(_("This move of the production label carries no evaluation of R%(n)s; "
                                        "propose it again.") % {"n": release.number})
            misses = evaluation_misses(evaluation=cr.evaluation, use_case=cr.use_case)
            if misses:
                raise ValidationError(_("The evaluation attached no longer meets the use case's quality targets: "
                                        "%(misses)s") % {"misses": " ".join(misses)})
        label = ReleaseLabel.objects.filter(use_case=cr.use_case, name=cr.payload["label"]).first()
        before = label.release.number if label else None
        label = label or ReleaseLabel(tenant=cr.tenant, use_case=cr.use_case, name=cr.payload["label"], release=release)
        label.release, label.moved_at = release, timezone.now()
        stamp(label, actor=actor, reason=reason)
        label.save()
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="release_label.moved", obj=label,
                           details={"label": label.name, "from": before, "to": release.number, "change_request": cr.pk})
    elif cr.kind == ChangeKind.STATUS_CHANGE and cr.use_case_id is not None:  # _check refused it without one
        use_case = UseCase.objects.select_for_update().get(pk=cr.use_case_id)
        was, use_case.status = use_case.status, cr.payload["to"]
        stamp(use_case, actor=actor, reason=reason)
        use_case.save(update_fields=["status"])
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="use_case.status_changed", obj=use_case,
                           details={"from": was, "to": use_case.status, "change_request": cr.pk})
        dispatch.emit("use_case.status_changed", use_case=use_case, before=was, after=use_case.status)
    elif cr.kind == ChangeKind.DOCUMENTATION and cr.use_case is not None:  # _check refused it without one
        use_case_update(actor=actor, use_case=cr.use_case,
                        values=_resolve_documentation(cr.tenant, cr.payload["changes"]),
                        reason=reason, via_change_request=True)
    elif cr.kind == ChangeKind.CATALOGUE:
        entry = CatalogueEntry.objects.for_tenant(cr.tenant).filter(key=cr.payload["key"]).first()
        entry = entry or CatalogueEntry(tenant=cr.tenant, key=cr.payload["key"])
        for name, value in cr.payload["fields"].items():
            setattr(entry, name, value)
        entry.full_clean()
        stamp(entry, actor=actor, reason=reason)
        entry.save()
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="catalogue_entry.changed", obj=entry,
                           details={"key": entry.key, "fields": sorted(cr.payload["fields"]), "change_request": cr.pk})
    elif cr.kind == ChangeKind.TENANT_POLICY:
        policy = TenantPolicy.objects.select_for_update().get(pk=tenant_policy_ensure(tenant=cr.tenant).pk)
        for name, value in cr.payload.items():
            setattr(policy, name, value)
        policy.full_clean()
        stamp(policy, actor=actor, reason=reason)
        policy.save()
        audit_event_record(actor=actor, tenant=cr.tenant, event_type="tenant_policy.changed", obj=policy,
                           details={"fields": sorted(cr.payload), "change_request": cr.pk})
    elif cr.kind == ChangeKind.MEMBERSHIP_ROLES:
        _apply_membership_roles(actor, cr, reason)
    elif cr.kind == ChangeKind.QUALITY_BREAKER_RESET:
        dispatch.emit("quality_breaker.reset_approved", actor=actor, use_case=cr.use_case, change_request=cr)
    cr.state, cr.decided_at = ChangeState.APPLIED, timezone.now()
    cr.save(update_fields=["state", "decided_at"])
    audit_event_record(actor=actor, tenant=cr.tenant, event_type="change_request.applied", obj=cr,
                       details={"kind": cr.kind})
    if briefing_before is not None and cr.use_case is not None:
        use_case = UseCase.objects.get(pk=cr.use_case.pk)
        briefing_after = briefing_basis(use_case=use_case)
        # The clerks' briefing went live in another version (a use case taken out of service tells nobody).
        if briefing_after != briefing_before and use_case.status in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION):
            dispatch.emit("use_case.briefing_changed", actor=actor, use_case=use_case, change_request=cr,
                          before=briefing_before, after=briefing_after, reconfirm=cr.briefing_reconfirm is not False)
