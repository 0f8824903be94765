"""Views of the UI shell: thin; reads through portal.selectors, writes through portal.services."""
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from audit.selectors.events import requests_open_by_due_date
from audit.selectors.works_council import works_council_report
from automations.choices import ChangeKind, ChangeState, RiskTier
from automations.connectors.selectors import connector_overview
from automations.execution.selectors import escalation_list_for
from automations.registry.models.changes import ChangeRequest
from automations.registry.selectors import (
    change_request_inbox,
    change_request_list,
    processor_overview,
    tenant_policy_get,
    use_case_list,
)
from automations.registry.services.memberships import membership_roles_request
from leitstand.dashboard import charts as leitstand_charts
from leitstand.selectors import leitstand_report
from portal import selectors, services
from portal.choices import Role
from portal.forms import (
    ApiTokenCreateForm,
    LoginUnlockForm,
    MembershipCreateForm,
    MembershipDeactivateForm,
    MembershipRolesForm,
    SecondFactorCodeForm,
    TotpConfirmForm,
)
from portal.middleware import SECOND_FACTOR_PENDING_KEY, SESSION_TENANT_KEY, second_factor_required
from portal.roles import CONTROL_ROLES, GRANT_APPROVERS
from portal.selectors import tenant_list_for_user
from reviews.selectors import briefing_notices_unread, review_queue_figures, review_queue_list, review_work_today

Result = TypeVar("Result")


class TenantRequiredMixin(LoginRequiredMixin):
    """A page inside a tenant: without an active tenant, the user chooses one first."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.tenant is None:
            return HttpResponseRedirect(reverse("portal:tenant-switch"))
        return super().dispatch(request, *args, **kwargs)


class TenantPermissionRequiredMixin(TenantRequiredMixin, PermissionRequiredMixin):
    """Permission from the user's roles in the active tenant (portal.backends); 403 without it."""


def get_or_404(selector, **kwargs):
    """A selector's row of the active tenant, or 404: another tenant's id is simply not found."""
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def error_messages(error: Exception) -> list[str]:
    """The sentences of a service's ValidationError or PermissionDenied, for a form or a message."""
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error) or str(PermissionDenied.__doc__)]


def report_error(request, error: Exception) -> None:
    for message in error_messages(error):
        messages.error(request, message)


def refusal_status(error: Exception) -> int:
    """What a page answers when a service refuses: 403 for PermissionDenied, 400 for a ValidationError."""
    return 403 if isinstance(error, PermissionDenied) else 400


