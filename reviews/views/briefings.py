"""The briefing of a use case (generated from its documentation) with its confirmation, and the core
team's record of trainings: together the gate to claiming the use case's tasks."""
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from automations.registry import selectors as registry
from portal.choices import Role
from portal.selectors import users_with_role
from portal.views import call_service
from reviews import selectors, services
from reviews.briefings import briefing_difference, briefing_for
from reviews.forms import TrainingRecordForm
from reviews.views.base import ReviewView, get_or_404


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


class BriefingView(ReviewView):
    permission_required = "automations.view_usecase"

    def get(self, request, key: str):
        use_case = get_or_404(registry.use_case_get, tenant=request.tenant, key=key)
        briefing = briefing_for(use_case)
        latest = selectors.briefing_confirmation_latest(tenant=request.tenant, use_case=use_case, user=request.user)
        clearance = selectors.review_clearance(tenant=request.tenant, user=request.user, use_cases=[use_case])[0]
        # What changed since the clerk was last told, change by change, each with its difference.
        changes = [{"notice": notice, "change": notice.change,
                    "rows": briefing_difference(use_case, notice.change.before, notice.change.after)}
                   for notice in selectors.briefing_notices_unread(tenant=request.tenant, user=request.user,
                                                                   use_case=use_case)]
        return render(request, "reviews/briefing.html", {
            "use_case": use_case, "briefing": briefing, "latest": latest, "clearance": clearance, "changes": changes,
            "trainings": list(selectors.training_record_list(tenant=request.tenant, use_case=use_case,
                                                             user=request.user)[:5]),
            "next": _next_url(request, ""),
            "may_confirm": services.briefing_may_confirm(actor=request.user, use_case=use_case),
        })


class BriefingConfirmView(ReviewView):
    permission_required = "automations.view_usecase"
    http_method_names = ["post"]

    def post(self, request, key: str):
        use_case = get_or_404(registry.use_case_get, tenant=request.tenant, key=key)
        if not services.briefing_may_confirm(actor=request.user, use_case=use_case):
            raise PermissionDenied  # read-only roles, and clerks of other teams, confirm nothing here
        return call_service(
            request, lambda: services.briefing_confirm(actor=request.user, use_case=use_case),
            success=_("You confirmed the briefing for %(use_case)s.") % {"use_case": use_case.title},
            to=_next_url(request, reverse("reviews:briefing", args=[use_case.key])))


class BriefingNoticeReadView(ReviewView):
    """The clerk read what changed in a briefing they need not confirm again: the notice leaves the home page."""

    permission_required = "automations.view_usecase"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        notice = get_or_404(selectors.briefing_notice_get, tenant=request.tenant, user=request.user, pk=pk)
        return call_service(
            request, lambda: services.briefing_notice_read(actor=request.user, notice=notice),
            success=_("Noted: you read what changed in the briefing for %(use_case)s.")
            % {"use_case": notice.change.use_case.title},
            to=_next_url(request, reverse("reviews:briefing", args=[notice.change.use_case.key])))


class TrainingRecordView(ReviewView):
    """The core team's list of trainings, and the form to record one."""

    permission_required = "reviews.view_trainingrecord"

    def _form(self, request, data=None):
        return TrainingRecordForm(data, use_cases=list(registry.use_case_list(tenant=request.tenant)),
                                  clerks=users_with_role(tenant=request.tenant, role=Role.CLERK))

    def _render(self, request, form, status=200):
        return render(request, "reviews/trainings.html", {
            "form": form if request.user.has_perm("reviews.add_trainingrecord") else None,
            "records": list(selectors.training_record_list(tenant=request.tenant)[:200]),
        }, status=status)

    def get(self, request):
        return self._render(request, self._form(request))

    def post(self, request):
        if not request.user.has_perm("reviews.add_trainingrecord"):
            raise PermissionDenied
        form = self._form(request, request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        use_case = get_or_404(registry.use_case_list(tenant=request.tenant).get, pk=form.cleaned_data["use_case"])
        clerk = next(u for u in users_with_role(tenant=request.tenant, role=Role.CLERK)
                     if u.pk == form.cleaned_data["user"])
        return call_service(
            request, lambda: services.training_record(actor=request.user, use_case=use_case, user=clerk,
                                                      topic=form.cleaned_data["topic"],
                                                      held_on=form.cleaned_data["held_on"]),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=_("Training of %(user)s on %(use_case)s recorded.")
            % {"user": clerk.get_username(), "use_case": use_case.title}, to=reverse("reviews:trainings"))
