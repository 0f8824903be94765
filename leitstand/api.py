"""The Leitstand for programs: `GET /api/v1/leitstand/` — the figures of a period as JSON, the same numbers the
pages draw and the CSV gives (one entry a day, the correction rate per field, the failures per pipeline step)."""
from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from automations.registry.selectors import use_case_get
from leitstand import dashboard
from leitstand.forms import PeriodForm
from leitstand.selectors import leitstand_report
from portal.api.permissions import TenantMember, request_tenant
from portal.api.schema import problem


class ViewsLeitstand(permissions.BasePermission):
    def has_permission(self, request, view):
        return TenantMember().has_permission(request, view) and request.user.has_perm("leitstand.view_dailyfigures")


class LeitstandApiView(GenericAPIView):
    """The Leitstand's figures of a period: `days` (7, 30, 90 or 365 up to today) or `since` and `until` (ISO
    dates, both included; default the last 30 days), of the tenant or of one use case (`use_case` = its key)."""

    permission_classes = [ViewsLeitstand]

    @extend_schema(parameters=[
        OpenApiParameter("since", str, description="ISO 8601 date, included"),
        OpenApiParameter("until", str, description="ISO 8601 date, included"),
        OpenApiParameter("days", int, enum=[7, 30, 90, 365], description="the last N days up to today"),
        OpenApiParameter("use_case", str, description="use case key"),
    ], responses={200: dict, 404: problem("No use case with this key (`not_found`).")})
    def get(self, request):
        params = request.query_params
        form = PeriodForm({key: params.get(key) for key in ("since", "until", "days") if key in params} or None)
        if form.is_bound and not form.is_valid():
            raise ApiValidationError(form.errors)
        since, until = form.period()
        tenant, use_case = request_tenant(request), None
        if params.get("use_case"):
            try:
                use_case = use_case_get(tenant=tenant, key=params["use_case"])
            except ObjectDoesNotExist:
                raise NotFound from None
        report = leitstand_report(tenant=tenant, since=since, until=until, use_case=use_case)
        header, *rows = dashboard.csv_rows(report)
        return Response({
            "since": since.isoformat(), "until": until.isoformat(), "use_case": use_case.key if use_case else None,
            "days": [dict(zip(header, (None if value == "" else value for value in row))) for row in rows],
            "fields": [{"use_case": f["use_case"].key, "field": f["field"], "corrected": f["corrected"],
                        "reviewed": f["reviewed"], "correction_rate": round(f["rate"], 4)} for f in report.fields],
            "steps": [{"step": step["step"], "failed": step["failed"]} for step in report.steps],
        })
