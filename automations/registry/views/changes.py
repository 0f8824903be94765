"""Change requests in the browser: proposing (label move, status change, catalogue and tenant control
settings; documentation edits come from the use case's edit page), the approval inbox, a request with
its difference, and the decision — by a person in a browser session, in one of their roles."""
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from automations.choices import ChangeKind, ChangeState, Label, UseCaseStatus
from automations.evaluation import selectors as evaluation_selectors
from automations.registry import selectors
from automations.registry.diffs import change_request_item_rows, compact, render_release, side_by_side
from automations.registry.forms import (
    CatalogueChangeForm,
    DecisionForm,
    LabelMoveForm,
    StatusChangeForm,
    TenantPolicyChangeForm,
)
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.services import changes
from automations.registry.services.changes import TRANSITIONS
from automations.registry.views.mixins import RegistryView, UseCaseMixin, get_or_404
from portal.choices import Role
from portal.selectors import roles_of
from portal.views import call_service


def decision_roles(cr, user, user_roles, allow_dual: bool) -> list[tuple[str, str]]:
    """The roles in which this user may decide the request now, with their labels (the service checks it again)."""
    return [(role, str(Role(role).label)) for role in selectors.change_request_decision_roles(
        change_request=cr, user=user, roles=user_roles, allow_dual=allow_dual)]


def _catalogue_field(name):
    """The catalogue entry's field a changed item "<entry key>.<field>" names, else None."""
    if not isinstance(name, str) or "." not in name:
        return None
    try:
        field = CatalogueEntry._meta.get_field(name.rsplit(".", 1)[1])
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, Field) else None


def item_label(name) -> str:
    """A changed item by its name for people: the documentation field's or control setting's label, a
    catalogue entry's field as "<entry>: <field>"."""
    catalogue_field = _catalogue_field(name)
    if catalogue_field is not None:
        return f"{name.rsplit('.', 1)[0]}: {capfirst(catalogue_field.verbose_name)}"
    for model in (UseCase, TenantPolicy):
        try:
            field = model._meta.get_field(name)
        except (FieldDoesNotExist, TypeError):
            continue
        if isinstance(field, Field):
            return str(field.verbose_name)
    if isinstance(name, str) and name.startswith("label "):
        label = name.split(" ", 1)[1]
        return _("Release label “%(label)s”") % {"label": dict(Label.choices).get(label, label)}
    labels = {"label": _("Release label"), "status": _("Status"), "automatic application": _("Automatic application")}
    return str(labels.get(name, name))


def _readable(item: dict) -> dict:
    """A status change reads in the statuses' names (Entwurf → Produktion), not their keys; so does a
    catalogue entry's choice (its kind, connector type, direction, transfer basis)."""
    catalogue_field = _catalogue_field(item.get("item"))
    if catalogue_field is not None and catalogue_field.choices:
        names = {str(k): v for k, v in catalogue_field.flatchoices}
    elif item.get("item") == "status":
        names = dict(UseCaseStatus.choices)
    else:
        return item
    return {**item, **{side: str(names.get(str(item.get(side)), item.get(side))) for side in ("before", "after")
                       if item.get(side) is not None}}


def _diff_items(cr) -> list[dict]:
    return [{"item": item_label(item.get("item")), "key": item.get("item"),
             "rows": compact(change_request_item_rows(_readable(item), cr.use_case))} for item in cr.diff or []]


def _release_diff(cr):
    """For a label move: the versions of the release the label points at now (or pointed at before) against
    the proposed release, side by side."""
    if cr.kind != ChangeKind.LABEL_MOVE or cr.use_case is None:
        return None
    releases = {r.number: r for r in selectors.release_list(use_case=cr.use_case)}
    target = next((r for r in releases.values() if r.pk == cr.payload.get("release_id")), None)
    before = (cr.diff or [{}])[0].get("before")
    current = releases.get(int(before[1:])) if isinstance(before, str) and before[1:].isdigit() else None
    if target is None:
        return None
    return {"left": current, "right": target,
            "rows": compact(side_by_side(render_release(current), render_release(target)))}


class ChangeRequestListView(RegistryView):
    permission_required = "automations.view_changerequest"

    def get(self, request):
        state = request.GET.get("state", "")
        state = state if state in ChangeState.values else ""
        rows = selectors.change_request_list(tenant=request.tenant, state=state or None)[:200]
        return render(request, "automations/change_request_list.html", {
            "change_requests": rows, "states": ChangeState.choices, "state": state,
        })


