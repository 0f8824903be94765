"""Quality's pages: a use case's periodic reviews (list, the due one completed with checklist, figures and
outcome) and the request to switch automatic application back on after the circuit breaker tripped."""
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.quality import selectors, services
from automations.quality.choices import REVIEW_CHECKLIST, ReviewState
from automations.quality.forms import BreakerResetForm, UseCaseReviewForm
from automations.registry.views.mixins import RegistryView, UseCaseMixin
from portal.views import call_service


class UseCaseReviewListView(UseCaseMixin, RegistryView):
    permission_required = "automations.view_usecasereview"

    def get(self, request, key):
        reviews = list(selectors.use_case_review_list(tenant=request.tenant, use_case=self.use_case))
        return render(request, "automations/quality/review_list.html", {
            "use_case": self.use_case, "reviews": reviews, "now": timezone.now()})


class UseCaseReviewDetailView(UseCaseMixin, RegistryView):
    """A review: while due, the period's figures so far and the form; once completed, what was recorded."""

    permission_required = "automations.view_usecasereview"

    def review(self, pk):
        try:
            review = selectors.use_case_review_get(tenant=self.request.tenant, pk=pk)
        except ObjectDoesNotExist:
            raise Http404 from None
        if review.use_case_id != self.use_case.pk:
            raise Http404
        return review

    def _render(self, request, review, form=None, status=200):
        may_complete = review.state == ReviewState.DUE and services.may_complete_review(actor=request.user,
                                                                                          review=review)
        if may_complete and form is None:
            form = UseCaseReviewForm(change_requests=selectors.review_change_requests(review=review))
        figures = (review.figures if review.state == ReviewState.COMPLETED else
                   selectors.quality_figures(use_case=review.use_case, start=review.period_start,
                                             end=timezone.now()).as_dict())
        answers = [(question, review.checklist.get(key)) for key, question in REVIEW_CHECKLIST]
        return render(request, "automations/quality/review_detail.html", {
            "use_case": self.use_case, "review": review, "figures": figures, "answers": answers,
            "form": form if may_complete else None}, status=status)

    def get(self, request, key, pk):
        return self._render(request, self.review(pk))

    def post(self, request, key, pk):
        review = self.review(pk)
        form = UseCaseReviewForm(request.POST, change_requests=selectors.review_change_requests(review=review))
        if not form.is_valid():
            return self._render(request, review, form, status=400)
        return call_service(
            request, lambda: services.use_case_review_complete(
                actor=request.user, review=review, checklist=form.checklist(), notes=form.cleaned_data["notes"],
                outcome=form.cleaned_data["outcome"], change_request=form.chosen_change_request()),
            success=lambda done: _("The review is recorded; the next one is due on %(date)s.")
            % {"date": timezone.localdate(done.use_case.review_due_at).isoformat()},
            to=lambda done: reverse("automations:use-case-review-detail", args=[key, done.pk]),
            form=form, invalid=lambda status: self._render(request, review, form, status=status))


class BreakerResetCreateView(UseCaseMixin, RegistryView):
    """Propose switching automatic application back on: a change request (kind `quality_breaker_reset`)."""

    permission_required = ("automations.add_changerequest", "automations.view_qualitybreaker")

    def _render(self, request, form, status=200):
        return render(request, "automations/quality/breaker_reset.html", {
            "use_case": self.use_case, "breaker": selectors.quality_breaker_get(use_case=self.use_case),
            "form": form}, status=status)

    def get(self, request, key):
        return self._render(request, BreakerResetForm())

    def post(self, request, key):
        form = BreakerResetForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: services.quality_breaker_reset_request(actor=request.user, use_case=self.use_case,
                                                                    description=form.cleaned_data["description"]),
            success=lambda cr: _("Change request CR-%(n)s proposed; automatic application runs again once it is "
                                 "approved.") % {"n": cr.pk},
            to=lambda cr: reverse("automations:change-request-detail", args=[cr.pk]),
            form=form, invalid=lambda status: self._render(request, form, status=status))
