"""Reads of the registry; every query is scoped to one tenant."""
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Field, Model, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from automations.choices import (
    CatalogueKind,
    ChangeKind,
    ChangeState,
    ConnectorDirection,
    Engine,
    Label,
    UseCaseStatus,
)
from automations.engines.base import DEFAULT_FILE_TYPES, ENGINE_FILE_TYPES
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.changes import ChangeRequest
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.models.versions import VERSION_MODELS, Release, ReleaseLabel
from portal.choices import Role
from portal.db.prepared import PreparedQuery
from portal.permissions import actor_has_perm, perm_reach
from portal.selectors import reads_all_work, roles_of


def tenant_policy_get(*, tenant) -> TenantPolicy:
    """The tenant's policy; defaults (unsaved) until something was set."""
    return TenantPolicy.objects.filter(tenant=tenant).first() or TenantPolicy(tenant=tenant)


def delivery_connectors_of(*, use_case) -> QuerySet[CatalogueEntry]:
    """The delivery connectors a use case names (active or not), for a use case or a reference of an outer query
    (OuterRef): a pipeline run asks whether there are any in the query that locks it for routing."""
    return CatalogueEntry.objects.filter(use_cases=use_case, kind=CatalogueKind.CONNECTOR,
                                         direction=ConnectorDirection.DELIVERY)


def tenant_policy_value_of(*, tenant, field: str):
    """One setting of a tenant's policy, with its default while the tenant has none, as an expression over a
    tenant given as a reference of an outer query (OuterRef): a pipeline run reads it in the query that locks it."""
    model_field = TenantPolicy._meta.get_field(field)
    if not isinstance(model_field, Field):
        raise ValueError(f"{field} is no field of the tenant policy's own")
    return Coalesce(Subquery(TenantPolicy.objects.filter(tenant=tenant).values(field)[:1]),
                    Value(model_field.get_default(), output_field=model_field))


def use_case_list(*, tenant, status: str | None = None, risk_tier: str | None = None,
                  department: str | None = None, review_due: bool = False, user=None,
                  action: str = "view") -> QuerySet[UseCase]:
    """The tenant's use cases; with `user`, those they may `action` (use_case_restrict)."""
    qs: QuerySet[UseCase] = UseCase.objects.for_tenant(tenant).select_related("department_owner",
                                                                              "escalation_contact")
    if user is not None:
        qs = use_case_restrict(qs, tenant=tenant, user=user, action=action)
    if status:
        qs = qs.filter(status=status)
    if risk_tier:
        qs = qs.filter(risk_tier=risk_tier)
    if department:
        qs = qs.filter(department=department)
    if review_due:
        qs = use_cases_due_for_review(qs)
    return qs.order_by("title")


# What a user may do with use cases (NetBox's restrict(user, action)):
# view  — read the registry: every use case of the tenant (the views check the model permission);
# change — edit the documentation: all for a role that holds the permission (the automation lead), else the
#          use cases granted to the user (django-guardian object permission, a department owner's own);
# own   — the use cases the user owns: named as their department owner, IT contact, ISB or DSB, or granted;
# work  — whose items, runs, queues and tasks the user reads: all for the tenant-wide readers of work
#          (portal.roles.TENANT_WIDE_WORK_READERS), else those they own, those whose queues they may work
#          and those of the departments whose team they belong to;
# department — the use cases of the user's own departments: those they own as department owner (named as
#          it, or granted to change them) and every other use case of a department one of those names;
# suspend, propose — those the user may suspend (automations.suspend_usecase) or propose changes to
#          (automations.add_changerequest): all when a role holds the permission for the whole tenant (the
#          automation lead, ISB, DSB, IT), a department owner's departments' (action department), else none;
# intake — those the user may send work items to (automations.add_workitem): all for a tenant-wide
#          reader of work that holds it (the automation lead, IT), else those whose work they see (work).
USE_CASE_ACTIONS = ("view", "change", "own", "work", "department", "suspend", "propose", "intake")
REACH_PERMISSIONS = {"suspend": "automations.suspend_usecase", "propose": "automations.add_changerequest"}