class ChangeRequestInboxView(RegistryView):
    """What waits for this person's approval, with the difference and a decision form per request."""

    permission_required = "automations.view_changerequest"

    def get(self, request):
        tenant, user = request.tenant, request.user
        user_roles = set(roles_of(user=user, tenant=tenant))
        allow_dual = selectors.tenant_policy_get(tenant=tenant).allow_dual_role
        entries = []
        for cr in selectors.change_request_inbox(tenant=tenant, user=user):
            roles = decision_roles(cr, user, user_roles, allow_dual)
            briefing = alters_briefing(cr)
            entries.append({"cr": cr, "diff": _diff_items(cr), "open_roles": selectors.change_request_open_roles(
                change_request=cr), "briefing_changes": briefing,
                "form": DecisionForm(roles=roles, auto_id=f"cr{cr.pk}_%s", briefing=bool(briefing)) if roles else None})
        return render(request, "automations/change_request_inbox.html", {"entries": entries})


def alters_briefing(cr) -> list[str]:
    """What of the clerks' briefing this change request alters (labels), empty when nothing."""
    return [changes.briefing_item_label(name) for name in selectors.change_request_briefing_items(change_request=cr)]


def _decision_form(cr, roles, data=None) -> DecisionForm:
    return DecisionForm(data, roles=roles, briefing=bool(selectors.change_request_briefing_items(change_request=cr)))


class ChangeRequestDetailView(RegistryView):
    permission_required = "automations.view_changerequest"

    def context(self, request, pk, form=None) -> dict:
        cr = get_or_404(selectors.change_request_get, tenant=request.tenant, pk=pk)
        allow_dual = selectors.tenant_policy_get(tenant=request.tenant).allow_dual_role
        roles = decision_roles(cr, request.user, set(roles_of(user=request.user, tenant=request.tenant)), allow_dual)
        if form is None and roles:
            form = _decision_form(cr, roles)
        return {
            "cr": cr, "diff": _diff_items(cr), "release_diff": _release_diff(cr),
            "briefing_changes": alters_briefing(cr),
            "open_roles": (selectors.change_request_open_roles(change_request=cr)
                           if cr.state == ChangeState.OPEN else []),
            "form": form if roles else None,
            "can_withdraw": cr.state == ChangeState.OPEN and cr.author_id == request.user.pk,
            # The evidence a production move carries, shown to every approver with the targets as they are now.
            "evaluation": cr.evaluation,
            "evaluation_misses": (evaluation_selectors.evaluation_misses(evaluation=cr.evaluation, use_case=cr.use_case)
                                  if cr.evaluation is not None else []),
        }

    def get(self, request, pk):
        return render(request, "automations/change_request_detail.html", self.context(request, pk))


