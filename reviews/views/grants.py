"""Who works which review queues (per team or per queue) and who owns which use cases: the automation lead
grants and takes away on one page, every change audited (reviews.services.grant_change). Thin."""
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from automations.registry.selectors import use_case_department_list, use_case_owner_grants
from portal.selectors import members_active
from portal.views import call_service
from reviews import selectors, services
from reviews.forms import GrantForm
from reviews.views.base import ReviewView


class GrantsView(ReviewView):
    """Readers of the members list see the grants; the automation lead changes them."""

    def get_permission_required(self):
        if self.request.method == "POST":
            return ("portal.change_membership",)
        return ("portal.view_membership",)

    def _render(self, request, form, status=200):
        tenant = request.tenant
        teams = selectors.review_team_members(tenant=tenant)
        return render(request, "reviews/grants.html", {
            "form": form if request.user.has_perm("portal.change_membership") else None,
            "teams": [(name, teams.get(name, [])) for name in selectors.review_team_names(tenant=tenant)],
            "queues": selectors.review_queue_grants(tenant=tenant),
            "use_cases": use_case_owner_grants(tenant=tenant),
            "departments": use_case_department_list(tenant=tenant),
        }, status=status)

    def _members(self, request):
        return [m.user for m in members_active(tenant=request.tenant)]

    def get(self, request):
        return self._render(request, GrantForm(members=self._members(request)))

    def post(self, request):
        members = self._members(request)
        form = GrantForm(request.POST, members=members)
        if not form.is_valid():
            return self._render(request, form, status=400)
        user = next(u for u in members if u.username == form.cleaned_data["user"])
        revoke = form.cleaned_data["action"] == "revoke"
        return call_service(
            request, lambda: services.grant_change(actor=request.user, tenant=request.tenant,
                                                   kind=form.cleaned_data["kind"], target=form.cleaned_data["target"],
                                                   user=user, revoke=revoke),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            done=lambda changed: self._changed(request, user, changed=changed, revoke=revoke))

    @staticmethod
    def _changed(request, user, *, changed: bool, revoke: bool):
        if not changed:
            messages.info(request, _("Nothing changed: %(user)s had that already, or did not have it.")
                          % {"user": user.username})
        elif revoke:
            messages.success(request, _("Taken away from %(user)s.") % {"user": user.username})
        else:
            messages.success(request, _("Granted to %(user)s.") % {"user": user.username})
        return HttpResponseRedirect(reverse("reviews:grants"))
