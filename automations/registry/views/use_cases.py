"""Registry pages of the core team: the list of use cases, a use case with its documentation, versions,
releases and change requests, documenting and editing, the history, the kill switch and the
Verfahrensdokumentation. Thin: reads through automations.registry.selectors, writes through the services."""
from django.db.models import Field
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.choices import ChangeKind, RiskTier, UseCaseStatus
from automations.registry import selectors
from automations.registry.diffs import side_by_side
from automations.registry.forms import ChangeRequestTextForm, ReasonForm, UseCaseForm
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import VERSION_MODELS
from automations.registry.process_docs import documentation_sections, procedure_document, procedure_document_pdf
from automations.registry.readable import value_lines
from automations.registry.services import changes, use_cases
from automations.registry.services.changes import TRANSITIONS
from automations.registry.services.use_cases import DOCUMENTATION_FIELDS, SUSPENDABLE
from automations.registry.views.mixins import RegistryView, UseCaseMixin
from portal.files import PDF, harden
from portal.selectors import membership_list
from portal.views import call_service, demo_invoices_url

DIRECT_EDIT_STATUSES = (UseCaseStatus.DRAFT, UseCaseStatus.RETIRED)
VERSION_KINDS = list(VERSION_MODELS)


def _form_kwargs(tenant, use_case=None) -> dict:
    members = [m.user for m in membership_list(tenant=tenant).filter(is_active=True)]
    return {"members": members, "catalogue": list(selectors.catalogue_list(tenant=tenant, active_only=True)),
            "categories": list(selectors.tenant_policy_get(tenant=tenant).data_categories), "use_case": use_case}


# --- List ---------------------------------------------------------------------------------------------

class UseCaseListView(RegistryView):
    permission_required = "automations.view_usecase"

    def get(self, request):
        params = request.GET
        status = params.get("status") if params.get("status") in UseCaseStatus.values else ""
        risk_tier = params.get("risk_tier") if params.get("risk_tier") in RiskTier.values else ""
        department = params.get("department", "")
        review_due = params.get("review_due") == "1"
        rows = list(selectors.use_case_list(tenant=request.tenant, status=status or None,
                                            risk_tier=risk_tier or None, department=department or None,
                                            review_due=review_due))
        now = timezone.now()
        return render(request, "automations/use_case_list.html", {
            "use_cases": [(u, u.review_due_at, u.review_due_at <= now) for u in rows],
            "filters": {"status": status, "risk_tier": risk_tier, "department": department,
                        "review_due": review_due},
            "filtered": bool(status or risk_tier or department or review_due),
            "statuses": UseCaseStatus.choices, "risk_tiers": RiskTier.choices,
            "departments": selectors.use_case_department_list(tenant=request.tenant),
        })


# --- One use case -------------------------------------------------------------------------------------

class UseCaseDetailView(UseCaseMixin, RegistryView):
    permission_required = "automations.view_usecase"

    def get(self, request, key):
        use_case = self.use_case
        user = request.user
        versions = []
        for kind, model in VERSION_MODELS.items():
            if user.has_perm(f"automations.view_{model._meta.model_name}"):
                listed = list(selectors.version_list(use_case=use_case, kind=kind).select_related("author")[:6])
                versions.append({"kind": kind, "label": model._meta.verbose_name_plural, "versions": listed[:5],
                                 "more": len(listed) > 5,
                                 "can_add": user.has_perm(f"automations.add_{model._meta.model_name}")})
        labels = selectors.label_map(use_case=use_case)
        can_view_changes = user.has_perm("automations.view_changerequest")
        return render(request, "automations/use_case_detail.html", {
            "use_case": use_case,
            "sections": documentation_sections(use_case),
            "labels": [(name, labels.get(name)) for name in ("production", "pilot")],
            "versions": versions,
            "releases": list(selectors.release_list(use_case=use_case)) if user.has_perm("automations.view_release")
            else None,
            "change_requests": list(selectors.change_request_list(tenant=request.tenant, use_case=use_case)[:20])
            if can_view_changes else None,
            # A draft is edited directly, by whoever may change this use case; others get no link to it.
            "direct_edit": use_case.status in DIRECT_EDIT_STATUSES,
            "can_edit": (use_case.status in DIRECT_EDIT_STATUSES
                         and user.has_perm("automations.change_usecase", use_case)),
            # A department owner proposes and suspends for their own departments' use cases only.
            "can_propose": (use_case.status != UseCaseStatus.RETIRED
                            and selectors.use_case_may(use_case=use_case, user=user, action="propose")),
            "can_suspend": (use_case.status in SUSPENDABLE
                            and selectors.use_case_may(use_case=use_case, user=user, action="suspend")),
            "status_targets": TRANSITIONS.get(use_case.status, set()),
            "can_read_procedure": user.has_perms(ProcedureDocumentView.permission_required),
            "work_links": _work_links(request, use_case),
        })