def use_case_restrict(qs: QuerySet[UseCase], *, tenant, user, action: str) -> QuerySet[UseCase]:
    if action not in USE_CASE_ACTIONS:
        raise ValueError(f"unknown action {action}")
    qs = qs.filter(tenant=tenant)
    if action == "view":
        return qs
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if action == "change":
        if actor_has_perm(user, tenant, "automations.change_usecase"):
            return qs
        return qs.filter(pk__in=_granted_use_cases(tenant, user))
    if action in REACH_PERMISSIONS:
        reach = perm_reach(user, tenant, REACH_PERMISSIONS[action])
        if reach == "tenant":
            return qs
        return _department_reach(qs, tenant, user) if reach == "department" else qs.none()
    if action == "department":
        return _department_reach(qs, tenant, user)
    if action == "intake":
        if not actor_has_perm(user, tenant, "automations.add_workitem"):
            return qs.none()
        action = "work"
    if action == "work" and reads_all_work(user=user, tenant=tenant):
        return qs
    owned = (Q(department_owner=user) | Q(it_contact=user) | Q(security_officer=user)
             | Q(data_protection_officer=user) | Q(pk__in=_granted_use_cases(tenant, user)))
    if action == "own":
        return qs.filter(owned)
    # The queues granted to the user, to them or to their team's group, and the departments of their teams
    # (whose queues they work once they exist). Queues and teams belong to the reviews part above this one:
    # guardian finds the queues by the permission's name, the relations go by their related names.
    queues: QuerySet[Model] = get_objects_for_user(user, "reviews.work_reviewqueue", accept_global_perms=False,
                                                   with_superuser=False)
    worked = UseCase.objects.filter(tenant=tenant, review_queues__in=queues.filter(tenant=tenant).values("pk"))
    teams = user.groups.filter(review_team__tenant=tenant).values("review_team__name")
    return qs.filter(owned | Q(pk__in=worked.values("pk")) | (Q(department__in=teams) & ~Q(department="")))


def _department_reach(qs: QuerySet[UseCase], tenant, user) -> QuerySet[UseCase]:
    owned = Q(department_owner=user) | Q(pk__in=_granted_use_cases(tenant, user))
    departments = UseCase.objects.filter(owned, tenant=tenant).exclude(department="").values("department")
    return qs.filter(owned | Q(department__in=departments))


def _granted_use_cases(tenant, user) -> QuerySet[UseCase, int]:
    return get_objects_for_user(user, "automations.change_usecase", klass=UseCase.objects.for_tenant(tenant),
                                accept_global_perms=False, with_superuser=False).values_list("pk", flat=True)


def use_case_may(*, use_case: UseCase, user, action: str) -> bool:
    """Whether `user` may `action` this use case (use_case_restrict on one row)."""
    return use_case_restrict(UseCase.objects.filter(pk=use_case.pk), tenant=use_case.tenant, user=user,
                             action=action).exists()


def use_case_owner_grants(*, tenant) -> list[tuple[UseCase, list]]:
    """Each use case of the tenant with the members granted to change it (its owners by grant), by user name."""
    out = []
    for use_case in UseCase.objects.for_tenant(tenant).order_by("department", "title"):
        users = get_users_with_perms(use_case, only_with_perms_in=["change_usecase"], with_group_users=False,
                                     with_superusers=False)
        out.append((use_case, sorted(users, key=lambda u: u.username)))
    return out


UseCases = TypeVar("UseCases", bound=QuerySet[UseCase])


def use_cases_due_for_review(qs: UseCases) -> UseCases:
    """Those of qs whose periodic review is due (the interval counts from the last review)."""
    now = timezone.now()
    return qs.filter(pk__in=[u.pk for u in qs if u.review_due_at <= now])


def use_case_get(*, tenant, key: str) -> UseCase:
    return UseCase.objects.for_tenant(tenant).get(key=key)


def catalogue_list(*, tenant, kind: str | None = None, active_only: bool = False) -> QuerySet[CatalogueEntry]:
    qs = CatalogueEntry.objects.for_tenant(tenant)
    if kind:
        qs = qs.filter(kind=kind)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs


def version_list(*, use_case: UseCase, kind: str) -> QuerySet:
    return VERSION_MODELS[kind].objects.for_tenant(use_case.tenant).filter(use_case=use_case).order_by("-number")


def release_list(*, use_case: UseCase) -> QuerySet[Release]:
    return (Release.objects.for_tenant(use_case.tenant).filter(use_case=use_case)
            .select_related("prompt_template", "threshold_set", "guardrail_set")
            .prefetch_related("engine_configs", "labels").order_by("-number"))


def label_map(*, use_case: UseCase) -> dict[str, Release]:
    return {label.name: label.release for label in
            ReleaseLabel.objects.for_tenant(use_case.tenant).filter(use_case=use_case).select_related("release")}


_ACTIVE_LABEL = (Q(name=Label.PILOT, use_case__status=UseCaseStatus.PILOT)
                 | Q(name=Label.PRODUCTION, use_case__status=UseCaseStatus.PRODUCTION))


