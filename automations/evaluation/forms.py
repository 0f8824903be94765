"""Forms of the evaluation pages: a test case built from the use case's own field schema (one input per input
field, one expected value per output field, a category as a choice), the import upload, the reason of a change."""
from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from automations.evaluation.choices import CaseTag
from automations.fields import choice_options, field_label, technical_names

INPUT_PREFIX, EXPECTED_PREFIX = "input__", "expected__"


class CaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("What the case shows, e.g. “Mahnung mit Rechnungsnummer”."))
    text = forms.CharField(label=_("Input text"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("Read like an uploaded text document: it fills the empty text input fields."))
    file = forms.FileField(label=_("Input file"), required=False,
                           help_text=_("A document as the use case receives it (PDF, e-mail, XML, text, scan)."))
    tags = forms.MultipleChoiceField(label=_("Tags"), choices=CaseTag.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple, initial=[CaseTag.TYPICAL])
    reason = forms.CharField(label=_("Reason for the change"), max_length=400, required=False)

    def __init__(self, *args, use_case, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_case, self.editing = use_case, editing
        if editing:
            del self.fields["file"]
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]
        for spec in use_case.input_fields:
            if spec.get("type") == "file":
                continue
            self.fields[INPUT_PREFIX + spec["name"]] = forms.CharField(
                label=field_label(spec), required=False,
                widget=forms.Textarea(attrs={"rows": 3}) if spec.get("type") == "long_text" else forms.TextInput())
        for spec in use_case.output_fields:
            name = EXPECTED_PREFIX + spec["name"]
            label = _("Expected: %(field)s") % {"field": field_label(spec)}
            if spec.get("type") == "category" and spec.get("choices"):
                self.fields[name] = forms.ChoiceField(label=label, required=False,
                                                      choices=[("", "—"), *choice_options(spec)])
            else:
                self.fields[name] = forms.CharField(label=label, required=False)

    @property
    def input_fields(self):
        return [self[name] for name in self.fields if name.startswith(INPUT_PREFIX)]

    @property
    def expected_fields(self):
        return [self[name] for name in self.fields if name.startswith(EXPECTED_PREFIX)]

    def values(self) -> dict:
        data = self.cleaned_data
        return {"title": data["title"], "text": data["text"], "tags": list(data["tags"]),
                "payload": {n[len(INPUT_PREFIX):]: v for n, v in data.items() if n.startswith(INPUT_PREFIX) and v},
                "expected": {n[len(EXPECTED_PREFIX):]: v for n, v in data.items()
                             if n.startswith(EXPECTED_PREFIX) and v not in (None, "")}}

    @classmethod
    def initial_of(cls, case) -> dict:
        initial = {"title": case.title, "text": case.text, "tags": list(case.tags)}
        initial |= {INPUT_PREFIX + k: v for k, v in (case.payload or {}).items()}
        initial |= {EXPECTED_PREFIX + k: v for k, v in (case.expected or {}).items()}
        return initial


# The columns of an import file besides the use case's fields (automations.evaluation.services.test_cases).
FIXED_COLUMNS = ("title", "text", "file", "tags")


class CaseImportForm(forms.Form):
    file = forms.FileField(label=_("Test cases (CSV, JSON Lines or zip)"))

    def __init__(self, *args, use_case=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The file's columns are technical names: each shown beside its label, marked as such.
        specs = [*(use_case.input_fields or []), *(use_case.output_fields or [])] if use_case is not None else []
        self.fields["file"].help_text = format_html(
            "{} {}; {} {}. {}", _("One case a row, with the columns"),
            format_html_join(", ", '<code class="technical">{}</code>', [(c,) for c in FIXED_COLUMNS]),
            _("and the input fields and expected output fields by their technical names:"), technical_names(specs),
            _("A zip holds one such list and the files its file column names. Bad rows are reported with their "
              "line and not imported."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=400)
