"""The evaluation pages of a use case: its test cases (by hand, imported, taken from a reviewed item), evaluations
of its releases with their progress and figures, and two evaluations side by side. Thin: reads through
automations.evaluation.selectors, writes through automations.evaluation.services."""
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from automations.evaluation import selectors
from automations.evaluation.forms import CaseForm, CaseImportForm, ReasonForm
from automations.evaluation.services import evaluations, test_cases
from automations.execution import selectors as execution_selectors
from automations.fields import field_label, format_value
from automations.registry import selectors as registry_selectors
from automations.registry.views.mixins import RegistryView, UseCaseMixin, get_or_404
from portal.views import call_service

# --- test cases ---------------------------------------------------------------------------------------------


class QualityTestCaseListView(UseCaseMixin, RegistryView):
    """The use case's active test cases, the import upload with its report, and the evaluations."""

    permission_required: str | tuple[str, ...] = "automations.view_qualitytestcase"
    template_name = "automations/evaluation/test_case_list.html"

    def render_page(self, request, *, form=None, report=None, status=200):
        use_case = self.use_case
        can_add = request.user.has_perm("automations.add_qualitytestcase")
        cases = list(selectors.quality_test_case_list(use_case=use_case))
        test_cases.test_cases_view_record(actor=request.user, use_case=use_case, cases=cases, purpose="test cases")
        return render(request, self.template_name, {
            "use_case": use_case, "cases": cases,
            "retired": selectors.quality_test_case_list(use_case=use_case, active=False).count(),
            "can_add": can_add, "form": form or (CaseImportForm(use_case=self.use_case) if can_add else None),
            "report": report,
            "evaluations": list(selectors.evaluation_list(use_case=use_case)[:10]),
        }, status=status)

    def get(self, request, key):
        return self.render_page(request)


class QualityTestCaseImportView(QualityTestCaseListView):
    permission_required = ("automations.view_qualitytestcase", "automations.add_qualitytestcase")

    def get(self, request, key):
        return HttpResponseRedirect(reverse("automations:test-case-list", args=[key]))

    def post(self, request, key):
        form = CaseImportForm(request.POST, request.FILES, use_case=self.use_case)
        if not form.is_valid():
            return self.render_page(request, form=form, status=400)
        upload = form.cleaned_data["file"]
        return call_service(
            request, lambda: test_cases.test_cases_import(actor=request.user, use_case=self.use_case,
                                                          data=upload.read(), name=upload.name),
            form=form, invalid=lambda status: self.render_page(request, form=form, status=status),
            done=lambda report: self.render_page(request, report=report))


class QualityTestCaseCreateView(UseCaseMixin, RegistryView):
    permission_required = ("automations.view_qualitytestcase", "automations.add_qualitytestcase")

    def _render(self, request, form, status=200):
        return render(request, "automations/evaluation/test_case_form.html",
                      {"use_case": self.use_case, "form": form, "case": None}, status=status)

    def get(self, request, key):
        return self._render(request, CaseForm(use_case=self.use_case))

    def post(self, request, key):
        form = CaseForm(request.POST, request.FILES, use_case=self.use_case)
        if not form.is_valid():
            return self._render(request, form, status=400)
        upload = form.cleaned_data.get("file")
        return call_service(
            request, lambda: test_cases.test_case_create(
                actor=request.user, use_case=self.use_case, file_name=upload.name if upload else "",
                file_content=upload.read() if upload else None, **form.values()),
            success=lambda case: _("Test case T%(n)s was created.") % {"n": case.pk},
            to=reverse("automations:test-case-list", args=[key]),
            form=form, invalid=lambda status: self._render(request, form, status=status))


