"""Oversight evidence for the core team and the works council (reviews.oversight)."""
from django.shortcuts import render

from audit.actors import actor_from_request
from reviews.oversight import oversight_report
from reviews.services import people_figures_view_record
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
        report = oversight_report(tenant=request.tenant, days=days)
        # Figures per person (under a works agreement) are the clerks' personal data: the look is recorded.
        people_figures_view_record(actor=actor_from_request(request), tenant=request.tenant,
                                   usernames=[name for entry in report.queues for name, _figures in entry.people])
        return render(request, "reviews/oversight.html", {"report": report, "days": days, "periods": PERIODS})