def _work_links(request, use_case) -> dict:
    """What the use case does in execution: upload, its items, dry runs, the quick start's demo invoices
    (where the demo pages are mounted and the use case reads invoices), and whether a language model fills its
    `reply` field."""
    user = request.user
    demo_invoices = demo_invoices_url() if user.has_perm("automations.add_workitem") else ""
    return {
        "upload": user.has_perm("automations.add_workitem") and use_case.status in (
            UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION),
        "items": user.has_perm("automations.view_workitem"),
        "dry_run": user.has_perm("automations.add_release"),
        "training": user.has_perm("automations.view_labelledexample")
        and any(f.get("type") == "category" for f in use_case.output_fields),
        "demo_files": demo_invoices if demo_invoices and selectors.use_case_reads_invoices(use_case=use_case) else "",
        "reply_setup": selectors.describe_reply_setup(use_case.tenant, use_case=use_case).message
        if any(f.get("name") == "reply" for f in use_case.output_fields) else "",
    }


class UseCaseCreateView(RegistryView):
    """Document a new use case; it starts as a draft."""

    permission_required = "automations.add_usecase"

    def _render(self, request, form, status=200):
        return render(request, "automations/use_case_form.html", {"form": form, "creating": True}, status=status)

    def get(self, request):
        return self._render(request, UseCaseForm(**_form_kwargs(request.tenant)))

    def post(self, request):
        form = UseCaseForm(request.POST, **_form_kwargs(request.tenant))
        if not form.is_valid():
            return self._render(request, form, status=400)
        values = form.documentation()
        if selectors.use_case_list(tenant=request.tenant).filter(key=form.cleaned_data["key"]).exists():
            form.add_error("key", _("A use case with this key exists already."))
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: use_cases.use_case_create(actor=request.user, tenant=request.tenant,
                                                       key=form.cleaned_data["key"], **values),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=lambda use_case: _("The use case “%(title)s” was documented as a draft.")
            % {"title": use_case.title},
            to=lambda use_case: reverse("automations:use-case-detail", args=[use_case.key]))


class UseCaseUpdateView(UseCaseMixin, RegistryView):
    """Edit the documentation: directly while the use case is a draft (or retired), else as a change
    request of the kind `documentation` that the required approvers decide."""

    def get_permission_required(self):
        if self.use_case.status in DIRECT_EDIT_STATUSES:
            return ("automations.change_usecase",)
        return ("automations.add_changerequest",)

    def has_permission(self):
        # A direct edit needs the change permission on this use case: the automation lead's role, or a
        # department owner's grant on their own use case (django-guardian).
        if self.direct:
            return self.request.user.has_perms(self.get_permission_required(), self.use_case)
        return super().has_permission() and selectors.use_case_may(use_case=self.use_case, user=self.request.user,
                                                                   action="propose")

    @property
    def direct(self) -> bool:
        return self.use_case.status in DIRECT_EDIT_STATUSES

    def _render(self, request, form, extra, status=200):
        return render(request, "automations/use_case_form.html", {
            "form": form, "extra_form": extra, "use_case": self.use_case, "direct": self.direct,
        }, status=status)

    def _extra(self, data=None):
        # Prefixed: the change request's title is not the use case's title.
        return ReasonForm(data) if self.direct else ChangeRequestTextForm(data, prefix="change", initial={
            "title": _("Documentation of %(title)s") % {"title": self.use_case.title}})

    def get(self, request, key):
        return self._render(request, UseCaseForm(**_form_kwargs(request.tenant, self.use_case)), self._extra())

    def post(self, request, key):
        form = UseCaseForm(request.POST, **_form_kwargs(request.tenant, self.use_case))
        extra = self._extra(request.POST)
        valid = form.is_valid()
        if not (extra.is_valid() and valid):
            return self._render(request, form, extra, status=400)
        changed = form.changed_documentation()
        if not changed:
            form.add_error(None, _("Nothing was changed."))
            return self._render(request, form, extra, status=400)
        def invalid(status):
            return self._render(request, form, extra, status=status)

        if self.direct:
            return call_service(
                request, lambda: use_cases.use_case_update(actor=request.user, use_case=self.use_case,
                                                           values=changed, reason=extra.cleaned_data["reason"]),
                form=form, invalid=invalid, success=_("The documentation was saved."),
                to=reverse("automations:use-case-detail", args=[key]))
        return call_service(
            request, lambda: changes.change_request_create(
                actor=request.user, tenant=request.tenant, use_case=self.use_case, kind=ChangeKind.DOCUMENTATION,
                title=extra.cleaned_data["title"], description=extra.cleaned_data["description"],
                payload={"changes": UseCaseForm.as_payload(changed)}),
            form=form, invalid=invalid,
            success=lambda cr: _("Change request CR-%(pk)s was proposed; it takes effect once approved.")
            % {"pk": cr.pk},
            to=lambda cr: reverse("automations:change-request-detail", args=[cr.pk]))