def active_release_label(*, tenant, use_case_key: str) -> ReleaseLabel | None:
    """What a use case runs now, in one query: the label matching its status (pilot -> `pilot`,
    production -> `production`) with its release and use case. Suspended, draft and retired use cases
    run nothing (None)."""
    return (
        ReleaseLabel.objects.filter(tenant=tenant, use_case__key=use_case_key).filter(_ACTIVE_LABEL)
        .select_related("release", "use_case", "release__threshold_set", "release__prompt_template",
                        "release__guardrail_set")
        .first()
    )


def active_release_labels_of(*, use_case) -> QuerySet[ReleaseLabel]:
    """The label a use case runs now (at most one row, as active_release_label), for a use case given as a
    reference of an outer query (OuterRef): a pipeline run reads it in the query that locks the run."""
    return ReleaseLabel.objects.filter(use_case=use_case).filter(_ACTIVE_LABEL)


# What a clerk's briefing is built from (reviews.briefings) besides the thresholds of the release the use case
# runs: a change to one of these changes the briefing, and with it the version a clerk's confirmation names.
BRIEFING_FIELDS = ("automated_decisions", "human_decisions", "risk_rationale", "manual_fallback",
                   "training_reuse_allowed")


# active_release_label's row with only what a briefing reads (the release's thresholds), built once per process:
# a queue page checks the briefing of each of its use cases on every request.
_ACTIVE_THRESHOLDS = PreparedQuery(ReleaseLabel, lambda tenant_id, use_case_id: (
    ReleaseLabel.objects.filter(tenant_id=tenant_id, use_case_id=use_case_id).filter(_ACTIVE_LABEL)
    .select_related("release__threshold_set")
    .only("id", "release", "release__threshold_set", "release__threshold_set__thresholds")
    .order_by("pk")[:1]), tenant_id=int, use_case_id=int)


def briefing_basis(*, use_case: UseCase) -> dict:
    """The documentation and thresholds a use case's briefing is generated from, as they are stored now."""
    label = _ACTIVE_THRESHOLDS.first(tenant_id=use_case.tenant_id, use_case_id=use_case.pk)
    thresholds = label.release.threshold_set.thresholds if label and label.release.threshold_set_id else {}
    return {**{name: getattr(use_case, name) for name in BRIEFING_FIELDS}, "thresholds": thresholds}


def _thresholds_of(use_case: UseCase, label: str) -> dict:
    release = label_map(use_case=use_case).get(label)
    return release.threshold_set.thresholds if release is not None and release.threshold_set_id else {}


def change_request_briefing_items(*, change_request: ChangeRequest) -> list[str]:
    """What of the clerks' briefing this change request would alter once applied: documentation field names
    and "thresholds"; empty when nothing. Said to the author and every approver before it goes live."""
    cr, use_case = change_request, change_request.use_case
    if use_case is None:
        return []
    running = (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION)
    if cr.state != ChangeState.OPEN:  # decided: what it altered, as recorded when it was proposed
        if cr.kind == ChangeKind.DOCUMENTATION:
            changed = {entry.get("item") for entry in cr.diff or [] if entry.get("before") != entry.get("after")}
            return [name for name in BRIEFING_FIELDS if name in changed]
        return ["thresholds"] if cr.briefing_reconfirm is not None else []
    if cr.kind == ChangeKind.DOCUMENTATION:
        changes = (cr.payload or {}).get("changes", {})
        return [name for name in BRIEFING_FIELDS if name in changes and changes[name] != getattr(use_case, name)]
    if cr.kind == ChangeKind.LABEL_MOVE and cr.payload.get("label") == use_case.status:
        target = release_list(use_case=use_case).filter(pk=cr.payload.get("release_id")).first()
        after = target.threshold_set.thresholds if target is not None and target.threshold_set_id else {}
        return ["thresholds"] if _thresholds_of(use_case, use_case.status) != after else []
    if cr.kind == ChangeKind.STATUS_CHANGE and use_case.status in running and cr.payload.get("to") in running:
        # Pilot and production may run releases with other thresholds.
        before, after = _thresholds_of(use_case, use_case.status), _thresholds_of(use_case, cr.payload["to"])
        return ["thresholds"] if before != after else []
    return []


def change_request_list(*, tenant, use_case: UseCase | None = None,
                        state: str | None = None) -> QuerySet[ChangeRequest]:
    qs = (ChangeRequest.objects.for_tenant(tenant).select_related("use_case", "author")
          .prefetch_related("approvals__approver"))
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at")


def change_request_open_roles(*, change_request: ChangeRequest) -> list[str]:
    filled = {a.role for a in change_request.approvals.all() if a.decision == "approve"}
    return [r for r in change_request.required_roles if r not in filled]


