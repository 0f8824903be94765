"""Oversight evidence for the core team and the works council (reviews.oversight)."""
from django.shortcuts import render

from reviews.oversight import oversight_report
from reviews.views.base import ReviewView

PERIODS = (30, 90, 365)


class OversightView(ReviewView):
    permission_required = "reviews.view_oversight"

    def get(self, request):
        try:
            days = int(request.GET.get("days", 90))
        except ValueError:
            days = 90
        days = days if days in PERIODS else 90
        return render(request, "reviews/oversight.html", {
            "report": oversight_report(tenant=request.tenant, days=days), "days": days, "periods": PERIODS,
        })