class UseCaseSuspendView(UseCaseMixin, RegistryView):
    """The kill switch: immediate, audited, with a reason; resuming is a change request."""

    permission_required = "automations.suspend_usecase"

    def has_permission(self):
        # The role's permission, and for a department owner a use case of their own departments.
        return super().has_permission() and selectors.use_case_may(use_case=self.use_case, user=self.request.user,
                                                                   action="suspend")

    def _render(self, request, form, status=200):
        return render(request, "automations/use_case_suspend.html", {"use_case": self.use_case, "form": form},
                      status=status)

    def get(self, request, key):
        return self._render(request, ReasonForm())

    def post(self, request, key):
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: use_cases.use_case_suspend(actor=request.user, use_case=self.use_case,
                                                        reason=form.cleaned_data["reason"]),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=_("“%(title)s” is suspended: nothing new is dispatched, queued items are held.")
            % {"title": self.use_case.title},
            to=reverse("automations:use-case-detail", args=[key]))


# --- History ------------------------------------------------------------------------------------------

HISTORY_FIELDS = ("status",) + tuple(name for name in DOCUMENTATION_FIELDS if name != "catalogue_entries")
USER_FIELDS = ("department_owner", "it_contact", "security_officer", "data_protection_officer", "escalation_contact")


def _history_value(row, name):
    return getattr(row, f"{name}_id") if name in USER_FIELDS else getattr(row, name)


def _history_entries(rows: list) -> list[dict]:
    """Each history row with the fields it changed against the row before it."""
    entries = []
    for index, row in enumerate(rows):
        previous = rows[index + 1] if index + 1 < len(rows) else None
        changed = []
        for name in HISTORY_FIELDS:
            after = _history_value(row, name)
            before = _history_value(previous, name) if previous is not None else None
            if previous is not None and before == after:
                continue
            if previous is None and after in (None, "", [], {}):
                continue
            if name in USER_FIELDS:
                before, after = getattr(previous, name, None) if previous else None, getattr(row, name, None)
                before, after = getattr(before, "username", None), getattr(after, "username", None)
            changed.append({
                "name": name, "label": _field_label(name),
                "rows": side_by_side([] if before is None else value_lines(name, before, row),
                                     [] if after is None else value_lines(name, after, row)),
            })
        entries.append({"row": row, "changed": changed})
    return entries


def _field_label(name: str) -> str:
    field = UseCase._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, Field) else name


class UseCaseHistoryView(UseCaseMixin, RegistryView):
    """Every saved state of the documentation and status, and every label move, with who and why."""

    permission_required = "automations.view_usecase"

    def get(self, request, key):
        rows = list(selectors.use_case_history(use_case=self.use_case).select_related(
            *[f"{name}" for name in USER_FIELDS]))
        return render(request, "automations/use_case_history.html", {
            "use_case": self.use_case, "entries": _history_entries(rows),
            "label_moves": list(selectors.release_label_history(use_case=self.use_case)),
        })


# --- Verfahrensdokumentation ------------------------------------------------------------------------

class ProcedureDocumentView(UseCaseMixin, RegistryView):
    """Printable: the documentation standard, the exact versions in production and pilot, and who
    approved them in which role, when."""

    permission_required = ("automations.view_usecase", "automations.view_release", "automations.view_approval")

    def get(self, request, key):
        return render(request, "automations/procedure_document.html", {
            "document": procedure_document(use_case=self.use_case),
            "policy": selectors.tenant_policy_get(tenant=request.tenant),
        })


class ProcedureDocumentPdfView(ProcedureDocumentView):
    def get(self, request, key):
        pdf = procedure_document_pdf(procedure_document(use_case=self.use_case),
                                     policy=selectors.tenant_policy_get(tenant=request.tenant))
        response = HttpResponse(pdf, content_type="application/pdf")
        filename = f"verfahrensdokumentation-{self.use_case.key}-{timezone.localdate():%Y-%m-%d}.pdf"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return harden(response, PDF)
