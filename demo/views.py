"""The quick start's demo invoices in the browser: download them, or send them all to Eingangsrechnungen at
once as a newcomer would one by one. Mounted under /demo/ outside production only (portal/urls.py)."""
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from audit.actors import actor_from_request
from automations.choices import ItemSource
from automations.execution.services import intake
from demo import erp
from demo.use_cases import INVOICE_USE_CASE, demo_files_folder
from portal.files import UNKNOWN, harden
from portal.views import TenantPermissionRequiredMixin, error_messages

CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".eml": "message/rfc822"}


def demo_files() -> list[str]:
    """The generated demo files: invoices as PDF, one scan (PNG) and one forwarded e-mail (.eml)."""
    folder = demo_files_folder()
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in CONTENT_TYPES)


class DemoInvoicesView(TenantPermissionRequiredMixin, View):
    permission_required = "automations.add_workitem"

    def get(self, request):
        return render(request, "demo/invoices.html", {"demo_files": demo_files()})


class DemoInvoiceFileView(TenantPermissionRequiredMixin, View):
    """One generated demo invoice, to download and upload again."""

    permission_required = "automations.add_workitem"

    def get(self, request, name):
        if name not in demo_files():
            raise Http404
        return harden(FileResponse((demo_files_folder() / name).open("rb"), as_attachment=True, filename=name,
                                   content_type=UNKNOWN), UNKNOWN)


class DemoInvoicesSendView(TenantPermissionRequiredMixin, View):
    """Send all demo invoices to Eingangsrechnungen at once."""

    permission_required = "automations.add_workitem"

    def post(self, request):
        sent = 0
        for name in demo_files():
            upload = SimpleUploadedFile(name, (demo_files_folder() / name).read_bytes(),
                                        CONTENT_TYPES[Path(name).suffix])
            try:
                intake.work_item_create(actor=actor_from_request(request), tenant=request.tenant,
                                        use_case_key=INVOICE_USE_CASE, files=[upload], source=ItemSource.UPLOAD)
                sent += 1
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{name}: {' '.join(error_messages(exc))}")
        messages.success(request, _("%(n)s demo invoice(s) sent to Eingangsrechnungen.") % {"n": sent})
        return HttpResponseRedirect(reverse("work:item-list") + f"?use_case={INVOICE_USE_CASE}")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class DemoErpHookView(View):
    """Where the portal's webhook connector for Demo-ERP delivers (no session: the signature is the proof)."""

    def post(self, request):
        headers = {k.lower(): v for k, v in request.headers.items()}
        record = erp.receive(path=request.path, body=request.body, headers=headers)
        if not record["verified"]:
            return JsonResponse({"booked": False, "detail": "signature not verified"}, status=400)
        return JsonResponse({"booked": True, "first": record["first"]})


class DemoErpView(TenantPermissionRequiredMixin, View):
    """Demo-ERP's page: the signed deliveries it received and whether each signature verified."""

    permission_required = "automations.view_workitem"

    def get(self, request):
        return render(request, "demo/erp.html", {"received": erp.received()[:200],
                                                 "hook_url": request.build_absolute_uri(reverse("demo:erp-hooks"))})
