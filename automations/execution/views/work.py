"""The execution side in the browser: upload, work items with their processing history, the item's
files, escalations, master data and dry runs. Thin views over services and selectors."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.clickjacking import xframe_options_sameorigin

from audit.actors import actor_from_request
from automations.choices import ItemSource, ItemStatus, MasterKind, UseCaseStatus
from automations.connectors import selectors as connector_selectors
from automations.execution import selectors
from automations.execution.models.work import WorkItem
from automations.execution.services import dry_run, escalations, intake, master_data
from automations.fields import engine_label, field_label, format_value
from automations.registry import selectors as registry_selectors
from portal.files import INLINE_TYPES, PDF, page_token, page_token_valid, sniff_file, stored_file_response
from portal.views import TenantPermissionRequiredMixin as PermissionMixin
from portal.views import call_service, demo_invoices_url, error_messages, get_or_404
from reviews.services import work_item_view_record, work_items_view_record

PAGE_SIZE = 50


def _messages_of(exc: ValidationError) -> str:
    return " ".join(error_messages(exc))


class WorkItemUploadView(PermissionMixin, View):
    """One or several files for a running use case; each file becomes a work item."""

    permission_required = "automations.add_workitem"

    def get(self, request):
        return self._form(request, selected=request.GET.get("use_case", ""))

    def _form(self, request, *, selected: str, errors=(), status: int = 200):
        use_cases = registry_selectors.use_case_list(tenant=request.tenant, user=request.user, action="work").filter(
            status__in=(UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION, UseCaseStatus.SUSPENDED))
        return render(request, "automations/work/upload.html", {
            "use_cases": use_cases, "selected": selected, "errors": list(errors),
            "demo_invoices_url": demo_invoices_url()}, status=status)

    def post(self, request):
        files = request.FILES.getlist("files")
        key = request.POST.get("use_case", "")
        if not files:
            return self._form(request, selected=key, errors=[_("Choose at least one file.")], status=400)
        created, errors, held = 0, [], False
        for upload in files:
            try:
                item, _created = intake.work_item_create(
                    actor=actor_from_request(request), tenant=request.tenant, use_case_key=key, files=[upload],
                    source=ItemSource.UPLOAD)
                created += 1
                held = held or item.status == ItemStatus.HELD
            except ValidationError as exc:
                errors.append(f"{upload.name}: {_messages_of(exc)}")
        if created:
            text = (ngettext("%(n)s item received; it is held while the use case is suspended.",
                             "%(n)s items received; they are held while the use case is suspended.", created)
                    if held else ngettext("%(n)s item received; it is being processed.",
                                          "%(n)s items received; they are being processed.", created))
            messages.success(request, text % {"n": created})
        if errors:
            # What went wrong is shown on the form it came from, where the clerk can choose again.
            return self._form(request, selected=key, errors=errors, status=200 if created else 400)
        return HttpResponseRedirect(reverse("work:item-list") + f"?use_case={key}")


class WorkItemListView(PermissionMixin, View):
    """Newest first, keyset-paginated by the time received."""

    permission_required = "automations.view_workitem"

    def get(self, request):
        use_case = request.GET.get("use_case") or None
        status = request.GET.get("status") or None
        items = selectors.work_item_list(tenant=request.tenant, user=request.user, use_case_key=use_case,
                                         status=status)
        before = parse_datetime(request.GET.get("before", "") or "")
        if before is not None:
            items = items.filter(created_at__lt=before)
        page = list(items.order_by("-created_at")[:PAGE_SIZE + 1])
        more = len(page) > PAGE_SIZE
        page = selectors.with_identities(page[:PAGE_SIZE])
        work_items_view_record(actor=actor_from_request(request), tenant=request.tenant, items=page,
                               purpose="work item list")
        return render(request, "automations/work/item_list.html", {
            "items": page, "next_before": page[-1].created_at.isoformat() if more else None,
            "use_cases": registry_selectors.use_case_list(tenant=request.tenant, user=request.user, action="work"),
            "statuses": ItemStatus.choices,
            "filter_use_case": use_case or "", "filter_status": status or ""})


class WorkItemDetailView(PermissionMixin, View):
    permission_required = "automations.view_workitem"

    def get(self, request, pk):
        item = _item(request, pk)
        work_item_view_record(actor=actor_from_request(request), item=item, purpose="work item page")
        runs = item.runs.select_related("release").prefetch_related("steps").order_by("created_at")
        output_specs = {f["name"]: f for f in item.use_case.output_fields}
        input_specs = {f["name"]: f for f in item.use_case.input_fields}
        currency = (item.fields.get("currency") or {}).get("value")
        fields = [{"name": name, "spec": output_specs.get(name, {}), **data,
                   "label": field_label(output_specs.get(name), name),
                   "shown": format_value(output_specs.get(name), data.get("value"), currency=currency),
                   "engine_label": engine_label(data.get("engine")) if data.get("engine") else "",
                   "percent": round(float(data.get("confidence") or 0) * 100)}
                  for name, data in item.fields.items()]
        payload = [(field_label(input_specs.get(name), name), value) for name, value in item.payload.items()]
        deliveries = (connector_selectors.deliveries_of_item(item=item).prefetch_related("receipts")
                      if request.user.has_perm("automations.view_delivery") else [])
        return render(request, "automations/work/item_detail.html", {
            "item": item, "fields": fields, "payload": payload, "runs": runs, "deliveries": deliveries,
            "files": _with_preview(item.files.all(), request.user),
            "escalations": item.escalations.all(), "decisions": item.review_decisions.select_related("actor")})


def _with_preview(stored_files, user) -> list:
    """Each file with how the page shows it, judged by its content: a PDF in a frame, an image, or only
    the download link; what the page embeds carries a token, as the page view recorded that look."""
    listed = list(stored_files)
    for stored in listed:
        stored.token = page_token(user, stored)
        try:
            content_type = sniff_file(stored.file)
        except OSError:
            content_type = ""
        stored.preview = ("pdf" if content_type == PDF else "image" if content_type in INLINE_TYPES else "")
    return listed


def _item(request, pk) -> WorkItem:
    try:
        item = selectors.work_item_get(tenant=request.tenant, user=request.user, pk=pk)
    except (WorkItem.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    intake.ensure_may_read(actor_from_request(request), item)
    return item


@method_decorator(xframe_options_sameorigin, name="dispatch")
class WorkItemFileView(PermissionMixin, View):
    """A work item's file, only through this permission-checked view (never a public URL): PDFs and
    images inline beside the fields, anything else as a download (portal.files)."""

    permission_required = "automations.view_workitem"

    def get(self, request, pk, file_id):
        item = _item(request, pk)
        stored = item.files.filter(pk=file_id).first()
        if stored is None:
            raise Http404
        if not page_token_valid(request.GET.get("v", ""), request.user, stored):  # the page recorded it
            work_item_view_record(actor=actor_from_request(request), item=item, file=stored, purpose="work item page")
        try:
            return stored_file_response(stored.file, filename=stored.name, download=request.GET.get("download") == "1")
        except OSError:
            raise Http404 from None


class EscalationListView(PermissionMixin, View):
    permission_required = "automations.view_escalation"

    def get(self, request):
        mine = list(selectors.escalation_list_for(tenant=request.tenant, user=request.user))
        everyone = (list(selectors.escalation_list_for(tenant=request.tenant, open_only=request.GET.get("all") != "1"))
                    if request.user.has_perm("automations.change_escalation") else None)
        selectors.with_identities([e.item for e in mine + (everyone or [])])
        shown = list({e.item_id: e.item for e in mine + (everyone or [])}.values())
        # Each row names its item by its title fields (a supplier, a customer number): one access event.
        work_items_view_record(actor=actor_from_request(request), tenant=request.tenant, items=shown,
                               purpose="escalations")
        return render(request, "automations/work/escalations.html", {"mine": mine, "everyone": everyone})


class EscalationActionView(PermissionMixin, View):
    permission_required = "automations.view_escalation"

    def post(self, request, pk, action):
        if action not in ("acknowledge", "close"):
            raise Http404
        escalation = selectors.escalation_list_for(tenant=request.tenant, open_only=False).filter(pk=pk).first()
        if escalation is None:
            raise Http404
        actor = actor_from_request(request)
        return call_service(
            request, (lambda: escalations.escalation_acknowledge(actor=actor, escalation=escalation))
            if action == "acknowledge" else
            (lambda: escalations.escalation_close(actor=actor, escalation=escalation,
                                                  resolution=request.POST.get("resolution", ""))),
            success=_("Escalation updated."), to=reverse("work:escalations"))


class MasterDataView(PermissionMixin, View):
    permission_required = "automations.view_masterrecord"

    def get(self, request):
        kind = request.GET.get("kind") or MasterKind.SUPPLIER
        records = list(selectors.master_record_list(tenant=request.tenant, kind=kind).order_by("number")[:500])
        master_data.master_records_view_record(actor=actor_from_request(request), tenant=request.tenant,
                                               records=records, purpose="master data page")
        return render(request, "automations/work/master_data.html", {
            "records": records, "kind": kind, "kinds": MasterKind.choices, "csv_columns": master_data.CSV_COLUMNS,
            "may_edit": request.user.has_perm("automations.change_masterrecord")})

    def post(self, request):
        if not request.user.has_perm("automations.change_masterrecord"):
            raise PermissionDenied
        kind = request.POST.get("kind") or MasterKind.SUPPLIER
        back = reverse("work:master-data") + f"?kind={kind}"
        if not request.FILES.get("csv"):
            return call_service(request, lambda: master_data.master_record_save(
                actor=actor_from_request(request), tenant=request.tenant, kind=kind,
                **{f: request.POST.get(f, "") for f in ("number", "name", "vat_id", "iban", "email")},
                reason=request.POST.get("reason", "") or _("edited in the portal")), success=_("Saved."), to=back)
        return call_service(
            request, lambda: master_data.master_records_import(actor=actor_from_request(request), tenant=request.tenant,
                                                               kind=kind, data=request.FILES["csv"].read()),
            success=lambda report: _("Imported: %(c)s new, %(u)s updated.") % {"c": report.created,
                                                                              "u": report.updated},
            done=lambda report: _import_warnings(request, report, back), refused_to=back)


def _import_warnings(request, report, back: str):
    for error in report.errors[:50]:
        messages.warning(request, error)
    return HttpResponseRedirect(back)


class DryRunView(PermissionMixin, View):
    """Try any release (drafts too) on sample files: results shown, nothing applied; deliveries are test
    deliveries (a sandbox target, or recorded)."""

    permission_required = "automations.add_release"

    def get(self, request, key):
        use_case = _use_case(request, key)
        items = selectors.with_identities(selectors.dry_run_item_list(use_case=use_case))
        # Each sample is named by its title fields (a supplier, a customer number) and leads to its page.
        work_items_view_record(actor=actor_from_request(request), tenant=request.tenant, items=items,
                               purpose="dry runs")
        return render(request, "automations/work/dry_run.html", {
            "use_case": use_case, "releases": registry_selectors.release_list(use_case=use_case), "items": items})

    def post(self, request, key):
        use_case = _use_case(request, key)
        chosen = request.POST.get("release", "")
        release = (registry_selectors.release_list(use_case=use_case).filter(pk=chosen).first()
                   if chosen.isdigit() else None)
        back = reverse("work:dry-run", args=[use_case.key])
        if release is None:
            messages.error(request, _("Choose a release."))
            return HttpResponseRedirect(back)
        return call_service(
            request, lambda: dry_run.dry_run_create(actor=actor_from_request(request), release=release,
                                                    files=request.FILES.getlist("files")),
            success=lambda items: _("%(n)s sample(s) are being run; nothing is applied.") % {"n": len(items)},
            to=back)


def _use_case(request, key):
    return get_or_404(registry_selectors.use_case_get, tenant=request.tenant, key=key)
