from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.choices import FieldType, IntegrationKind, UseCaseStatus
from automations.engines import limits, patterns
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.selectors import tenant_policy_get, use_case_may
from portal import dispatch
from portal.history import stamp
from portal.permissions import actor_has_perm, require_perm
from portal.selectors import membership_get

# The documentation fields a person edits; status, labels and history have their own paths.
DOCUMENTATION_FIELDS = (
    "title", "department", "purpose", "automated_decisions", "human_decisions", "integration_points",
    "input_fields", "output_fields", "data_subjects", "legal_basis", "legal_basis_note", "recipients",
    "retention_days", "risk_tier", "risk_rationale", "dpia_reference", "worker_information_reference",
    "affects_employees", "department_owner", "it_contact", "security_officer", "data_protection_officer",
    "escalation_contact", "manual_fallback", "quality_targets", "review_interval_days", "training_reuse_allowed",
    "store_masked_prompts", "catalogue_entries",
)
USER_FIELDS = ("department_owner", "it_contact", "security_officer", "data_protection_officer", "escalation_contact")
SUSPENDABLE = (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION)


class NeedsChangeRequest(ValidationError):
    """Editing this use case affects production: propose a change request instead."""

    problem_status, problem_code = 409, "needs_change_request"


def validate_field_specs(specs, *, label: str, categories: list[str]) -> None:
    if not isinstance(specs, list):
        raise ValidationError(_("%(label)s must be a list of fields.") % {"label": label})
    names = set()
    for spec in specs:
        name = spec.get("name") if isinstance(spec, dict) else None
        if not name or not str(name).isidentifier():
            raise ValidationError(_("Every field needs a name made of letters, digits and underscores."))
        if name in names:
            raise ValidationError(_("The field %(name)s is listed twice.") % {"name": name})
        names.add(name)
        if spec.get("type", FieldType.TEXT) not in FieldType.values:
            raise ValidationError(_("Field %(name)s has an unknown type.") % {"name": name})
        if spec.get("type") == FieldType.CATEGORY and not isinstance(spec.get("choices", []), list):
            raise ValidationError(_("Field %(name)s: choices must be a list.") % {"name": name})
        for key in ("label", "help", "disclosure"):
            text = spec.get(key)
            if text is not None and not isinstance(text, str) and not (
                    isinstance(text, dict) and all(isinstance(v, str) for v in text.values())):
                raise ValidationError(_("Field %(name)s: the label and help text are texts per language, e.g. "
                                        "{\"de\": \"…\", \"en\": \"…\"}.") % {"name": name})
        labels = spec.get("choice_labels")
        if labels is not None and (not isinstance(labels, dict) or not all(
                isinstance(v, (str, dict)) for v in labels.values())):
            raise ValidationError(_("Field %(name)s: the labels of the choices are an object (choice → label per "
                                    "language).") % {"name": name})
        rule = spec.get("validation") or {}
        if not isinstance(rule, dict):
            raise ValidationError(_("Field %(name)s: validation must be an object.") % {"name": name})
        if "max_length" in rule:
            limit = rule["max_length"]
            ceiling = limits.FIELD_MAX_CHARS_CEILING
            if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= ceiling:
                raise ValidationError(_("Field %(name)s: the maximum length is a whole number of characters between 1 "
                                        "and %(ceiling)s.")
                                      % {"name": name, "ceiling": f"{ceiling:,}".replace(",", ".")})
        if rule.get("pattern"):
            try:
                patterns.check_user_pattern(rule["pattern"])
            except patterns.UnsafePattern as exc:
                raise ValidationError(_("Field %(name)s: %(reason)s") % {"name": name, "reason": exc}) from None
        if spec.get("personal_data") and spec.get("category") not in categories:
            raise ValidationError(
                _("Field %(name)s is personal data: choose one of the tenant's categories (%(cats)s).")
                % {"name": name, "cats": ", ".join(categories)})