def approval_role_in_reach(*, change_request: ChangeRequest, user, role: str) -> bool:
    """Whether `user` may fill `role` on this request as far as departments go: the department owner's approval
    of a use case's change is given by the department owner it names, or, when it names none, by a department
    owner of its department (use_case_restrict, action department). Other roles reach the whole tenant."""
    use_case = change_request.use_case if role == Role.DEPARTMENT_OWNER else None
    if use_case is None:
        return True
    if use_case.department_owner_id is not None:
        return use_case.department_owner_id == user.pk
    return use_case_may(use_case=use_case, user=user, action="department")


def change_request_decision_roles(*, change_request: ChangeRequest, user, roles, allow_dual: bool) -> list[str]:
    """The open required roles of the request that `user` (holding `roles`) may fill now: not its author, not
    a grant of roles to themselves, not a second role of the same person (unless the tenant allows it), and
    a department owner only for their own departments."""
    cr = change_request
    if cr.state != ChangeState.OPEN or cr.author_id == user.pk:
        return []
    if cr.kind == ChangeKind.MEMBERSHIP_ROLES and cr.payload.get("user_id") == user.pk:
        return []
    if not allow_dual and any(a.approver_id == user.pk for a in cr.approvals.all()):
        return []
    return [role for role in change_request_open_roles(change_request=cr)
            if role in roles and approval_role_in_reach(change_request=cr, user=user, role=role)]


def change_request_inbox(*, tenant, user) -> list[ChangeRequest]:
    """Open requests this user could approve now: they hold an unfilled required role (a department owner for
    their own departments' use cases), did not author the request and (unless the tenant allows it) have not
    approved it in another role already."""
    roles = set(roles_of(user=user, tenant=tenant))
    allow_dual = tenant_policy_get(tenant=tenant).allow_dual_role
    return [cr for cr in change_request_list(tenant=tenant, state=ChangeState.OPEN).filter(
        expires_at__gt=timezone.now()) if change_request_decision_roles(change_request=cr, user=user, roles=roles,
                                                                        allow_dual=allow_dual)]


# --- registry pages, Verfahrensdokumentation and registry export ---------------------------------

def use_case_department_list(*, tenant) -> list[str]:
    """The departments named by the tenant's use cases, for the registry filter."""
    return sorted(set(UseCase.objects.for_tenant(tenant).exclude(department="").values_list("department", flat=True)))


def version_get(*, use_case: UseCase, kind: str, number: int):
    return version_list(use_case=use_case, kind=kind).select_related("author", "use_case").get(number=number)


def release_get(*, use_case: UseCase, number: int) -> Release:
    return release_list(use_case=use_case).select_related("author").get(number=number)


def catalogue_entry_get(*, tenant, key: str) -> CatalogueEntry:
    return CatalogueEntry.objects.for_tenant(tenant).get(key=key)


def change_request_get(*, tenant, pk: int) -> ChangeRequest:
    return change_request_list(tenant=tenant).select_related("proposed_via_token").get(pk=pk)


def change_request_open_matching(*, tenant, kind: str, use_case: UseCase | None, payload: dict) -> ChangeRequest | None:
    """An open, unexpired request proposing exactly this change (so an import run twice proposes it once)."""
    candidates = change_request_list(tenant=tenant, state=ChangeState.OPEN).filter(
        kind=kind, use_case=use_case, expires_at__gt=timezone.now())
    return next((cr for cr in candidates if cr.payload == payload), None)


def change_request_applied_list(*, use_case: UseCase, kind: str) -> list[ChangeRequest]:
    """Applied requests of one kind for a use case, newest first, with their approvals and approvers."""
    return list(change_request_list(tenant=use_case.tenant, use_case=use_case, state=ChangeState.APPLIED)
                .filter(kind=kind).order_by("-decided_at", "-pk"))


def release_labels_with_versions(*, use_case: UseCase) -> list[ReleaseLabel]:
    """The use case's labels with their releases, every bundled version and its author."""
    return list(
        ReleaseLabel.objects.for_tenant(use_case.tenant).filter(use_case=use_case)
        .select_related("release__author", "release__prompt_template__author", "release__threshold_set__author",
                        "release__guardrail_set__author")
        .prefetch_related("release__engine_configs__author"))


def version_list_for_tenant(*, tenant, kind: str, use_case_key: str | None = None) -> QuerySet:
    qs = VERSION_MODELS[kind].objects.for_tenant(tenant).select_related("use_case", "author")
    if use_case_key:
        qs = qs.filter(use_case__key=use_case_key)
    return qs