def show_refusal(form: BaseForm, error: Exception, *, field: str | None = None) -> int:
    """A service's refusal as the form's errors: what a ValidationError says of one of the form's fields beside
    that field, the rest above the fields (or beside `field`); returns the status to render it with."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, texts in error.message_dict.items():
            for message in texts:
                form.add_error(name if name in form.fields else field, message)
    else:
        for message in error_messages(error):
            form.add_error(field, message)
    return refusal_status(error)


def call_service(request: HttpRequest, call: Callable[[], Result], *, to: str | Callable[[Result], str] | None = None,
                 done: Callable[[Result], HttpResponse] | None = None,
                 success: str | Callable[[Result], str] | None = None, refused_to: str | None = None,
                 form: BaseForm | None = None, field: str | None = None,
                 invalid: Callable[[int], HttpResponse] | None = None) -> HttpResponse:
    """The pages' way to act: call the service, show what came of it, redirect (or render its result).

    On success `success` is shown (a text, or a function of the service's result giving one) and the
    answer redirects to `to` (a URL, or a function of the result giving one) or, for a page that shows the
    result (an import's report, a secret shown once), is `done(result)`. A ValidationError or
    PermissionDenied of the service is shown to the user: where the page is rendered again (`invalid`, a
    function of the status, 400 or 403), as the errors of `form` (`show_refusal`; beside `field` where it
    names one) or, without a form, as error messages; otherwise as error messages with a redirect to
    `refused_to` (by default `to`)."""
    if (to is None) == (done is None):
        raise TypeError("call_service answers either with a redirect `to` or with a page `done`")
    if invalid is None:
        back = refused_to if refused_to is not None else to
        if back is None or callable(back):
            raise TypeError("call_service needs refused_to or invalid where `to` depends on the result")
        form, invalid = None, lambda _status: HttpResponseRedirect(back)
    try:
        result = call()
    except (ValidationError, PermissionDenied) as error:
        if form is not None:
            return invalid(show_refusal(form, error, field=field))
        report_error(request, error)
        return invalid(refusal_status(error))
    if success is not None:
        messages.success(request, success(result) if callable(success) else success)
    if done is not None:
        return done(result)
    assert to is not None
    return HttpResponseRedirect(to(result) if callable(to) else to)


# --- Home ----------------------------------------------------------------------------------------

CORE_TEAM = frozenset({Role.AUTOMATION_LEAD, Role.DEPARTMENT_OWNER, Role.IT_OPERATOR, Role.SECURITY_OFFICER})
AUDIT_READERS = frozenset({Role.DATA_PROTECTION_OFFICER, Role.AUDITOR})
# Roles that approve change requests (clerks and auditors never do).
APPROVERS = frozenset(set(Role.values) - {Role.CLERK, Role.AUDITOR})
LEITSTAND_DAYS = 14  # what the home page's Leitstand panel shows


@dataclass
class Panel:
    key: str
    data: dict = field(default_factory=dict)

    @property
    def template(self) -> str:
        return f"portal/home/_{self.key}.html"


def demo_invoices_url() -> str:
    """The quick start's demo invoices page where the demo pages are mounted (never in production), else "".
    The product links to it by URL name only; it never imports the demo package."""
    try:
        return reverse("demo:invoices")
    except NoReverseMatch:
        return ""


# Panels of work waiting for the member: shown only when something waits (they have no empty state).
WORK_PANELS = frozenset({"approvals", "catalogue_requests", "subject_requests"})


def home_panel_keys(roles) -> list[str]:
    """Which panels a member's home page shows, in this order: first the work waiting for their roles, then
    the overviews; one panel per kind of work, however many roles lead to it. Periodic reviews due and switched-off
    automation come first, from the quality part's panel (automations.quality, `quality_home_panel`)."""
    roles = set(roles)
    keys = []
    if roles & APPROVERS:
        keys.append("approvals")
    if Role.SECURITY_OFFICER in roles:
        keys.append("catalogue_requests")
    if Role.DATA_PROTECTION_OFFICER in roles:
        keys.append("subject_requests")
    if Role.CLERK in roles:
        keys.append("queues")
    if Role.WORKS_COUNCIL in roles:
        keys.append("measures")
    if roles & CORE_TEAM:
        keys += ["leitstand", "registry"]
    if roles & AUDIT_READERS:
        keys.append("audit")
    return keys


def _queues_panel(request) -> dict:
    queues = list(review_queue_list(tenant=request.tenant, user=request.user).order_by("name")[:8])
    return {"queues": [(queue, review_queue_figures(queue=queue)) for queue in queues],
            "today": review_work_today(tenant=request.tenant, user=request.user)["total"]}


def _briefings_panel(request) -> dict:
    return {"notices": list(briefing_notices_unread(tenant=request.tenant, user=request.user)[:10])}


def _escalations_panel(request) -> dict:
    return {"escalations": list(escalation_list_for(tenant=request.tenant, user=request.user)[:10])}


# How the registry panel looks at the use cases, per role (the first that applies): the automation lead keeps the
# registry and the members; a department owner their departments' use cases; the ISB the risks and what each
# use case sends data to; IT what each use case connects to.
REGISTRY_VIEWS = ((Role.AUTOMATION_LEAD, "registry"), (Role.DEPARTMENT_OWNER, "departments"),
                  (Role.SECURITY_OFFICER, "risks"), (Role.IT_OPERATOR, "integrations"))
RISK_ORDER: dict[str, int] = {RiskTier.PROHIBITED: 0, RiskTier.HIGH: 1, RiskTier.LIMITED: 2, RiskTier.MINIMAL: 3}


def registry_view(roles) -> str:
    return next((view for role, view in REGISTRY_VIEWS if role in roles), "registry")


def _registry_panel(request) -> dict:
    view = registry_view(request.membership.roles)
    listed = use_case_list(tenant=request.tenant, user=request.user,
                           action="department" if view == "departments" else "view")
    if view in ("risks", "integrations"):
        listed = listed.prefetch_related("catalogue_entries")
    use_cases = list(listed[:20])
    if view == "risks":
        use_cases.sort(key=lambda use_case: (RISK_ORDER.get(use_case.risk_tier, 9), use_case.title))
    return {"view": view, "use_cases": use_cases,
            "members": selectors.membership_list(tenant=request.tenant).filter(is_active=True)
            if view == "registry" else None,
            # The same count as the approval inbox ("My approvals"), and how many are open in all.
            "waiting": len(change_request_inbox(tenant=request.tenant, user=request.user)),
            "open_changes": change_request_list(tenant=request.tenant, state=ChangeState.OPEN).count()}


def _audit_panel(request) -> dict:
    return {
        "events": selectors.audit_event_list_recent(tenant=request.tenant, limit=10),
        "chain_length": selectors.audit_chain_length(tenant=request.tenant),
        # The DSB sees the requests in a panel of their own, first.
        "requests_elsewhere": Role.DATA_PROTECTION_OFFICER in request.membership.roles,
    }


def _connectors_panel(request) -> dict:
    overview = connector_overview(tenant=request.tenant)
    processors = processor_overview(tenant=request.tenant)
    return {"connectors": overview, "open": [row for row in overview if row["state"] != "closed"],
            "dead": sum(row["dead"] for row in overview), "processors": processors,
            "processors_open": [row for row in processors if row["state"] != "closed"]}


def _approvals_panel(request) -> dict:
    return {"change_requests": change_request_inbox(tenant=request.tenant, user=request.user)[:10]}


def _catalogue_requests_panel(request) -> dict:
    waiting = {cr.pk for cr in change_request_inbox(tenant=request.tenant, user=request.user)}
    requests = list(change_request_list(tenant=request.tenant, state=ChangeState.OPEN)
                    .filter(kind=ChangeKind.CATALOGUE)[:10])
    return {"change_requests": [(cr, cr.pk in waiting) for cr in requests]}


def _subject_requests_panel(request) -> dict:
    return {"requests": requests_open_by_due_date(tenant=request.tenant, limit=10)}


def _measures_panel(request) -> dict:
    report = works_council_report(tenant=request.tenant)
    return {"report": report, "use_cases": [row for row in report.use_cases if row.affects_employees]}


def _leitstand_panel(request) -> dict:
    if not request.user.has_perm("leitstand.view_dailyfigures"):
        return {}
    today = timezone.localdate()
    report = leitstand_report(tenant=request.tenant, since=today - timedelta(days=LEITSTAND_DAYS - 1), until=today)
    return {"report": report, "charts": [c for c in leitstand_charts(report) if c.key in ("outcome", "rates")]}


# What each panel reads; a panel without an entry shows its empty state.
PANEL_DATA = {"registry": _registry_panel, "queues": _queues_panel, "audit": _audit_panel,
              "escalations": _escalations_panel, "approvals": _approvals_panel,
              "catalogue_requests": _catalogue_requests_panel, "subject_requests": _subject_requests_panel,
              "measures": _measures_panel, "leitstand": _leitstand_panel, "connectors": _connectors_panel}


def _has_work(panel: Panel) -> bool:
    return panel.key not in WORK_PANELS or any(bool(value) for value in panel.data.values())


def login_locked_out(request, original_response=None, credentials=None):
    """What django-axes answers while sign-in is locked (AXES_LOCKOUT_CALLABLE): 429 and for how long."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = _("Too many failed logins. Sign-in is locked for %(minutes)d minutes; try again later or ask "
                "an administrator to unlock it.") % {"minutes": minutes}
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429, headers={"Retry-After": str(minutes * 60)})
    response = render(request, "portal/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class HomeView(TenantRequiredMixin, View):
    def get(self, request):
        roles = list(request.membership.roles) if request.membership else []
        panels = [Panel(key=key, data=PANEL_DATA[key](request) if key in PANEL_DATA else {})
                  for key in home_panel_keys(roles)]
        panels = [panel for panel in panels if _has_work(panel) and (panel.key != "leitstand" or panel.data)]
        escalations = _escalations_panel(request)
        if escalations["escalations"]:  # whoever is an escalation contact sees theirs first
            panels.insert(0, Panel(key="escalations", data=escalations))
        briefings = _briefings_panel(request)
        if briefings["notices"]:  # a clerk hears first that what they must know has changed
            panels.insert(0, Panel(key="briefings", data=briefings))
        if Role.IT_OPERATOR in roles:  # IT keeps the connectors and processors: their state first
            connectors = _connectors_panel(request)
            if connectors["connectors"] or connectors["processors"]:
                panels.insert(0, Panel(key="connectors", data=connectors))
        return render(request, "portal/home.html", {"roles": roles, "panels": panels})


# --- Tenant switch -------------------------------------------------------------------------------

class TenantSwitchView(LoginRequiredMixin, View):
    def get(self, request):
        return render(request, "portal/tenant_switch.html", {"tenants": tenant_list_for_user(user=request.user)})

    def post(self, request):
        tenant = get_object_or_404(tenant_list_for_user(user=request.user), slug=request.POST.get("tenant"))

        def switch():
            services.tenant_switch(user=request.user, tenant=tenant)
            request.session[SESSION_TENANT_KEY] = tenant.pk

        return call_service(request, switch, success=_("You are now working in %(tenant)s.") % {"tenant": tenant.name},
                            to=reverse("portal:home"), refused_to=reverse("portal:tenant-switch"))


# --- API tokens ----------------------------------------------------------------------------------

class ApiTokenListView(TenantRequiredMixin, View):
    """The user's own tokens in the active tenant; every member may hold tokens."""

    def get(self, request):
        return render(request, "portal/api_tokens.html", {
            "tokens": selectors.api_token_list(tenant=request.tenant, user=request.user),
            "form": ApiTokenCreateForm(),
        })


class ApiTokenCreateView(TenantRequiredMixin, View):
    def get(self, request):
        return render(request, "portal/api_token_create.html", {"form": ApiTokenCreateForm()})

    def post(self, request):
        form = ApiTokenCreateForm(request.POST)
        if not form.is_valid():
            return render(request, "portal/api_token_create.html", {"form": form}, status=400)
        return call_service(request, lambda: services.api_token_create(
            actor=request.user, tenant=request.tenant, user=request.user,
            name=form.cleaned_data["name"], days=form.cleaned_data["days"], scopes=form.cleaned_data["scopes"]),
            form=form, invalid=lambda status: render(request, "portal/api_token_create.html", {"form": form},
                                                     status=status),
            done=lambda created: self._created(request, *created))

    @staticmethod
    def _created(request, token, plain):
        # Rendered straight from the POST, never redirected or kept in the session: the plain token
        # exists only in this one response.
        response = render(request, "portal/api_token_created.html", {"token": token, "plain": plain})
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeView(TenantRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk: int):
        token = get_or_404(selectors.api_token_get, tenant=request.tenant, user=request.user, pk=pk)
        return call_service(request, lambda: services.api_token_revoke(actor=request.user, token=token),
                            success=_("The token “%(name)s” was revoked.") % {"name": token.name},
                            to=reverse("portal:api-tokens"))


# --- Memberships ---------------------------------------------------------------------------------

@dataclass
class GrantRule:
    """One row of the members page's rule table: a control role, who holds it, who approves its grant."""

    role: str
    holders: list[str]
    approvers: list[str]
    vacant: list[str]


def grant_rules(memberships) -> list[GrantRule]:
    """The table of docs/roles.md for this tenant, from its memberships (no further query)."""
    holders = {role: sorted(m.user.get_username() for m in memberships if m.is_active and role in m.roles)
               for role in Role.values}
    return [GrantRule(role=role, holders=holders[role], approvers=list(GRANT_APPROVERS[role]),
                      vacant=[a for a in GRANT_APPROVERS[role] if not holders[a]])
            for role in Role.values if role in CONTROL_ROLES]


class MembershipListView(TenantPermissionRequiredMixin, View):
    permission_required = "portal.change_membership"

    def get(self, request):
        memberships = list(selectors.membership_list(tenant=request.tenant))
        return render(request, "portal/members.html", {
            "memberships": memberships,
            "form": MembershipCreateForm(tenant=request.tenant),
            "grant_rules": grant_rules(memberships),
            "dual_role_allowed": tenant_policy_get(tenant=request.tenant).allow_dual_role,
            "open_grants": change_request_list(tenant=request.tenant, state=ChangeState.OPEN).filter(
                kind=ChangeKind.MEMBERSHIP_ROLES),
        })


class MembershipCreateView(TenantPermissionRequiredMixin, View):
    permission_required = "portal.add_membership"

    def get(self, request):
        return render(request, "portal/member_create.html", {"form": MembershipCreateForm(tenant=request.tenant)})

    def post(self, request):
        form = MembershipCreateForm(request.POST, tenant=request.tenant)
        if not form.is_valid():
            return render(request, "portal/member_create.html", {"form": form}, status=400)
        return call_service(
            request, lambda: membership_roles_request(
                actor=request.user, tenant=request.tenant, user=form.user, roles=form.cleaned_data["roles"],
                reason=form.cleaned_data["reason"]),
            form=form, invalid=lambda status: render(request, "portal/member_create.html", {"form": form},
                                                     status=status),
            success=lambda result: _granted(result, form.user, _("%(user)s is now a member.")),
            to=_after_grant)


def _granted(result, user, done: str) -> str:
    """What a member's roles request came to: done at once, or a change request that others approve."""
    if isinstance(result, ChangeRequest):
        return (_("Granting a control role to %(user)s needs the approval of other people: change request "
                  "CR-%(pk)s was proposed. The roles change once it is approved.")
                % {"user": user.get_username(), "pk": result.pk})
    return done % {"user": user.get_username()}


def _after_grant(result) -> str:
    if isinstance(result, ChangeRequest):
        return reverse("automations:change-request-detail", args=[result.pk])
    return reverse("portal:members")


def _membership_inactive(request, membership):
    messages.error(request, _("The membership of %(user)s is deactivated; it cannot be changed.") % {
        "user": membership.user.username})
    return HttpResponseRedirect(reverse("portal:members"))


def _member_edit_page(request, membership, *, form=None, deactivate_form=None, status: int = 200):
    """A member's page: their roles to change (with a reason) and the deactivation."""
    return render(request, "portal/member_edit.html", {
        "membership": membership,
        "form": form if form is not None else MembershipRolesForm(initial={"roles": membership.roles}),
        "deactivate_form": deactivate_form if deactivate_form is not None else MembershipDeactivateForm(),
    }, status=status)


class MembershipUpdateView(TenantPermissionRequiredMixin, View):
    """Change a member's roles, with a reason that goes into the audit log."""

    permission_required = "portal.change_membership"

    def get(self, request, pk: int):
        membership = get_or_404(selectors.membership_get_in_tenant, tenant=request.tenant, pk=pk)
        return _member_edit_page(request, membership)

    def post(self, request, pk: int):
        membership = get_or_404(selectors.membership_get_in_tenant, tenant=request.tenant, pk=pk)
        if not membership.is_active:
            return _membership_inactive(request, membership)
        form = MembershipRolesForm(request.POST)
        if not form.is_valid():
            return _member_edit_page(request, membership, form=form, status=400)
        return call_service(
            request, lambda: membership_roles_request(
                actor=request.user, tenant=request.tenant, user=membership.user, membership=membership,
                roles=form.cleaned_data["roles"], reason=form.cleaned_data["reason"]),
            form=form, invalid=lambda status: _member_edit_page(request, membership, form=form, status=status),
            success=lambda result: _granted(result, membership.user, _("The roles of %(user)s were changed.")),
            to=_after_grant)


class MembershipDeactivateView(TenantPermissionRequiredMixin, View):
    permission_required = "portal.change_membership"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        membership = get_or_404(selectors.membership_get_in_tenant, tenant=request.tenant, pk=pk)
        if not membership.is_active:
            return _membership_inactive(request, membership)
        form = MembershipDeactivateForm(request.POST)
        if not form.is_valid():
            return _member_edit_page(request, membership, deactivate_form=form, status=400)
        return call_service(
            request, lambda: services.membership_deactivate(actor=request.user, membership=membership,
                                                            reason=form.cleaned_data["reason"]),
            success=_("The membership of %(user)s was deactivated.") % {"user": membership.user.username},
            to=reverse("portal:members"), refused_to=reverse("portal:member-edit", args=[membership.pk]))


# --- Second factor -------------------------------------------------------------------------------

def _next_url(request) -> str:
    """Where to go after a step: the `next` the step was given if it stays on this site, else home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return reverse("portal:home")


def _second_factor_passed(request, device) -> None:
    """The session has passed the second factor: django-otp remembers the device, and the session gets a new
    key, as at every change of what a session may do."""
    otp_login(request, device)
    request.session.pop(SECOND_FACTOR_PENDING_KEY, None)
    request.session.cycle_key()


def totp_qr_svg(device) -> str:
    """The QR code of the authenticator's set-up address as inline SVG, drawn here (segno): the secret never
    leaves the portal, and the page needs no image from elsewhere."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, dark="#111111", light="#ffffff", svgclass="qr-code",
        title=_("QR code for your authenticator app"))


def totp_secret_text(device) -> str:
    """The secret as an app expects it typed in: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _recovery_codes_page(request, codes, *, enrolled: bool):
    # Rendered straight from the POST and never kept: the codes exist in clear only in this one response.
    response = render(request, "portal/two_factor_recovery_codes.html",
                      {"codes": codes, "enrolled": enrolled, "next": _next_url(request)})
    response["Cache-Control"] = "no-store"
    return response


class TwoFactorView(LoginRequiredMixin, View):
    """The person's own second factor: whether it is set up, when it was last used, recovery codes left."""

    def get(self, request):
        device = selectors.totp_device_confirmed(user=request.user)
        return render(request, "portal/two_factor.html", {
            "device": device, "recovery_codes_left": selectors.recovery_codes_left(user=request.user),
            "required": second_factor_required(request), "enforced": settings.TWO_FACTOR_ENFORCED,
        })


class TwoFactorSetupView(LoginRequiredMixin, View):
    """Setting up an authenticator app: a QR code (and the secret to type in), confirmed with a first code;
    then the recovery codes, shown once."""

    def _render(self, request, form, status=200):
        device = services.totp_device_prepare(actor=request.user)
        response = render(request, "portal/two_factor_setup.html", {
            "form": form, "qr_svg": totp_qr_svg(device), "secret": totp_secret_text(device),
            "next": _next_url(request), "required": second_factor_required(request),
        }, status=status)
        response["Cache-Control"] = "no-store"  # the page shows the secret
        return response

    def get(self, request):
        if selectors.second_factor_exists(user=request.user):
            if request.user.is_verified():
                messages.info(request, _("Your second factor is already set up."))
                return HttpResponseRedirect(reverse("portal:two-factor"))
            verify = reverse("portal:two-factor-verify")
            return HttpResponseRedirect(f"{verify}?{urlencode({'next': _next_url(request)})}")
        return self._render(request, TotpConfirmForm())

    def post(self, request):
        if selectors.second_factor_exists(user=request.user):
            return HttpResponseRedirect(reverse("portal:two-factor"))
        form = TotpConfirmForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: services.second_factor_enrol(actor=request.user, code=form.cleaned_data["code"]),
            form=form, field="code", invalid=lambda status: self._render(request, form, status=status),
            done=lambda enrolled: self._enrolled(request, *enrolled))

    @staticmethod
    def _enrolled(request, device, codes):
        _second_factor_passed(request, device)
        return _recovery_codes_page(request, codes, enrolled=True)