class QualityTestCaseDetailView(UseCaseMixin, RegistryView):
    """One test case with its versions; the core team edits it (with a reason) or retires it."""

    permission_required: str | tuple[str, ...] = "automations.view_qualitytestcase"

    def case(self, pk):
        return get_or_404(selectors.quality_test_case_get, use_case=self.use_case, pk=pk)

    def _render(self, request, case, form=None, status=200):
        can_change = request.user.has_perm("automations.change_qualitytestcase")
        if form is None and can_change and case.is_active:
            form = CaseForm(use_case=self.use_case, editing=True, initial=CaseForm.initial_of(case))
        return render(request, "automations/evaluation/test_case_detail.html", {
            "use_case": self.use_case, "case": case, "form": form, "can_change": can_change,
            "expected": [(field_label(self.use_case.output_field(k), k), format_value(self.use_case.output_field(k), v))
                         for k, v in case.expected.items()],
            "history": case.history.select_related("history_user").order_by("-history_id")[:20],
        }, status=status)

    def get(self, request, key, pk):
        case = self.case(pk)
        test_cases.test_cases_view_record(actor=request.user, use_case=self.use_case, cases=[case],
                                          purpose="test case page")
        return self._render(request, case)

    def post(self, request, key, pk):
        case = self.case(pk)
        form = CaseForm(request.POST, use_case=self.use_case, editing=True)
        if not form.is_valid():
            return self._render(request, case, form, status=400)
        return call_service(
            request, lambda: test_cases.test_case_update(actor=request.user, test_case=case,
                                                         reason=form.cleaned_data["reason"], **form.values()),
            success=_("Test case T%(n)s was changed; its earlier version is kept.") % {"n": case.pk},
            to=reverse("automations:test-case-detail", args=[key, pk]),
            form=form, invalid=lambda status: self._render(request, case, form, status=status))


class QualityTestCaseRetireView(QualityTestCaseDetailView):
    permission_required = ("automations.view_qualitytestcase", "automations.change_qualitytestcase")

    def post(self, request, key, pk):
        case = self.case(pk)
        form = ReasonForm(request.POST)

        def retire():
            if not form.is_valid():
                raise ValidationError(_("Say why the test case is retired."))
            return test_cases.test_case_retire(actor=request.user, test_case=case, reason=form.cleaned_data["reason"])

        return call_service(request, retire, success=_("Test case T%(n)s was retired.") % {"n": case.pk},
                            to=reverse("automations:test-case-list", args=[key]),
                            refused_to=reverse("automations:test-case-detail", args=[key, pk]))


class QualityTestCaseFromItemView(RegistryView):
    """“Als Testfall übernehmen” on a reviewed item's page."""

    permission_required = ("automations.view_workitem", "automations.add_qualitytestcase")

    def post(self, request, pk):
        item = execution_selectors.work_item_list(tenant=request.tenant, user=request.user).filter(pk=pk).first()
        if item is None:
            raise Http404
        return call_service(
            request, lambda: test_cases.test_case_from_item(actor=request.user, item=item),
            success=lambda case: _("The item is now test case T%(n)s of %(uc)s.")
            % {"n": case.pk, "uc": item.use_case.title},
            to=lambda case: reverse("automations:test-case-detail", args=[item.use_case.key, case.pk]),
            refused_to=reverse("work:item-detail", args=[pk]))


# --- evaluations --------------------------------------------------------------------------------------------

class EvaluationStartView(UseCaseMixin, RegistryView):
    permission_required = ("automations.view_evaluationrun", "automations.add_evaluationrun")

    def post(self, request, key, number):
        release = get_or_404(registry_selectors.release_get, use_case=self.use_case, number=number)
        return call_service(
            request, lambda: evaluations.evaluation_start(actor=request.user, release=release),
            success=_("The evaluation of R%(n)s was queued; its progress shows below.") % {"n": number},
            to=lambda evaluation: reverse("automations:evaluation-detail", args=[key, evaluation.pk]),
            refused_to=reverse("automations:release-detail", args=[key, number]))


def _field_rows(evaluation, use_case) -> list[dict]:
    targets = (use_case.quality_targets or {}).get("min_precision") or {}
    return [{"name": name, "label": field_label(use_case.output_field(name), name), "target": targets.get(name), **f}
            for name, f in (evaluation.metrics.get("fields") or {}).items()]


def _categories(evaluation, use_case) -> list[dict]:
    return [{"name": name, "label": field_label(use_case.output_field(name), name), "labels": c["labels"],
             "rows": list(zip(c["labels"], c["matrix"])), "per_class": list(c["per_class"].items())}
            for name, c in (evaluation.metrics.get("categories") or {}).items()]


