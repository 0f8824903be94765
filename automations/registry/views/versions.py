"""Versions (prompt templates, thresholds, guardrails, engine configurations) and releases: list,
read, create and submit, and a side-by-side difference between any two versions or releases."""
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from automations.evaluation import selectors as evaluation_selectors
from automations.quality.backtest import threshold_backtest
from automations.registry import selectors
from automations.registry.diffs import has_changes, render_release, render_version, side_by_side
from automations.registry.forms import VERSION_FORMS, ReleaseCreateForm
from automations.registry.models.versions import VERSION_MODELS
from automations.registry.services import versions as version_services
from automations.registry.views.mixins import RegistryView, UseCaseMixin, get_or_404
from portal.views import call_service

BACKTEST_DAYS = 30  # the threshold form replays the thresholds on the past month's decisions


class VersionKindMixin(UseCaseMixin):
    """The kind comes from the URL (a path converter admits only the four kinds); the permission is the
    kind's own model permission, `action` being view or add."""

    action = "view"

    @property
    def kind(self) -> str:
        return self.kwargs["kind"]

    @property
    def model(self):
        return VERSION_MODELS[self.kind]

    def get_permission_required(self):
        return (f"automations.{self.action}_{self.model._meta.model_name}",)

    def kind_context(self) -> dict:
        return {"use_case": self.use_case, "kind": self.kind, "kind_label": self.model._meta.verbose_name,
                "kind_label_plural": self.model._meta.verbose_name_plural}

    def version(self, number):
        return get_or_404(selectors.version_get, use_case=self.use_case, kind=self.kind, number=number)


class VersionListView(VersionKindMixin, RegistryView):
    def get(self, request, key, kind):
        versions = list(selectors.version_list(use_case=self.use_case, kind=kind).select_related("author"))
        return render(request, "automations/version_list.html", {
            **self.kind_context(), "versions": versions,
            "can_add": request.user.has_perm(f"automations.add_{self.model._meta.model_name}"),
        })


class VersionDetailView(VersionKindMixin, RegistryView):
    def get(self, request, key, kind, number):
        version = self.version(number)
        return render(request, "automations/version_detail.html", {
            **self.kind_context(), "version": version, "lines": render_version(version),
            "can_submit": (not version.is_frozen and version.author_id == request.user.pk
                           and request.user.has_perm(f"automations.add_{self.model._meta.model_name}")),
            "releases": [r for r in selectors.release_list(use_case=self.use_case) if _bundles(r, version)],
        })


def _bundles(release, version) -> bool:
    kind = type(version).KIND
    if kind == "engine_config":
        return any(config.pk == version.pk for config in release.engine_configs.all())
    return getattr(release, f"{kind}_id") == version.pk


class VersionDiffView(VersionKindMixin, RegistryView):
    """Any two versions of one kind side by side (?a=1&b=2); by default the newest against the one before."""

    def get(self, request, key, kind):
        versions = list(selectors.version_list(use_case=self.use_case, kind=kind))
        if not versions:
            raise Http404
        numbers = [v.number for v in versions]

        def pick(name, default):
            try:
                value = int(request.GET.get(name, default))
            except (TypeError, ValueError):
                value = default
            return value if value in numbers else default

        b = pick("b", numbers[0])
        a = pick("a", numbers[1] if len(numbers) > 1 else numbers[0])
        left, right = self.version(a), self.version(b)
        rows = side_by_side(render_version(left), render_version(right))
        return render(request, "automations/version_diff.html", {
            **self.kind_context(), "left": left, "right": right, "rows": rows, "changed": has_changes(rows),
            "left_title": f"v{left.number}", "right_title": f"v{right.number}",
            "numbers": numbers,
        })


