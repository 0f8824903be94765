"""Prompt playground pages (core team): choose a use case, one or two prompt versions and a guardrail
set, fill in a sample, see what the model answers. Thin: the form reads, playground_run does the work."""
from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from automations.execution.services.playground import playground_run
from automations.registry import selectors
from portal.views import TenantPermissionRequiredMixin, call_service

PERMISSION = "automations.add_prompttemplateversion"


def _label(version) -> str:
    state = _("submitted") if version.is_frozen else _("draft")
    return f"v{version.number} ({state}) · {version.processor_key or '–'} · {version.model_name or '–'}"


class PlaygroundForm(forms.Form):
    version_a = forms.TypedChoiceField(label=gettext_lazy("Prompt version"), coerce=int)
    version_b = forms.TypedChoiceField(label=gettext_lazy("Compare with"), coerce=int, required=False,
                                       empty_value=None)
    guardrail_set = forms.TypedChoiceField(label=gettext_lazy("Guardrails"), coerce=int, required=False,
                                           empty_value=None)

    def __init__(self, *args, use_case, prompts, guardrail_sets, **kwargs):
        super().__init__(*args, **kwargs)
        self.prompts = {v.number: v for v in prompts}
        self.guardrail_sets = {g.number: g for g in guardrail_sets}
        choices = [(v.number, _label(v)) for v in prompts]
        self.fields["version_a"].choices = choices
        self.fields["version_b"].choices = [("", _("— no comparison —"))] + choices
        self.fields["guardrail_set"].choices = [("", _("— none —"))] + [
            (g.number, f"v{g.number}" + ("" if g.is_frozen else f" ({_('draft')})")) for g in guardrail_sets]
        if guardrail_sets and not self.is_bound:
            self.initial["guardrail_set"] = guardrail_sets[0].number
        self.input_names = []
        for spec in use_case.input_fields:
            if spec.get("send_to_model") is False or spec.get("type") == "file":
                continue
            widget = forms.Textarea(attrs={"rows": 5}) if spec.get("type") == "long_text" else forms.TextInput
            label = spec["name"] + (f" ({_('personal data')}: {spec.get('category')})" if spec.get("personal_data")
                                    else "")
            self.fields[f"input_{spec['name']}"] = forms.CharField(label=label, required=False, widget=widget,
                                                                   max_length=20000)
            self.input_names.append(spec["name"])

    def input_fields(self):
        return [self[f"input_{name}"] for name in self.input_names]

    def chosen(self):
        data = self.cleaned_data
        versions = [self.prompts[data["version_a"]]]
        if data.get("version_b") and data["version_b"] != data["version_a"]:
            versions.append(self.prompts[data["version_b"]])
        guardrails = self.guardrail_sets.get(data["guardrail_set"]) if data.get("guardrail_set") else None
        payload = {name: data.get(f"input_{name}", "") for name in self.input_names}
        return versions, guardrails, payload


class PlaygroundIndexView(TenantPermissionRequiredMixin, View):
    permission_required = PERMISSION

    def get(self, request):
        rows = [(use_case, selectors.version_list(use_case=use_case, kind="prompt_template").count())
                for use_case in selectors.use_case_list(tenant=request.tenant)]
        return render(request, "automations/playground/index.html", {"rows": rows})


class PlaygroundView(TenantPermissionRequiredMixin, View):
    permission_required = PERMISSION

    def _form(self, request, key, data=None):
        try:
            use_case = selectors.use_case_get(tenant=request.tenant, key=key)
        except ObjectDoesNotExist:
            raise Http404 from None
        prompts = list(selectors.version_list(use_case=use_case, kind="prompt_template"))
        guardrail_sets = list(selectors.version_list(use_case=use_case, kind="guardrail_set"))
        return use_case, PlaygroundForm(data, use_case=use_case, prompts=prompts, guardrail_sets=guardrail_sets)

    def get(self, request, key):
        use_case, form = self._form(request, key)
        return render(request, "automations/playground/use_case.html", {"use_case": use_case, "form": form})

    def post(self, request, key):
        use_case, form = self._form(request, key, request.POST)
        context = {"use_case": use_case, "form": form}
        if not form.is_valid():
            return render(request, "automations/playground/use_case.html", context, status=400)
        versions, guardrails, payload = form.chosen()
        return call_service(
            request, lambda: playground_run(actor=request.user, use_case=use_case, versions=versions,
                                            payload=payload, guardrail_set=guardrails),
            form=form, invalid=lambda status: render(request, "automations/playground/use_case.html", context,
                                                     status=status),
            done=lambda results: self._results(request, context | {"results": results, "guardrail_set": guardrails}))

    @staticmethod
    def _results(request, context):
        response = render(request, "automations/playground/use_case.html", context)
        response["Cache-Control"] = "no-store"  # sample input may hold personal data
        return response