def validate_documentation(values: dict, *, tenant) -> None:
    categories = tenant_policy_get(tenant=tenant).data_categories
    for key in ("input_fields", "output_fields"):
        if key in values:
            validate_field_specs(values[key], label=key, categories=categories)
    for point in values.get("integration_points", []) or []:
        if not isinstance(point, dict) or point.get("kind") not in IntegrationKind.values:
            raise ValidationError(_("Integration points need a kind (e-mail, DMS, CRM, ERP, API, upload)."))
    entries = values.get("catalogue_entries")
    if entries is not None:
        for entry in entries:
            if entry.tenant_id != tenant.pk or not entry.is_active:
                raise ValidationError(_("Only active entries of this tenant's catalogue may be used."))


def _assign(use_case: UseCase, values: dict) -> list[str]:
    """Set documentation values; returns the names that changed (m2m catalogue entries included)."""
    changed = []
    for name, value in values.items():
        if name not in DOCUMENTATION_FIELDS:
            raise ValidationError(_("%(name)s is not part of the documentation.") % {"name": name})
        if name == "catalogue_entries":
            continue
        if getattr(use_case, name) != value:
            setattr(use_case, name, value)
            changed.append(name)
    return changed


def use_case_create(*, actor, tenant, key: str, title: str, purpose: str, **documentation) -> UseCase:
    require_perm(actor, tenant, "automations.add_usecase")
    entries = documentation.pop("catalogue_entries", None)
    validate_documentation({**documentation, **({"catalogue_entries": entries} if entries else {})}, tenant=tenant)
    with transaction.atomic():
        use_case = UseCase(tenant=tenant, key=key, title=title, purpose=purpose, status=UseCaseStatus.DRAFT)
        _assign(use_case, documentation)
        use_case.full_clean(exclude=["catalogue_entries"])
        stamp(use_case, actor=actor, reason=_("use case documented"))
        use_case.save()
        if entries:
            use_case.catalogue_entries.set(entries)
        owners = _owners_granted(actor, use_case, creator=True)
        audit_event_record(actor=actor, tenant=tenant, event_type="use_case.created", obj=use_case,
                           details={"key": key, "risk_tier": use_case.risk_tier, "owners_granted": owners})
    return use_case


def _owners_granted(actor, use_case: UseCase, *, creator: bool = False) -> list[int]:
    """Inside the writing transaction: the use case's department owner, and a creator whose role does not
    change every use case (a department owner documenting their own), are granted to change it. Their ids."""
    people = [use_case.department_owner] if use_case.department_owner is not None else []
    user = as_actor(actor).user
    if creator and user is not None and not actor_has_perm(actor, use_case.tenant, "automations.change_usecase"):
        people.append(user)
    granted = []
    for person in people:
        if person.pk not in granted and use_case not in _own_use_cases(person, use_case.tenant):
            assign_perm("automations.change_usecase", person, use_case)
            granted.append(person.pk)
    return granted


def _own_use_cases(user, tenant) -> set:
    return set(get_objects_for_user(user, "automations.change_usecase", klass=UseCase.objects.for_tenant(tenant),
                                    accept_global_perms=False, with_superuser=False))


def use_case_owner_grant(*, actor, use_case: UseCase, user) -> bool:
    """The automation lead grants a member the right to change one use case (django-guardian): how a
    department owner comes to own their department's use cases. Audited, with whether the use case
    processes personal data (its items become readable to them). False when they held it already."""
    require_perm(actor, use_case.tenant, "portal.change_membership")
    if membership_get(user=user, tenant=use_case.tenant) is None:
        raise ValidationError(_("Only active members of this tenant are granted use cases."))
    if use_case in _own_use_cases(user, use_case.tenant):
        return False
    with transaction.atomic():
        assign_perm("automations.change_usecase", user, use_case)
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="use_case.owner_granted", obj=use_case,
                           details={"key": use_case.key, "user_id": user.pk,
                                    "personal_data": use_case.processes_personal_data})
    return True


def use_case_owner_revoke(*, actor, use_case: UseCase, user) -> bool:
    """Take the right to change one use case away from a member, audited. False when they held none."""
    require_perm(actor, use_case.tenant, "portal.change_membership")
    if use_case not in _own_use_cases(user, use_case.tenant):
        return False
    with transaction.atomic():
        remove_perm("automations.change_usecase", user, use_case)
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="use_case.owner_revoked", obj=use_case,
                           details={"key": use_case.key, "user_id": user.pk})
    return True


