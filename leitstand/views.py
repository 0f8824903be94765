"""The Leitstand's pages: the tenant's figures, a use case's, and their CSV. Thin: the report comes from
leitstand.selectors, the charts and rows from leitstand.dashboard."""
import csv

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views import View

from automations.registry.selectors import use_case_get
from leitstand import dashboard
from leitstand.forms import PeriodForm
from leitstand.selectors import leitstand_report
from portal.views import TenantPermissionRequiredMixin

PERMISSION = "leitstand.view_dailyfigures"


def _use_case(request, key):
    if key is None:
        return None
    try:
        return use_case_get(tenant=request.tenant, key=key)
    except ObjectDoesNotExist:
        raise Http404 from None


def _report(request, key):
    form = PeriodForm(request.GET or None)
    since, until = form.period()
    return form, leitstand_report(tenant=request.tenant, since=since, until=until, use_case=_use_case(request, key))


class LeitstandView(TenantPermissionRequiredMixin, View):
    permission_required = PERMISSION

    def get(self, request, key: str | None = None):
        form, report = _report(request, key)
        return render(request, "leitstand/leitstand.html", {
            "form": form, "report": report, "charts": dashboard.charts(report), "query": request.GET.urlencode(),
        }, status=200 if form.is_valid() or not request.GET else 400)


class LeitstandExportView(TenantPermissionRequiredMixin, View):
    """The numbers behind the charts: one row a day (table=days, the default), or the correction rate per field
    and the failures per step (table=fields)."""

    permission_required = PERMISSION

    def get(self, request, key: str | None = None):
        _form, report = _report(request, key)
        table = request.GET.get("table", "days")
        rows = dashboard.csv_field_rows(report) if table == "fields" else dashboard.csv_rows(report)
        name = f"leitstand-{key or request.tenant.slug}-{table}-{report.since}-{report.until}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": f'attachment; filename="{name}"'})
        csv.writer(response).writerows(rows)
        return response
