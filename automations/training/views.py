"""Training pages of the core team: a use case's labelled examples (counts per value, sources, duplicates
and conflicts), uploading examples with the import report, training in the background with its progress,
and the classifier versions with their evaluation and the thresholds proposed from it. Thin: reads through
automations.training.selectors, writes through automations.training.services."""
from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.choices import FieldType
from automations.fields import technical_names
from automations.registry.views.mixins import RegistryView, UseCaseMixin, get_or_404
from automations.training import selectors as training_selectors
from automations.training import services as training_services
from automations.training.selectors import (
    classifier_version_get_by_number,
    classifier_version_latest,
    classifier_version_list,
    example_statistics,
    training_progress_get,
)
from portal.views import call_service


class ExamplesUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Examples (CSV or JSON Lines)"),
                           help_text=gettext_lazy("CSV with a header line (comma or semicolon), or one JSON object a "
                                                  "line. Bad lines are reported with their number and skipped."))
    text_columns = forms.CharField(label=gettext_lazy("Text columns"), max_length=400,
                                   help_text=gettext_lazy("Comma-separated input columns, e.g. subject,body"))
    label_columns = forms.CharField(label=gettext_lazy("Label columns"), max_length=400)

    def __init__(self, *args, use_case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if use_case is not None:
            # The file's columns are named by the fields' technical names: shown beside each label.
            self.fields["text_columns"].help_text = format_html(
                "{} {}", _("Comma-separated input columns, by their technical names:"),
                technical_names(use_case.input_fields))
            self.fields["label_columns"].help_text = format_html(
                "{} {}", _("Comma-separated output fields, by their technical names:"),
                technical_names(use_case.output_fields, list(training_services.category_fields(use_case))))


def upload_initial(use_case) -> dict:
    """The text columns the newest classifier version was trained on (else the use case's text inputs)
    and the use case's category outputs."""
    latest = classifier_version_latest(use_case=use_case)
    texts = list(latest.text_columns) if latest and latest.text_columns else [
        f["name"] for f in use_case.input_fields if f.get("type", FieldType.TEXT) in (FieldType.TEXT,
                                                                                     FieldType.LONG_TEXT)]
    labels = list(training_services.category_fields(use_case))
    return {"text_columns": ",".join(texts), "label_columns": ",".join(labels)}


def progress_context(use_case) -> dict:
    progress = training_progress_get(use_case=use_case)
    if not progress:
        return {"progress": None, "active": False}
    return {"progress": {**progress, "percent": round(float(progress.get("fraction") or 0) * 100),
                         "updated": parse_datetime(progress.get("updated_at") or "")},
            "active": progress["active"]}


def field_summaries(version) -> list[dict]:
    """Per trained field, the figures a list shows."""
    rows = []
    for name, e in (version.evaluation or {}).get("fields", {}).items():
        automation = e.get("automation") or {}
        rows.append({"name": name, "examples": e.get("examples"), "n": e.get("n"), "accuracy": e.get("accuracy"),
                     "macro_f1": e.get("macro_f1"), "share": automation.get("share"),
                     "threshold": automation.get("threshold"), "target": automation.get("target_precision"),
                     "model": (e.get("final") or {}).get("model", "linear_svm")})
    return rows


class TrainingMixin(UseCaseMixin):
    def versions(self, limit=None):
        qs = classifier_version_list(use_case=self.use_case)
        return [{"version": v, "fields": field_summaries(v)} for v in (qs[:limit] if limit else qs)]


class TrainingView(TrainingMixin, RegistryView):
    """The use case's examples, the upload, the train button with the progress, the newest versions."""

    permission_required: str | tuple[str, ...] = "automations.view_labelledexample"
    template_name = "automations/training/training.html"

    def render_page(self, request, *, form=None, report=None, status=200):
        use_case, user = self.use_case, request.user
        can_upload = user.has_perm("automations.add_labelledexample")
        context = {
            "use_case": use_case,
            "stats": example_statistics(use_case=use_case),
            "form": form or (ExamplesUploadForm(initial=upload_initial(use_case), use_case=use_case)
                             if can_upload else None),
            "report": report,
            "max_lines": training_services.MAX_REPORTED_LINES,
            "can_train": user.has_perm("automations.add_classifierversion"),
            "can_view_versions": user.has_perm("automations.view_classifierversion"),
            "versions": self.versions(limit=10) if user.has_perm("automations.view_classifierversion") else [],
            **progress_context(use_case),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, key):
        return self.render_page(request)


class ExamplesUploadView(TrainingView):
    """Import the uploaded file and show its report on the training page (line-numbered bad rows)."""

    permission_required = ("automations.view_labelledexample", "automations.add_labelledexample")

    def get(self, request, key):
        return HttpResponseRedirect(reverse("automations:training", args=[key]))

    def post(self, request, key):
        form = ExamplesUploadForm(request.POST, request.FILES, use_case=self.use_case)
        if not form.is_valid():
            return self.render_page(request, form=form, status=400)
        upload = form.cleaned_data["file"]
        return call_service(
            request, lambda: training_services.examples_import(
                actor=request.user, use_case=self.use_case, file=upload, name=upload.name,
                text_columns=form.cleaned_data["text_columns"], label_columns=form.cleaned_data["label_columns"],
                source_ref=upload.name),
            form=form, invalid=lambda status: self.render_page(request, form=form, status=status),
            done=lambda report: self.render_page(
                request, form=ExamplesUploadForm(initial=form.cleaned_data | {"file": None}, use_case=self.use_case),
                report=report))


class TrainingStartView(TrainingMixin, RegistryView):
    """The train button: queue a training run on the worker; its progress shows on the training page."""

    permission_required = ("automations.view_labelledexample", "automations.add_classifierversion")

    def post(self, request, key):
        back = reverse("automations:training", args=[key]) + "#progress"
        return call_service(
            request, lambda: training_services.classifier_training_start(actor=request.user, use_case=self.use_case),
            success=_("Training was queued; the progress shows below."), done=lambda _run: self._queued(request, back),
            refused_to=back)

    def _queued(self, request, back: str):
        warning = training_selectors.few_examples_warning(
            training_selectors.training_examples(use_case=self.use_case).count())
        if warning:
            messages.warning(request, warning)
        return HttpResponseRedirect(back)


class TrainingProgressView(TrainingMixin, RegistryView):
    """The progress block alone, polled by the training page every few seconds."""

    permission_required = "automations.view_classifierversion"

    def get(self, request, key):
        context = progress_context(self.use_case)
        response = render(request, "automations/training/_progress.html", {"use_case": self.use_case, **context})
        if getattr(request, "htmx", False) and context["progress"] and not context["active"]:
            # The run ended while the page was polling: reload it once, so the new version is listed
            # and the train button is back.
            response["HX-Refresh"] = "true"
        return response


class ClassifierVersionListView(TrainingMixin, RegistryView):
    permission_required = "automations.view_classifierversion"

    def get(self, request, key):
        return render(request, "automations/training/version_list.html", {
            "use_case": self.use_case, "versions": self.versions(),
            "can_see_examples": request.user.has_perm("automations.view_labelledexample"),
        })


class ClassifierVersionDetailView(TrainingMixin, RegistryView):
    """One version with its held-out evaluation: per field accuracy, macro-F1, confusion matrix,
    calibration per confidence band and the automation share at the target precision."""

    permission_required = "automations.view_classifierversion"

    def get(self, request, key, number):
        version = get_or_404(classifier_version_get_by_number, use_case=self.use_case, number=number)
        fields = []
        for name, e in (version.evaluation or {}).get("fields", {}).items():
            confusion = e.get("confusion") or {"labels": [], "matrix": []}
            fields.append({"name": name, "e": e, "confusion_rows": list(zip(confusion["labels"], confusion["matrix"])),
                           "per_class": sorted((e.get("per_class") or {}).items())})
        return render(request, "automations/training/version_detail.html", {
            "use_case": self.use_case, "version": version, "fields": fields,
            "skipped": sorted((version.evaluation or {}).get("skipped", {}).items()),
            "can_propose": request.user.has_perm("automations.add_thresholdsetversion"),
            "few_examples": training_selectors.few_examples_warning(version.example_count),
        })


class ThresholdProposeView(TrainingMixin, RegistryView):
    """A draft threshold set from the version's evaluation; it still goes through change control."""

    permission_required = ("automations.view_classifierversion", "automations.add_thresholdsetversion")

    def post(self, request, key, number):
        version = get_or_404(classifier_version_get_by_number, use_case=self.use_case, number=number)
        return call_service(
            request, lambda: training_services.threshold_set_propose(actor=request.user, classifier_version=version),
            success=lambda proposal: _("Threshold set v%(n)s was drafted from the evaluation of classifier v%(c)s; "
                                       "submit it and bundle it in a release to use it.")
            % {"n": proposal.number, "c": version.number},
            to=lambda proposal: reverse("automations:version-detail", args=[key, "threshold_set", proposal.number]),
            refused_to=reverse("automations:classifier-version-detail", args=[key, number]))