class TwoFactorVerifyView(LoginRequiredMixin, View):
    """The second step of a sign-in for whoever has set up a second factor."""

    def _render(self, request, form, status=200):
        return render(request, "portal/two_factor_verify.html", {"form": form, "next": _next_url(request)},
                      status=status)

    def get(self, request):
        if request.user.is_verified():
            return HttpResponseRedirect(_next_url(request))
        if not selectors.second_factor_exists(user=request.user):
            # Reset since the password was entered: nothing to verify (where it is required, set-up follows).
            request.session.pop(SECOND_FACTOR_PENDING_KEY, None)
            return HttpResponseRedirect(_next_url(request))
        return self._render(request, SecondFactorCodeForm())

    def post(self, request):
        form = SecondFactorCodeForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: services.second_factor_verify(actor=request.user, code=form.cleaned_data["code"]),
            form=form, field="code", invalid=lambda status: self._render(request, form, status=status),
            done=lambda device: self._verified(request, device))

    @staticmethod
    def _verified(request, device):
        _second_factor_passed(request, device)
        if isinstance(device, StaticDevice):
            left = selectors.recovery_codes_left(user=request.user)
            messages.warning(request, _("You signed in with a recovery code; it is used up, %(n)d are left. Create new "
                                        "ones under “Two-factor sign-in” if you are running short.") % {"n": left})
        return HttpResponseRedirect(_next_url(request))