class ChangeRequestDecideView(ChangeRequestDetailView):
    """Approve or reject in one role. Only a person in a browser session reaches this view; the
    service refuses the author, a role the person does not hold, and a second role by the same person
    (unless the tenant allows it through an approved change request)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        cr = get_or_404(selectors.change_request_get, tenant=request.tenant, pk=pk)
        roles = [(role, Role(role).label) for role in cr.required_roles]
        form = _decision_form(cr, roles, request.POST)
        if not form.is_valid():
            return render(request, "automations/change_request_detail.html", self.context(request, pk, form),
                          status=400)
        data = form.cleaned_data
        inbox = reverse("automations:change-request-inbox")
        if data["decision"] == "approve":
            reconfirm = {"yes": True, "no": False}.get(data.get("briefing_reconfirm") or "")
            def decide():
                return changes.change_request_approve(actor=request.user, change_request=cr, role=data["role"],
                                                      comment=data["comment"], briefing_reconfirm=reconfirm)
        else:
            def decide():
                return changes.change_request_reject(actor=request.user, change_request=cr, role=data["role"],
                                                     comment=data["comment"])
        return call_service(
            request, decide,
            invalid=lambda status: render(request, "automations/change_request_detail.html",
                                          self.context(request, pk), status=status),
            success=lambda decided: _decided(decided, data["role"]),
            to=inbox if request.POST.get("next") == inbox else reverse("automations:change-request-detail", args=[pk]))


def _decided(cr, role: str) -> str:
    if cr.state == ChangeState.APPLIED:
        return _("Approved. All required roles have approved: the change was applied.")
    if cr.state == ChangeState.REJECTED:
        return _("The change request was rejected.")
    return _("Approved as %(role)s. Still needed: %(roles)s.") % {
        "role": Role(role).label,
        "roles": ", ".join(str(Role(r).label) for r in selectors.change_request_open_roles(change_request=cr))}


class ChangeRequestWithdrawView(RegistryView):
    permission_required = "automations.add_changerequest"
    http_method_names = ["post"]

    def post(self, request, pk):
        cr = get_or_404(selectors.change_request_get, tenant=request.tenant, pk=pk)
        return call_service(request, lambda: changes.change_request_withdraw(actor=request.user, change_request=cr),
                            success=_("The change request was withdrawn."),
                            to=reverse("automations:change-request-detail", args=[pk]))


# --- Proposing ------------------------------------------------------------------------------------------

class ProposeMixin:
    """Render a proposal form, hand its payload to change_request_create, show the service's refusal."""

    permission_required = "automations.add_changerequest"
    template_name = "automations/change_request_form.html"
    kind = ""

    def form(self, data=None):
        raise NotImplementedError

    def proposal_use_case(self):
        return None

    def has_permission(self):
        # A department owner proposes changes to their own departments' use cases only.
        use_case = self.proposal_use_case()
        return super().has_permission() and (
            use_case is None or selectors.use_case_may(use_case=use_case, user=self.request.user, action="propose"))

    def context(self) -> dict:
        return {}

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "kind": self.kind,
                                                     "kind_label": ChangeKind(self.kind).label,
                                                     "use_case": self.proposal_use_case(), **self.context()},
                      status=status)

    def get(self, request, **kwargs):
        return self._render(request, self.form())

    def post(self, request, **kwargs):
        form = self.form(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        payload = form.payload()
        if not payload or payload.get("fields") == {}:
            form.add_error(None, _("Nothing was changed."))
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: changes.change_request_create(
                actor=request.user, tenant=request.tenant, use_case=self.proposal_use_case(), kind=self.kind,
                title=form.cleaned_data["title"], description=form.cleaned_data["description"], payload=payload),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=lambda cr: _("Change request CR-%(pk)s was proposed; the approvers were notified.")
            % {"pk": cr.pk},
            to=lambda cr: reverse("automations:change-request-detail", args=[cr.pk]))


class LabelMoveCreateView(ProposeMixin, UseCaseMixin, RegistryView):
    kind = ChangeKind.LABEL_MOVE

    def proposal_use_case(self):
        return self.use_case

    def form(self, data=None):
        releases = list(selectors.release_list(use_case=self.use_case))
        label = self.request.GET.get("label") if self.request.GET.get("label") in ("pilot", "production") else None
        wanted = self.request.GET.get("release")
        initial = {"label": label or ("pilot" if self.use_case.status == UseCaseStatus.DRAFT else "production")}
        if wanted and wanted.isdigit():
            initial["release"] = int(wanted)
        return LabelMoveForm(data, releases=releases, initial=initial)

    def context(self):
        return {"labels": selectors.label_map(use_case=self.use_case)}


class StatusChangeCreateView(ProposeMixin, UseCaseMixin, RegistryView):
    kind = ChangeKind.STATUS_CHANGE

    def proposal_use_case(self):
        return self.use_case

    def form(self, data=None):
        """Only the moves that can succeed: pilot and production only where their label points at a
        release; resuming a suspended use case proposes production when it can run there."""
        labels = selectors.label_map(use_case=self.use_case)
        targets = {to for to in TRANSITIONS.get(self.use_case.status, set())
                   if to not in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION) or to in labels}
        wanted = self.request.GET.get("to")
        if not wanted and self.use_case.status == UseCaseStatus.SUSPENDED:
            wanted = next((to for to in (UseCaseStatus.PRODUCTION, UseCaseStatus.PILOT) if to in targets), None)
        return StatusChangeForm(data, targets=targets, initial={"to": wanted} if wanted else {})


class CatalogueChangeCreateView(ProposeMixin, RegistryView):
    """A new processor or connector (?key= of an existing entry changes that one)."""

    kind = ChangeKind.CATALOGUE

    def form(self, data=None):
        key = self.request.GET.get("key") or ""
        entry = get_or_404(selectors.catalogue_entry_get, tenant=self.request.tenant, key=key) if key else None
        categories = list(selectors.tenant_policy_get(tenant=self.request.tenant).data_categories)
        return CatalogueChangeForm(data, categories=categories, entry=entry)


class TenantPolicyChangeCreateView(ProposeMixin, RegistryView):
    """The control settings that could weaken a control (dual roles, standard changes, bulk approval,
    sample checks)."""

    kind = ChangeKind.TENANT_POLICY

    def form(self, data=None):
        return TenantPolicyChangeForm(data, policy=selectors.tenant_policy_get(tenant=self.request.tenant))