def use_case_update(*, actor, use_case: UseCase, values: dict, reason: str,
                    via_change_request: bool = False) -> UseCase:
    """Edit the documentation directly while the use case is a draft (or retired); once it runs
    (pilot, production, suspended) the edit must come through an approved change request."""
    tenant = use_case.tenant
    if not via_change_request:
        require_perm(actor, tenant, "automations.change_usecase", use_case)
        if use_case.status not in (UseCaseStatus.DRAFT, UseCaseStatus.RETIRED):
            raise NeedsChangeRequest(
                _("This use case is in %(status)s: its documentation changes through a change request.")
                % {"status": use_case.get_status_display()})
    if not reason.strip():
        raise ValidationError(_("Give a reason for the change."))
    validate_documentation(values, tenant=tenant)
    with transaction.atomic():
        use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
        changed = _assign(use_case, values)
        use_case.full_clean(exclude=["catalogue_entries"])
        stamp(use_case, actor=actor, reason=reason)
        use_case.save()
        if "catalogue_entries" in values:
            before = set(use_case.catalogue_entries.values_list("pk", flat=True))
            if before != {e.pk for e in values["catalogue_entries"]}:
                use_case.catalogue_entries.set(values["catalogue_entries"])
                changed.append("catalogue_entries")
        owners = _owners_granted(actor, use_case) if "department_owner" in changed else []
        audit_event_record(actor=actor, tenant=tenant, event_type="use_case.updated", obj=use_case,
                           details={"fields": sorted(changed), "via_change_request": via_change_request,
                                    **({"owners_granted": owners} if owners else {})})
    return use_case


def use_case_suspend(*, actor, use_case: UseCase, reason: str) -> UseCase:
    """The kill switch: immediate, no approval. New and queued items are held from this commit on."""
    require_perm(actor, use_case.tenant, "automations.suspend_usecase", use_case)
    if as_actor(actor).kind != "system" and not use_case_may(use_case=use_case, user=as_actor(actor).user,
                                                             action="suspend"):
        raise PermissionDenied(_("A department owner suspends the use cases of their own departments only."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for suspending."))
    with transaction.atomic():
        use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
        if use_case.status not in SUSPENDABLE:
            raise ValidationError(_("Only a use case in pilot or production can be suspended."))
        before = use_case.status
        use_case.status = UseCaseStatus.SUSPENDED
        stamp(use_case, actor=actor, reason=reason)
        use_case.save(update_fields=["status"])
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="use_case.suspended", obj=use_case,
                           details={"from": before})
        dispatch.emit("use_case.suspended", use_case=use_case)
    return use_case


def tenant_policy_ensure(*, tenant) -> TenantPolicy:
    policy, _created = TenantPolicy.objects.get_or_create(tenant=tenant)
    return policy


DETAIL_FIELDS = ("controller_name", "controller_contact", "dsb_contact", "technical_measures", "data_categories",
                 "change_request_expiry_days")


def tenant_policy_update_details(*, actor, tenant, values: dict, reason: str) -> TenantPolicy:
    """Controller details, TOMs and the category vocabulary; the control settings that could weaken
    a control are refused here and go through a change request."""
    require_perm(actor, tenant, "automations.change_tenantpolicy")
    weakening = sorted(set(values) & set(TenantPolicy.WEAKENING_FIELDS))
    if weakening:
        raise NeedsChangeRequest(_("These settings change only through a change request: %(f)s")
                                 % {"f": ", ".join(weakening)})
    unknown = sorted(set(values) - set(DETAIL_FIELDS))
    if unknown:
        raise ValidationError(_("Unknown settings: %(f)s") % {"f": ", ".join(unknown)})
    with transaction.atomic():
        policy = tenant_policy_ensure(tenant=tenant)
        policy = TenantPolicy.objects.select_for_update().get(pk=policy.pk)
        for name, value in values.items():
            setattr(policy, name, value)
        policy.full_clean()
        stamp(policy, actor=actor, reason=reason)
        policy.save()
        audit_event_record(actor=actor, tenant=tenant, event_type="tenant_policy.updated", obj=policy,
                           details={"fields": sorted(values)})
    return policy


def ensure_person(actor) -> None:
    if not as_actor(actor).is_person:
        raise PermissionDenied(_("Only a person in a browser session may do this; API tokens never approve."))