def _failing(evaluation, use_case) -> list[dict]:
    rows = []
    for result in selectors.evaluation_results(evaluation=evaluation, failing_only=True):
        fields = []
        for name, expected in result.expected.items():
            spec = use_case.output_field(name)
            got = result.predicted.get(name) or {}
            fields.append({"label": field_label(spec, name), "expected": format_value(spec, expected),
                           "predicted": format_value(spec, got.get("value")), "confidence": got.get("confidence"),
                           "right": result.field_correct.get(name, False)})
        rows.append({"result": result, "fields": fields})
    return rows


def evaluation_context(evaluation, use_case) -> dict:
    return {"evaluation": evaluation, "use_case": use_case,
            "misses": selectors.evaluation_misses(evaluation=evaluation, use_case=use_case)
            if evaluation.status == "succeeded" else [],
            "fields": _field_rows(evaluation, use_case), "categories": _categories(evaluation, use_case),
            "calibration": (evaluation.metrics.get("calibration") or {})}


class EvaluationDetailView(UseCaseMixin, RegistryView):
    """An evaluation's figures; to those who may read test cases also the failing cases with their values —
    personal data where the use case has some, so the page records who saw them."""

    permission_required = "automations.view_evaluationrun"

    def get(self, request, key, pk):
        evaluation = get_or_404(selectors.evaluation_get, use_case=self.use_case, pk=pk)
        failing = None
        if request.user.has_perm("automations.view_qualitytestcase"):
            failing = _failing(evaluation, self.use_case)
            test_cases.evaluation_results_view_record(actor=request.user, evaluation=evaluation,
                                                      results=[row["result"] for row in failing],
                                                      purpose="evaluation page")
        return render(request, "automations/evaluation/evaluation_detail.html",
                      {**evaluation_context(evaluation, self.use_case), "failing": failing})


class EvaluationProgressView(UseCaseMixin, RegistryView):
    """The progress block alone, polled by the evaluation page while the run is queued or running."""

    permission_required = "automations.view_evaluationrun"

    def get(self, request, key, pk):
        evaluation = get_or_404(selectors.evaluation_get, use_case=self.use_case, pk=pk)
        response = render(request, "automations/evaluation/_evaluation_progress.html",
                          {"evaluation": evaluation, "use_case": self.use_case})
        if getattr(request, "htmx", False) and not evaluation.is_active:
            response["HX-Refresh"] = "true"  # finished: reload once to show the figures
        return response


class EvaluationCompareView(UseCaseMixin, RegistryView):
    """Two evaluations side by side (?a=ID&b=ID), e.g. of the production release and a candidate."""

    permission_required = "automations.view_evaluationrun"

    def get(self, request, key):
        runs = list(selectors.evaluation_list(use_case=self.use_case).filter(status="succeeded")[:50])
        chosen = []
        for name in ("a", "b"):
            try:
                chosen.append(selectors.evaluation_get(use_case=self.use_case, pk=int(request.GET.get(name, ""))))
            except (ValueError, ObjectDoesNotExist):
                chosen.append(None)
        if None in chosen and len(runs) >= 2:
            chosen = [runs[1], runs[0]]
        columns = [evaluation_context(e, self.use_case) for e in chosen if e is not None]
        names = []
        for column in columns:
            for row in column["fields"]:
                if row["name"] not in names:
                    names.append(row["name"])
        field_rows = [{"name": name, "label": field_label(self.use_case.output_field(name), name),
                       "values": [next((r for r in c["fields"] if r["name"] == name), None) for c in columns]}
                      for name in names]
        bands = []
        if columns:
            for i, band in enumerate(columns[0]["calibration"].get("bands") or []):
                bands.append({"band": band["band"], "values": [(c["calibration"].get("bands") or [{}] * (i + 1))[i]
                                                               for c in columns]})
        return render(request, "automations/evaluation/evaluation_compare.html", {
            "use_case": self.use_case, "runs": runs, "columns": columns, "field_rows": field_rows, "bands": bands,
            "a": chosen[0], "b": chosen[1]})
