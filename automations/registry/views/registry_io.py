"""Registry as code in the browser: download the tenant's registry as JSON, upload one to import it as
drafts and change requests (automations.registry.services.registry_io)."""
import json

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.registry.forms import RegistryImportForm
from automations.registry.services.registry_io import (
    EXPORT_PERMISSIONS,
    IMPORT_PERMISSIONS,
    registry_export,
    registry_import,
)
from automations.registry.views.mixins import RegistryView
from portal.views import call_service


class RegistryExportView(RegistryView):
    permission_required = EXPORT_PERMISSIONS

    def get(self, request):
        data = registry_export(tenant=request.tenant)
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False, "sort_keys": False})
        filename = f"registry-{request.tenant.slug}-{timezone.localdate():%Y-%m-%d}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class RegistryImportView(RegistryView):
    permission_required = IMPORT_PERMISSIONS

    def _render(self, request, form, report=None, status=200):
        return render(request, "automations/registry_import.html", {"form": form, "report": report}, status=status)

    def get(self, request):
        return self._render(request, RegistryImportForm())

    def post(self, request):
        form = RegistryImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            data = json.loads(form.cleaned_data["file"].read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            form.add_error("file", _("The file is not JSON."))
            return self._render(request, form, status=400)
        return call_service(request, lambda: registry_import(actor=request.user, tenant=request.tenant, data=data),
                            form=form, invalid=lambda status: self._render(request, form, status=status),
                            done=lambda report: self._render(request, RegistryImportForm(), report=report))