def release_list_for_tenant(*, tenant, use_case_key: str | None = None) -> QuerySet[Release]:
    qs = (Release.objects.for_tenant(tenant)
          .select_related("use_case", "author", "prompt_template", "threshold_set", "guardrail_set")
          .prefetch_related("engine_configs", "labels"))
    if use_case_key:
        qs = qs.filter(use_case__key=use_case_key)
    return qs


def use_case_history(*, use_case: UseCase):
    """django-simple-history rows of the use case, newest first, with the acting user."""
    return use_case.history.select_related("history_user").order_by("-history_date", "-history_id")


def release_label_history(*, use_case: UseCase):
    return (ReleaseLabel.history.filter(tenant_id=use_case.tenant_id, use_case_id=use_case.pk)
            .select_related("history_user", "release").order_by("-history_date", "-history_id"))


# --- language model replies ----------------------------------------------------------------------

@dataclass
class ReplySetup:
    configured: bool
    processor: CatalogueEntry | None
    model: str
    message: str


def reply_processor(tenant) -> CatalogueEntry | None:
    """The tenant's active OpenAI-compatible processor with a base URL and a model, if any."""
    for entry in CatalogueEntry.objects.for_tenant(tenant).filter(kind=CatalogueKind.PROCESSOR, is_active=True) \
            .order_by("key"):
        if entry.endpoint.startswith(("http://", "https://")) and (entry.settings or {}).get("model") \
                and entry.method in ("", "openai-compatible"):
            return entry
    return None


def describe_reply_setup(tenant, *, use_case: UseCase | None = None) -> ReplySetup:
    """Whether replies are suggested by a language model. With `use_case`, only when the release it runs
    has the llm engine too: a provider approved in the catalogue alone suggests nothing."""
    entry = reply_processor(tenant)
    if entry is None:
        return ReplySetup(False, None, "", _(
            "No language model provider is configured in the catalogue: tickets get a queue and a priority, "
            "replies are written by people."))
    model = entry.settings["model"]
    if use_case is not None and Engine.LLM not in use_case_engines(use_case=use_case):
        return ReplySetup(False, entry, model, _(
            "%(name)s (model %(model)s, %(location)s) is approved in the catalogue, but the release this use case "
            "runs does not use a language model: replies are written by people.") % {
            "name": entry.name, "model": model, "location": entry.location or "-"})
    return ReplySetup(True, entry, model, _(
        "Reply suggestions come from %(name)s (model %(model)s, %(location)s); a person checks every reply "
        "before it is sent.") % {"name": entry.name, "model": model, "location": entry.location or "-"})


# --- capabilities from a use case's configuration ----------------------------------------------------

def use_case_engines(*, use_case: UseCase) -> set[str]:
    """The engines a use case runs: those of the releases its labels point at, else of its newest release.
    Pages offer what follows from them (an invoice engine reads invoices, ...), never from the key."""
    labels = ReleaseLabel.objects.for_tenant(use_case.tenant).filter(use_case=use_case).select_related("release")
    releases = [label.release for label in labels]
    if not releases:
        newest = release_list(use_case=use_case).first()
        releases = [newest] if newest is not None else []
    return {config.engine for release in releases for config in release.engine_configs.all()}


def file_types_accepted(*, use_case: UseCase | None = None, release: Release | None = None) -> frozenset[str]:
    """The content types of files the use case's engines can read (use_case_engines), else the documents
    every engine reads. With `release`, that release's engines alone (a dry run)."""
    if release is not None:
        engines = {config.engine for config in release.engine_configs.all()}
    else:
        engines = use_case_engines(use_case=use_case) if use_case is not None else set()
    if not engines:
        return DEFAULT_FILE_TYPES
    accepted: frozenset[str] = frozenset()
    for engine in engines:
        accepted |= ENGINE_FILE_TYPES.get(engine, DEFAULT_FILE_TYPES)
    return accepted


def use_case_reads_invoices(*, use_case: UseCase) -> bool:
    return Engine.INVOICE in use_case_engines(use_case=use_case)


def processor_overview(*, tenant) -> list[dict]:
    """IT's view of the active processors (language model providers): each with its circuit breaker's state."""
    entries = (catalogue_list(tenant=tenant, kind=CatalogueKind.PROCESSOR, active_only=True)
               .select_related("circuit").order_by("name"))
    overview = []
    for entry in entries:
        circuit = getattr(entry, "circuit", None)
        overview.append({"processor": entry, "state": circuit.state if circuit else "closed",
                         "consecutive_failures": circuit.consecutive_failures if circuit else 0,
                         "last_error": circuit.last_error if circuit else ""})
    return overview