class RecoveryCodesCreateView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        return call_service(request, lambda: services.recovery_codes_generate(actor=request.user),
                            done=lambda codes: _recovery_codes_page(request, codes, enrolled=False),
                            refused_to=reverse("portal:two-factor"))


# --- Sign-in security (administrators and the ISB) -----------------------------------------------

class LoginSecurityMixin(LoginRequiredMixin):
    """Superusers for every account; the ISB (`portal.unlock_login` and `portal.reset_second_factor` from the
    role) for the members of the active tenant and for locked addresses."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not user.is_superuser:
            if request.tenant is None:
                return HttpResponseRedirect(reverse("portal:tenant-switch"))
            if not user.has_perm("portal.unlock_login"):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class LoginSecurityView(LoginSecurityMixin, View):
    """Current sign-in locks with their unlock buttons, and the members' second factor with its reset."""

    def get(self, request):
        if request.tenant is not None:
            memberships = list(selectors.membership_list(tenant=request.tenant).filter(is_active=True))
            users = [membership.user for membership in memberships]
            roles = {membership.user_id: membership.roles for membership in memberships}
        else:  # a superuser outside any tenant: every account
            users, roles = list(selectors.user_list_active()), {}
        names = None if request.user.is_superuser else {user.get_username().lower() for user in users}
        overview = selectors.second_factor_overview(users=users)
        return render(request, "portal/login_security.html", {
            "locks": selectors.login_lock_list(usernames=names),
            "accounts": [{"user": user, "roles": roles.get(user.pk, []), **overview[user.pk]} for user in users],
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            "failure_limit": settings.AXES_FAILURE_LIMIT, "enforced": settings.TWO_FACTOR_ENFORCED,
        })


class LoginUnlockView(LoginSecurityMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        form = LoginUnlockForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
            return HttpResponseRedirect(reverse("portal:login-security"))
        username, address = form.cleaned_data["username"], form.cleaned_data["address"] or ""
        return call_service(request, lambda: services.login_lockout_clear(
            actor=request.user, username=username, ip_address=address, tenant=request.tenant),
            success=_("The sign-in lock of %(what)s was lifted.") % {"what": username or address},
            to=reverse("portal:login-security"))


class SecondFactorResetView(LoginSecurityMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk: int):
        # Outside a superuser's reach, an account that is no member of the active tenant is simply not found.
        user = get_or_404(selectors.user_get_active, pk=pk) if request.user.is_superuser \
            else get_or_404(selectors.member_user_get, tenant=request.tenant, pk=pk)
        return call_service(
            request, lambda: services.second_factor_reset(actor=request.user, user=user, tenant=request.tenant),
            success=_("The second factor of %(user)s was reset; they set it up again at their next sign-in.")
            % {"user": user.get_username()}, to=reverse("portal:login-security"))


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links (the API's pages, Swagger UI): the portal's icon."""
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))