class VersionCreateView(VersionKindMixin, RegistryView):
    """A new version, prefilled from the newest one; optionally submitted at once."""

    action = "add"

    @cached_property
    def form_class(self):
        return VERSION_FORMS[self.kind]

    def _form(self, data=None):
        newest = selectors.version_list(use_case=self.use_case, kind=self.kind).first()
        processors = selectors.catalogue_list(tenant=self.request.tenant, kind="processor", active_only=True)
        return self.form_class(data, use_case=self.use_case, processors=list(processors),
                               initial=self.form_class.initial_from(newest))

    def _render(self, request, form, status=200, backtest=None):
        return render(request, "automations/version_form.html", {
            **self.kind_context(), "form": form, "backtest": backtest,
            "can_backtest": (self.kind == "threshold_set"
                             and request.user.has_perm("automations.view_thresholdbacktest")),
            "backtest_days": BACKTEST_DAYS}, status=status)

    def get(self, request, key, kind):
        return self._render(request, self._form())

    def post(self, request, key, kind):
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        if "backtest" in request.POST and self.kind == "threshold_set" \
                and request.user.has_perm("automations.view_thresholdbacktest"):
            # Replay the thresholds on the form on past decisions; nothing is saved.
            backtest = threshold_backtest(use_case=self.use_case, thresholds=form.content()["thresholds"],
                                          days=BACKTEST_DAYS)
            return self._render(request, form, backtest=backtest)

        def create():
            version = version_services.version_create(actor=request.user, use_case=self.use_case, kind=kind,
                                                      content=form.content(),
                                                      change_note=form.cleaned_data["change_note"])
            if form.cleaned_data["submit_now"]:
                version = version_services.version_submit(actor=request.user, version=version)
            return version

        return call_service(
            request, create, form=form, invalid=lambda status: self._render(request, form, status=status),
            success=lambda version: (
                _("Version %(n)s was created and submitted; it can no longer change.") if version.is_frozen
                else _("Version %(n)s was saved as a draft.")) % {"n": version.number},
            to=lambda version: reverse("automations:version-detail", args=[key, kind, version.number]))


class VersionSubmitView(VersionKindMixin, RegistryView):
    action = "add"
    http_method_names = ["post"]

    def post(self, request, key, kind, number):
        version = self.version(number)
        return call_service(
            request, lambda: version_services.version_submit(actor=request.user, version=version),
            success=_("Version %(n)s was submitted; it can no longer change.") % {"n": number},
            to=reverse("automations:version-detail", args=[key, kind, number]))


# --- Releases -------------------------------------------------------------------------------------------

class ReleaseDetailView(UseCaseMixin, RegistryView):
    """A release with the exact versions it bundles, its labels, and (?compare=N) the difference to
    another release of the use case."""

    permission_required = "automations.view_release"

    def get(self, request, key, number):
        release = get_or_404(selectors.release_get, use_case=self.use_case, number=number)
        releases = list(selectors.release_list(use_case=self.use_case))
        compare, rows = None, None
        try:
            compare_number = int(request.GET.get("compare", ""))
        except ValueError:
            compare_number = None
        if compare_number is not None:
            compare = next((r for r in releases if r.number == compare_number), None)
            if compare is not None:
                rows = side_by_side(render_release(compare), render_release(release))
        parts = [("prompt_template", release.prompt_template), ("threshold_set", release.threshold_set),
                 ("guardrail_set", release.guardrail_set)]
        parts += [("engine_config", config) for config in release.engine_configs.all()]
        return render(request, "automations/release_detail.html", {
            "use_case": self.use_case, "release": release, "releases": releases, "compare": compare,
            "rows": rows, "parts": [(kind, VERSION_MODELS[kind]._meta.verbose_name, v) for kind, v in parts],
            "labels": [label.name for label in release.labels.all()],
            "compare_number": str(compare.number) if compare else "", "release_number": str(release.number),
            "evaluations": (list(evaluation_selectors.evaluation_list(release=release)[:10])
                            if request.user.has_perm("automations.view_evaluationrun") else None),
            "has_test_cases": evaluation_selectors.quality_test_case_list(use_case=self.use_case).exists(),
        })


class ReleaseCreateView(UseCaseMixin, RegistryView):
    """Bundle submitted versions into a release; only submitted versions are offered."""

    permission_required = "automations.add_release"

    def _form(self, data=None):
        submitted = {kind: [v for v in selectors.version_list(use_case=self.use_case, kind=kind) if v.is_frozen]
                     for kind in VERSION_MODELS}
        return ReleaseCreateForm(data, submitted=submitted)

    def _render(self, request, form, status=200):
        return render(request, "automations/release_form.html", {"use_case": self.use_case, "form": form},
                      status=status)

    def get(self, request, key):
        return self._render(request, self._form())

    def post(self, request, key):
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: version_services.release_create(actor=request.user, use_case=self.use_case,
                                                             **form.versions()),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=lambda release: _("Release R%(n)s was bundled. Request a label move to take it into pilot or "
                                      "production.") % {"n": release.number},
            to=lambda release: reverse("automations:release-detail", args=[key, release.number]))
