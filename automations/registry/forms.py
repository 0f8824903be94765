"""Forms of the registry pages. They turn browser input into the values the services take (lists,
dicts, users, catalogue entries) and validate what a form can; the rules of the registry itself are
checked by the registry's services, whose messages the views show beside the form."""
from decimal import Decimal
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from automations.choices import (
    CatalogueKind,
    ConnectorDirection,
    ConnectorType,
    Engine,
    FieldType,
    IntegrationKind,
    Label,
    LegalBasis,
    RiskTier,
    TransferBasis,
    UseCaseStatus,
)
from automations.engines import limits, patterns
from automations.fields import category_label, field_label
from automations.registry.connector_settings import MAX_INTERVAL, MIN_INTERVAL, connector_settings_validate
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.models.versions import EngineConfigVersion, GuardrailSetVersion, PromptTemplateVersion
from portal.choices import Role


# Paths under /registry/ that a use case key must not shadow.
def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A field the form declares as a choice field, to set its choices."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


RESERVED_KEYS = frozenset({"new", "catalogue", "policy", "inbox", "changes", "export", "import", "playground"})
STANDARD_CHANGE_KINDS = [("threshold_small_move", _("Moving thresholds by at most the largest standard move"))]
PERSONAL_DATA_PATTERN_CHOICES = [("email", _("E-mail addresses")), ("phone", _("Phone numbers")),
                                 ("iban", _("IBANs"))]


def _label(model, name: str):
    return model._meta.get_field(name).verbose_name


def _help(model, name: str):
    return model._meta.get_field(name).help_text


class LinesField(forms.CharField):
    """A list of strings, one per line in a textarea; empty lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("One per line."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class JsonObjectField(forms.JSONField):
    """A JSON object typed into a textarea; anything but an object is refused with a message."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if value in (None, ""):
            value = {}
        return super().prepare_value(value)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Enter a JSON object, e.g. {\"key\": \"value\"}."))
        return value


def _member_choices(members) -> list[tuple[str, str]]:
    return [("", "—")] + [(user.username, user.get_full_name() or user.username) for user in members]


# --- Use case documentation ------------------------------------------------------------------------

class FieldSpecForm(forms.Form):
    """One input or output field of a use case (one row of the repeating form)."""

    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices, initial=FieldType.TEXT)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(label=_("Choices"), required=False, help_text=_("Comma-separated, for categories."))
    pattern = forms.CharField(label=_("Pattern"), required=False, help_text=_("Regular expression the value matches."))
    minimum = forms.DecimalField(label=_("Minimum"), required=False)
    maximum = forms.DecimalField(label=_("Maximum"), required=False)
    max_length = forms.IntegerField(
        label=_("Maximum length (characters)"), required=False, min_value=1, max_value=limits.FIELD_MAX_CHARS_CEILING,
        # Formatted when shown, in the reader's language (`%` on a lazy text would translate it at import).
        help_text=lazy(lambda: _("Longer input is refused (the API answers 422). Empty: %(n)s characters.")
                       % {"n": f"{limits.DEFAULT_FIELD_MAX_CHARS:,}".replace(",", ".")}, str)())
    reference = forms.CharField(label=_("Master data reference"), required=False, max_length=60,
                                help_text=_("e.g. supplier.iban or customer.number"))
    send_to_model = forms.BooleanField(label=_("May be sent to a model"), required=False, initial=True)
    personal_data = forms.BooleanField(label=_("Personal data"), required=False)
    category = forms.ChoiceField(label=_("Data category"), required=False)
    # What people read instead of the name: label and help per language, labels of the choices, and
    # whether the field identifies an item in lists.
    label_de = forms.CharField(label=_("Label (German)"), required=False, max_length=120)
    label_en = forms.CharField(label=_("Label (English)"), required=False, max_length=120)
    help_de = forms.CharField(label=_("Help text (German)"), required=False, max_length=500)
    help_en = forms.CharField(label=_("Help text (English)"), required=False, max_length=500)
    choice_labels = forms.CharField(
        label=_("Labels of the choices"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: choice = German label | English label"))
    title = forms.BooleanField(label=_("Shown in lists"), required=False,
                               help_text=_("Identifies an item in lists (e.g. supplier, amount, subject)."))
    # EU AI Act Art. 50: the line that goes out with a text generated with AI (e-mail delivery of replies).
    disclosure_de = forms.CharField(
        label=_("AI disclosure (German)"), required=False, max_length=500,
        help_text=_("EU AI Act Art. 50: sent with every reply generated with AI, e.g. by e-mail."))
    disclosure_en = forms.CharField(label=_("AI disclosure (English)"), required=False, max_length=500)

    TEXT_FIELDS = ("label_de", "label_en", "help_de", "help_en", "choice_labels", "title", "disclosure_de",
                   "disclosure_en")

    def __init__(self, *args, categories: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = [("", "—")] + [(c, category_label(c)) for c in categories]

    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.TEXT_FIELDS and name != "DELETE"]

    def text_fields(self):
        return [self[name] for name in self.TEXT_FIELDS]

    @staticmethod
    def _choice_label_lines(labels: dict | None) -> str:
        lines = []
        for value, text in (labels or {}).items():
            text = text if isinstance(text, dict) else {"de": str(text)}
            lines.append(f"{value} = {text.get('de', '')} | {text.get('en', '')}".rstrip(" |"))
        return "\n".join(lines)

    @staticmethod
    def initial_from(spec: dict) -> dict:
        rule = spec.get("validation") or {}
        return {
            "name": spec.get("name", ""), "type": spec.get("type", FieldType.TEXT),
            "required": bool(spec.get("required")), "choices": ", ".join(spec.get("choices") or []),
            "pattern": rule.get("pattern", ""), "minimum": rule.get("min"), "maximum": rule.get("max"),
            "max_length": rule.get("max_length"),
            "reference": spec.get("reference", ""), "send_to_model": spec.get("send_to_model") is not False,
            "personal_data": bool(spec.get("personal_data")), "category": spec.get("category", ""),
            "label_de": _text_in(spec.get("label"), "de"), "label_en": _text_in(spec.get("label"), "en"),
            "help_de": _text_in(spec.get("help"), "de"), "help_en": _text_in(spec.get("help"), "en"),
            "disclosure_de": _text_in(spec.get("disclosure"), "de"),
            "disclosure_en": _text_in(spec.get("disclosure"), "en"),
            "choice_labels": FieldSpecForm._choice_label_lines(spec.get("choice_labels")),
            "title": bool(spec.get("title")),
        }

    def clean(self):
        data = super().clean()
        if data.get("name") and data.get("personal_data") and not data.get("category"):
            self.add_error("category", _("Choose the data category of this personal data."))
        if data.get("pattern"):
            try:
                patterns.check_user_pattern(data["pattern"])
            except patterns.UnsafePattern as exc:
                self.add_error("pattern", str(exc))
        choices = {c.strip() for c in (data.get("choices") or "").split(",") if c.strip()}
        try:
            labels = _parse_choice_labels(data.get("choice_labels") or "")
        except ValueError:
            self.add_error("choice_labels", _("Write each line as: choice = German label | English label"))
        else:
            unknown = sorted(set(labels) - choices)
            if unknown:
                self.add_error("choice_labels", _("Not among the choices: %(names)s") % {"names": ", ".join(unknown)})
            data["parsed_choice_labels"] = labels
        reference = data.get("reference") or ""
        if reference and (reference.count(".") != 1 or reference.split(".")[0] not in ("supplier", "customer")):
            self.add_error("reference", _("Write it as supplier.<attribute> or customer.<attribute>."))
        return data

    def spec(self) -> dict | None:
        """The field as the registry stores it; only what differs from the defaults is written."""
        data = self.cleaned_data
        if not data.get("name") or data.get("DELETE"):
            return None
        spec = {"name": data["name"].strip(), "type": data["type"], "required": bool(data.get("required"))}
        choices = [c.strip() for c in (data.get("choices") or "").split(",") if c.strip()]
        if choices:
            spec["choices"] = choices
        rule = {}
        if data.get("pattern"):
            rule["pattern"] = data["pattern"]
        if data.get("max_length"):
            rule["max_length"] = data["max_length"]
        for key, name in (("min", "minimum"), ("max", "maximum")):
            if data.get(name) is not None:
                value = data[name]
                rule[key] = int(value) if value == value.to_integral_value() else float(value)
        if rule:
            spec["validation"] = rule
        if data.get("reference"):
            spec["reference"] = data["reference"].strip()
        if not data.get("send_to_model"):
            spec["send_to_model"] = False
        if data.get("personal_data"):
            spec["personal_data"] = True
            spec["category"] = data["category"]
        for key in ("label", "help", "disclosure"):
            text = {lang: (data.get(f"{key}_{lang}") or "").strip() for lang in ("de", "en")}
            if any(text.values()):
                spec[key] = {lang: value for lang, value in text.items() if value}
        if data.get("parsed_choice_labels"):
            spec["choice_labels"] = data["parsed_choice_labels"]
        if data.get("title"):
            spec["title"] = True
        return spec


def _text_in(value, language: str) -> str:
    if isinstance(value, str):
        return value if language == "de" else ""
    return (value or {}).get(language, "") if isinstance(value, dict) else ""


def _parse_choice_labels(text: str) -> dict:
    """"invoice = Rechnung | Invoice" per line → {"invoice": {"de": "Rechnung", "en": "Invoice"}}."""
    labels = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        value, sep, rest = line.partition("=")
        if not sep or not value.strip():
            raise ValueError(line)
        german, _bar, english = rest.partition("|")
        entry = {lang: t.strip() for lang, t in (("de", german), ("en", english)) if t.strip()}
        if entry:
            labels[value.strip()] = entry
    return labels


class BaseSpecFormSet(forms.BaseFormSet):
    def specs(self) -> list[dict]:
        return [spec for form in self.forms if (spec := form.spec()) is not None]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        names = [spec["name"] for spec in self.specs()]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise forms.ValidationError(_("Field names must be unique: %(names)s") % {"names": ", ".join(twice)})


# formset_factory makes a subclass of the given formset; the stubs type it as the plain BaseFormSet.
FieldSpecFormSet = cast(type[BaseSpecFormSet],
                        forms.formset_factory(FieldSpecForm, formset=BaseSpecFormSet, extra=2, can_delete=True))


class IntegrationPointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *IntegrationKind.choices], required=False)
    system = forms.CharField(label=_("System"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("system") and not data.get("kind") and not data.get("DELETE"):
            self.add_error("kind", _("Choose the kind of integration."))
        return data

    def point(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("kind") or data.get("DELETE"):
            return None
        return {"kind": data["kind"], "system": (data.get("system") or "").strip()}


class BaseIntegrationFormSet(forms.BaseFormSet):
    def points(self) -> list[dict]:
        return [point for form in self.forms if (point := form.point()) is not None]


IntegrationPointFormSet = cast(type[BaseIntegrationFormSet], forms.formset_factory(
    IntegrationPointForm, formset=BaseIntegrationFormSet, extra=2, can_delete=True))

USER_FIELDS = ("department_owner", "it_contact", "security_officer", "data_protection_officer", "escalation_contact")


class UseCaseForm(forms.Form):
    """The documentation standard of a use case, one section after the other. With `use_case` it edits
    (the key stays); without, it documents a new one."""

    key = forms.SlugField(label=_label(UseCase, "key"), max_length=60,
                          help_text=_("Short name in addresses and the API, e.g. eingangsrechnungen. It cannot "
                                      "be changed later."))
    title = forms.CharField(label=_label(UseCase, "title"), max_length=200)
    department = forms.CharField(label=_label(UseCase, "department"), max_length=120, required=False)
    purpose = forms.CharField(label=_label(UseCase, "purpose"), widget=forms.Textarea(attrs={"rows": 3}))
    automated_decisions = forms.CharField(label=_label(UseCase, "automated_decisions"), required=False,
                                          widget=forms.Textarea(attrs={"rows": 2}))
    human_decisions = forms.CharField(label=_label(UseCase, "human_decisions"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    data_subjects = LinesField(label=_label(UseCase, "data_subjects"))
    legal_basis = forms.ChoiceField(label=_label(UseCase, "legal_basis"), choices=LegalBasis.choices,
                                    initial=LegalBasis.NONE)
    legal_basis_note = forms.CharField(label=_label(UseCase, "legal_basis_note"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    recipients = LinesField(label=_label(UseCase, "recipients"))
    catalogue_entries = forms.MultipleChoiceField(label=_label(UseCase, "catalogue_entries"), required=False,
                                                  widget=forms.CheckboxSelectMultiple)
    retention_days = forms.IntegerField(label=_label(UseCase, "retention_days"), min_value=1, initial=90)
    risk_tier = forms.ChoiceField(label=_label(UseCase, "risk_tier"), choices=RiskTier.choices,
                                  initial=RiskTier.MINIMAL)
    risk_rationale = forms.CharField(label=_label(UseCase, "risk_rationale"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}))
    dpia_reference = forms.CharField(label=_label(UseCase, "dpia_reference"), max_length=200, required=False)
    worker_information_reference = forms.CharField(label=_label(UseCase, "worker_information_reference"),
                                                   max_length=200, required=False)
    affects_employees = forms.BooleanField(label=_label(UseCase, "affects_employees"), required=False)
    department_owner = forms.ChoiceField(label=_label(UseCase, "department_owner"), required=False)
    it_contact = forms.ChoiceField(label=_label(UseCase, "it_contact"), required=False)
    security_officer = forms.ChoiceField(label=_label(UseCase, "security_officer"), required=False)
    data_protection_officer = forms.ChoiceField(label=_label(UseCase, "data_protection_officer"), required=False)
    escalation_contact = forms.ChoiceField(label=_label(UseCase, "escalation_contact"), required=False)
    manual_fallback = forms.CharField(label=_label(UseCase, "manual_fallback"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    min_precision = LinesField(label=_("Minimum precision per output field"),
                               help_text=_("One per line: the output field's label, a colon, a share between 0 "
                                           "and 1, e.g. Bruttobetrag: 0,99"))
    max_correction_rate = forms.DecimalField(label=_("Maximum correction rate"), required=False, min_value=0,
                                             max_value=1, decimal_places=3, help_text=_("A share between 0 and 1."))
    min_automation_share = forms.DecimalField(label=_("Minimum share handled automatically"), required=False,
                                              min_value=0, max_value=1, decimal_places=3,
                                              help_text=_("A share between 0 and 1."))
    review_interval_days = forms.IntegerField(label=_label(UseCase, "review_interval_days"), min_value=1,
                                              initial=365)
    training_reuse_allowed = forms.BooleanField(label=_label(UseCase, "training_reuse_allowed"), required=False,
                                                help_text=_help(UseCase, "training_reuse_allowed"))
    store_masked_prompts = forms.BooleanField(label=_label(UseCase, "store_masked_prompts"), required=False)

    SECTIONS = [
        (_("What it does"), ("key", "title", "department", "purpose", "automated_decisions", "human_decisions")),
        (_("Personal data"), ("data_subjects", "legal_basis", "legal_basis_note", "recipients", "retention_days")),
        (_("Processors and connectors"), ("catalogue_entries",)),
        (_("Risk"), ("risk_tier", "risk_rationale", "dpia_reference", "worker_information_reference",
                     "affects_employees")),
        (_("Responsibilities"), USER_FIELDS + ("manual_fallback",)),
        (_("Quality and reuse"), ("min_precision", "max_correction_rate", "min_automation_share",
                                  "review_interval_days", "training_reuse_allowed", "store_masked_prompts")),
    ]

    def __init__(self, *args, members, catalogue, categories: list[str], use_case: UseCase | None = None, **kwargs):
        self.use_case = use_case
        members = list(members)
        if use_case is not None:
            # Someone named before who is no member any more stays choosable, so that saving an
            # unrelated change does not fail on them.
            members += [user for name in USER_FIELDS if (user := getattr(use_case, name)) and user not in members]
        self.members = {user.username: user for user in members}
        self.entries = {entry.key: entry for entry in catalogue}
        if use_case is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(use_case)
        super().__init__(*args, **kwargs)
        if use_case is not None:
            del self.fields["key"]
            # Entries the use case already has stay visible even if deactivated since.
            for entry in use_case.catalogue_entries.all():
                self.entries.setdefault(entry.key, entry)
        for name in USER_FIELDS:
            choice_field(self, name).choices = _member_choices(members)
        choice_field(self, "catalogue_entries").choices = [(key, str(entry)) for key, entry in self.entries.items()]
        if not self.entries:
            self.fields["catalogue_entries"].help_text = _("The catalogue has no active entries yet; adding one is a "
                                                           "change request.")
        prefix_data = args[0] if args else None
        spec_kwargs = {"categories": categories}
        self.input_formset = FieldSpecFormSet(prefix_data, prefix="input", form_kwargs=spec_kwargs, initial=[
            FieldSpecForm.initial_from(s) for s in (use_case.input_fields if use_case else [])])
        self.output_formset = FieldSpecFormSet(prefix_data, prefix="output", form_kwargs=spec_kwargs, initial=[
            FieldSpecForm.initial_from(s) for s in (use_case.output_fields if use_case else [])])
        self.integration_formset = IntegrationPointFormSet(prefix_data, prefix="integration", initial=[
            {"kind": p.get("kind", ""), "system": p.get("system", "")}
            for p in (use_case.integration_points if use_case else [])])

    def sections(self):
        for title, names in self.SECTIONS:
            yield title, [self[name] for name in names if name in self.fields]

    @staticmethod
    def initial_from(use_case: UseCase) -> dict:
        targets = use_case.quality_targets or {}
        initial = {name: getattr(use_case, name) for name in (
            "title", "department", "purpose", "automated_decisions", "human_decisions", "data_subjects",
            "legal_basis", "legal_basis_note", "recipients", "retention_days", "risk_tier", "risk_rationale",
            "dpia_reference", "worker_information_reference", "affects_employees", "manual_fallback",
            "review_interval_days", "training_reuse_allowed", "store_masked_prompts")}
        initial.update({name: getattr(getattr(use_case, name), "username", "") for name in USER_FIELDS})
        initial["catalogue_entries"] = [entry.key for entry in use_case.catalogue_entries.all()]
        # By the fields' labels and in the locale's numbers, as people write them; read back by label or name.
        labels = {spec.get("name"): field_label(spec) for spec in use_case.output_fields or []}
        initial["min_precision"] = [f"{labels.get(field, field)}: {number_format(share, use_l10n=True)}"
                                    for field, share in (targets.get("min_precision") or {}).items()]
        initial["max_correction_rate"] = targets.get("max_correction_rate")
        initial["min_automation_share"] = targets.get("min_automation_share")
        return initial

    def is_valid(self) -> bool:
        valid = super().is_valid()
        formsets = [self.input_formset.is_valid(), self.output_formset.is_valid(),
                    self.integration_formset.is_valid()]
        return valid and all(formsets) and self._targets_by_name()

    def clean(self):
        data = super().clean()
        # High risk (EU AI Act) with personal data means a data protection impact assessment (Art. 35 GDPR):
        # the form asks for its reference when the use case is documented or raised to high risk.
        if data.get("risk_tier") == RiskTier.HIGH and not (data.get("dpia_reference") or "").strip():
            self.add_error("dpia_reference", _("A high-risk use case needs the reference of its data protection "
                                               "impact assessment (Art. 35 GDPR), e.g. DSFA-2026-07."))
        return data

    def clean_key(self):
        key = self.cleaned_data["key"]
        if key in RESERVED_KEYS:
            raise forms.ValidationError(_("This key is reserved for a page of the registry; choose another."))
        return key

    def clean_min_precision(self):
        """{label or name as written: share}; labels become names once the output fields are read (is_valid)."""
        targets = {}
        for line in self.cleaned_data["min_precision"]:
            name, _colon, share = line.rpartition(":")
            try:
                value = Decimal(share.strip().replace(",", "."))
            except ArithmeticError:
                value = None
            if not name.strip() or value is None or not 0 <= value <= 1:
                raise forms.ValidationError(_("Write each line as the field's label: share, e.g. Bruttobetrag: 0,99."))
            targets[name.strip()] = float(value)
        return targets

    def _targets_by_name(self) -> bool:
        """The minimum precisions keyed by the output fields' names (a line may name a field by its label in
        either language, or by its technical name); an unknown field is the form's error."""
        targets = self.cleaned_data.get("min_precision") or {}
        specs = self.output_formset.specs()
        known = {}
        for spec in specs:
            known[spec["name"].casefold()] = spec["name"]
            for language in ("de", "en"):
                known.setdefault(field_label(spec, language=language).casefold(), spec["name"])
        unknown = [written for written in targets if written.casefold() not in known]
        if unknown:
            self.add_error("min_precision", _("No output field is called %(names)s.") % {"names": ", ".join(unknown)})
            return False
        self.cleaned_data["min_precision"] = {known[w.casefold()]: share for w, share in targets.items()}
        return True

    def has_errors(self) -> bool:
        return bool(self.errors or any(self.input_formset.errors) or any(self.output_formset.errors)
                    or any(self.integration_formset.errors) or self.input_formset.non_form_errors()
                    or self.output_formset.non_form_errors())

    def _quality_targets(self) -> dict:
        data = self.cleaned_data
        targets = {}
        if data["min_precision"]:
            targets["min_precision"] = data["min_precision"]
        for name in ("max_correction_rate", "min_automation_share"):
            if data.get(name) is not None:
                targets[name] = float(data[name])
        return targets

    def documentation(self) -> dict:
        """Values for use_case_create / use_case_update: users and catalogue entries as objects."""
        data = self.cleaned_data
        values = {name: data[name] for name in (
            "title", "department", "purpose", "automated_decisions", "human_decisions", "data_subjects",
            "legal_basis", "legal_basis_note", "recipients", "retention_days", "risk_tier", "risk_rationale",
            "dpia_reference", "worker_information_reference", "affects_employees", "manual_fallback",
            "review_interval_days", "training_reuse_allowed", "store_masked_prompts")}
        values.update({name: self.members.get(data[name]) if data[name] else None for name in USER_FIELDS})
        values["catalogue_entries"] = [self.entries[key] for key in data["catalogue_entries"]]
        values["quality_targets"] = self._quality_targets()
        values["input_fields"] = self.input_formset.specs()
        values["output_fields"] = self.output_formset.specs()
        values["integration_points"] = self.integration_formset.points()
        return values

    def changed_documentation(self) -> dict:
        """Only what differs from the use case, with field lists compared by meaning (a field spec read
        back from the form may spell a default out that the stored one left implicit)."""
        if self.use_case is None:
            raise ValueError("A new use case has no changed documentation: it is documented whole.")
        values = self.documentation()
        changed = {}
        for name, value in values.items():
            if name == "catalogue_entries":
                before = {e.key for e in self.use_case.catalogue_entries.all()}
                if before != {e.key for e in value}:
                    changed[name] = value
            elif name in ("input_fields", "output_fields"):
                if [normalised_spec(s) for s in value] != [normalised_spec(s) for s in getattr(self.use_case, name)]:
                    changed[name] = value
            elif getattr(self.use_case, name) != value:
                changed[name] = value
        return changed

    @staticmethod
    def as_payload(values: dict) -> dict:
        """Documentation values as a change request stores them: users by user name, entries by key."""
        payload = {}
        for name, value in values.items():
            if name in USER_FIELDS:
                value = value.username if value else None
            elif name == "catalogue_entries":
                value = sorted(entry.key for entry in value)
            payload[name] = value
        return payload


def normalised_spec(spec: dict) -> dict:
    """A field spec with its defaults spelt out, for comparing two spellings of the same field."""
    full = {"type": FieldType.TEXT, "required": False, "choices": [], "validation": {}, "reference": "",
            "send_to_model": True, "personal_data": False, "category": ""}
    full.update({k: v for k, v in spec.items() if v is not None})
    if not full["personal_data"]:
        full["category"] = ""
    return full


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("Recorded with the change in the history and the audit log."))


class ChangeRequestTextForm(forms.Form):
    """Title and description every change request carries."""

    title = forms.CharField(label=_("Title of the change request"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("What changes and why; the approvers read this first."))


# --- Versions and releases ---------------------------------------------------------------------------

class VersionFormBase(forms.Form):
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    submit_now = forms.BooleanField(
        label=_("Submit at once"), required=False,
        help_text=_("A submitted version can no longer change and may be bundled into a release."))

    kind = ""

    def __init__(self, *args, use_case: UseCase, processors=(), **kwargs):
        self.use_case = use_case
        super().__init__(*args, **kwargs)
        self.order_fields([name for name in self.fields if name not in ("change_note", "submit_now")]
                          + ["change_note", "submit_now"])

    def content(self) -> dict:
        raise NotImplementedError

    @classmethod
    def initial_from(cls, version) -> dict:
        return version.content() if version is not None else {}


class PromptTemplateVersionForm(VersionFormBase):
    kind = "prompt_template"

    template = forms.CharField(label=_label(PromptTemplateVersion, "template"),
                               help_text=_help(PromptTemplateVersion, "template"),
                               widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}))
    system_prompt = forms.CharField(label=_label(PromptTemplateVersion, "system_prompt"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}))
    # Named as the model's field; Django's form metaclass collects it before it sets the form's own
    # `declared_fields`, which the stubs type as the class attribute this assignment seems to replace.
    declared_fields = forms.MultipleChoiceField(  # type: ignore[assignment]
        label=_label(PromptTemplateVersion, "declared_fields"), required=False, widget=forms.CheckboxSelectMultiple)
    processor_key = forms.ChoiceField(label=_label(PromptTemplateVersion, "processor_key"), required=False)
    model_name = forms.CharField(label=_label(PromptTemplateVersion, "model_name"), max_length=120, required=False)
    parameters = JsonObjectField(label=_label(PromptTemplateVersion, "parameters"))
    output_schema = JsonObjectField(label=_label(PromptTemplateVersion, "output_schema"))
    confidence_mode = forms.ChoiceField(label=_label(PromptTemplateVersion, "confidence_mode"),
                                        choices=PromptTemplateVersion.CONFIDENCE_MODES,
                                        initial="fixed")
    fixed_confidence = forms.FloatField(label=_label(PromptTemplateVersion, "fixed_confidence"), min_value=0,
                                        max_value=1, initial=0.5)
    output_field = forms.ChoiceField(label=_label(PromptTemplateVersion, "output_field"), required=False)

    def __init__(self, *args, use_case: UseCase, processors=(), **kwargs):
        super().__init__(*args, use_case=use_case, **kwargs)
        choice_field(self, "declared_fields").choices = [(f["name"], field_label(f)) for f in use_case.input_fields]
        choice_field(self, "processor_key").choices = [("", "—")] + [(p.key, str(p)) for p in processors]
        choice_field(self, "output_field").choices = [("", "—")] + [(f["name"], field_label(f))
                                                                    for f in use_case.output_fields]

    def content(self) -> dict:
        return {name: self.cleaned_data[name] for name in PromptTemplateVersion.CONTENT_FIELDS}


class ThresholdSetVersionForm(VersionFormBase):
    """Two numbers per output field of the use case: `auto` and `reject`."""

    kind = "threshold_set"

    def __init__(self, *args, use_case: UseCase, processors=(), **kwargs):
        super().__init__(*args, use_case=use_case, **kwargs)
        self.pairs = []
        for spec in use_case.output_fields:
            name = spec["name"]
            label = field_label(spec)
            auto = forms.DecimalField(label=_("%(field)s: apply automatically from") % {"field": label},
                                      required=False, min_value=0, max_value=1, decimal_places=3, localize=True)
            reject = forms.DecimalField(label=_("%(field)s: drop below") % {"field": label},
                                        required=False, min_value=0, max_value=1, decimal_places=3, localize=True)
            self.fields[f"auto__{name}"] = auto
            self.fields[f"reject__{name}"] = reject
            self.pairs.append((label, self[f"auto__{name}"], self[f"reject__{name}"]))
        self.order_fields([f for f in self.fields if "__" in f] + ["change_note", "submit_now"])

    @classmethod
    def initial_from(cls, version) -> dict:
        initial = {}
        for name, pair in (version.thresholds if version else {}).items():
            initial[f"auto__{name}"] = pair.get("auto")
            initial[f"reject__{name}"] = pair.get("reject")
        return initial

    def clean(self):
        data = super().clean()
        for spec in self.use_case.output_fields:
            auto, reject = data.get(f"auto__{spec['name']}"), data.get(f"reject__{spec['name']}")
            if f"auto__{spec['name']}" in self.errors or f"reject__{spec['name']}" in self.errors:
                continue  # a value that is no number already says so; "both or neither" would mislead
            if (auto is None) != (reject is None):
                self.add_error(f"auto__{spec['name']}", _("Give both numbers, or neither."))
            elif auto is not None and reject > auto:
                self.add_error(f"reject__{spec['name']}", _("The drop threshold cannot lie above the automatic one."))
        return data

    def content(self) -> dict:
        thresholds = {}
        for spec in self.use_case.output_fields:
            auto = self.cleaned_data.get(f"auto__{spec['name']}")
            if auto is not None:
                thresholds[spec["name"]] = {"auto": float(auto),
                                            "reject": float(self.cleaned_data[f"reject__{spec['name']}"])}
        return {"thresholds": thresholds}


class GuardrailSetVersionForm(VersionFormBase):
    kind = "guardrail_set"

    forbidden_phrases = LinesField(label=_label(GuardrailSetVersion, "forbidden_phrases"),
                                   help_text=_("One per line, e.g. garantieren, rechtsverbindlich, wir erstatten."))
    forbidden_patterns = LinesField(label=_label(GuardrailSetVersion, "forbidden_patterns"))
    personal_data_patterns = forms.MultipleChoiceField(
        label=_label(GuardrailSetVersion, "personal_data_patterns"), required=False,
        choices=PERSONAL_DATA_PATTERN_CHOICES, widget=forms.CheckboxSelectMultiple)
    required_disclaimers = LinesField(label=_label(GuardrailSetVersion, "required_disclaimers"))
    max_length = forms.IntegerField(label=_label(GuardrailSetVersion, "max_length"), required=False, min_value=1)

    def content(self) -> dict:
        return {name: self.cleaned_data[name] for name in GuardrailSetVersion.CONTENT_FIELDS}


class EngineConfigVersionForm(VersionFormBase):
    kind = "engine_config"

    engine = forms.ChoiceField(label=_label(EngineConfigVersion, "engine"), choices=Engine.choices)
    fields_ = forms.MultipleChoiceField(label=_label(EngineConfigVersion, "fields"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    parameters = JsonObjectField(label=_label(EngineConfigVersion, "parameters"),
                                 widget=forms.Textarea(attrs={"rows": 10, "class": "mono", "spellcheck": "false"}))
    artifact_ref = forms.CharField(label=_label(EngineConfigVersion, "artifact_ref"), max_length=200, required=False)

    def __init__(self, *args, use_case: UseCase, processors=(), **kwargs):
        super().__init__(*args, use_case=use_case, **kwargs)
        choice_field(self, "fields_").choices = [(f["name"], field_label(f)) for f in use_case.output_fields]

    @classmethod
    def initial_from(cls, version) -> dict:
        initial = super().initial_from(version)
        if "fields" in initial:
            initial["fields_"] = initial.pop("fields")
        return initial

    def content(self) -> dict:
        data = self.cleaned_data
        return {"engine": data["engine"], "parameters": data["parameters"], "artifact_ref": data["artifact_ref"],
                "fields": data["fields_"]}


VERSION_FORMS = {form.kind: form for form in (PromptTemplateVersionForm, ThresholdSetVersionForm,
                                              GuardrailSetVersionForm, EngineConfigVersionForm)}


class ReleaseCreateForm(forms.Form):
    """Bundle submitted versions; the choices are the version numbers of this use case."""

    threshold_set = forms.TypedChoiceField(label=_("Thresholds"), coerce=int)
    engine_configs = forms.TypedMultipleChoiceField(label=_("Engine configurations"), coerce=int,
                                                    widget=forms.CheckboxSelectMultiple)
    prompt_template = forms.TypedChoiceField(label=_("Prompt template"), coerce=int, required=False,
                                             empty_value=None)
    guardrail_set = forms.TypedChoiceField(label=_("Guardrails"), coerce=int, required=False, empty_value=None)
    note = forms.CharField(label=_("Release note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, submitted: dict, **kwargs):
        """`submitted`: kind -> submitted versions, newest first."""
        self.submitted = {kind: {v.number: v for v in versions} for kind, versions in submitted.items()}

        def choices(kind, optional=False):
            listed = [(v.number, _version_choice_label(v)) for v in submitted.get(kind, [])]
            return ([("", "—")] if optional else []) + listed

        initial = kwargs.setdefault("initial", {})
        for kind in ("threshold_set", "prompt_template", "guardrail_set"):
            if submitted.get(kind):
                initial.setdefault(kind, submitted[kind][0].number)
        if submitted.get("engine_config"):
            initial.setdefault("engine_configs", [submitted["engine_config"][0].number])
        super().__init__(*args, **kwargs)
        choice_field(self, "threshold_set").choices = choices("threshold_set")
        choice_field(self, "engine_configs").choices = choices("engine_config")
        choice_field(self, "prompt_template").choices = choices("prompt_template", optional=True)
        choice_field(self, "guardrail_set").choices = choices("guardrail_set", optional=True)

    def versions(self) -> dict:
        data, pick = self.cleaned_data, self.submitted
        return {
            "threshold_set": pick["threshold_set"][data["threshold_set"]],
            "engine_configs": [pick["engine_config"][n] for n in data["engine_configs"]],
            "prompt_template": pick["prompt_template"][data["prompt_template"]] if data["prompt_template"] else None,
            "guardrail_set": pick["guardrail_set"][data["guardrail_set"]] if data["guardrail_set"] else None,
            "note": data["note"],
        }


def _version_choice_label(version) -> str:
    note = f" — {version.change_note.splitlines()[0][:60]}" if version.change_note else ""
    return f"v{version.number}{note}"


# --- Change requests ---------------------------------------------------------------------------------

class LabelMoveForm(ChangeRequestTextForm):
    label = forms.ChoiceField(label=_("Label"), choices=Label.choices)
    release = forms.TypedChoiceField(label=_("Release"), coerce=int)

    field_order = ["label", "release", "title", "description"]

    def __init__(self, *args, releases, **kwargs):
        self.releases = {release.number: release for release in releases}
        super().__init__(*args, **kwargs)
        choice_field(self, "release").choices = [(n, f"R{n}" + (f" — {r.note.splitlines()[0][:60]}" if r.note else ""))
                                          for n, r in self.releases.items()]

    def payload(self) -> dict:
        return {"label": self.cleaned_data["label"], "release_id": self.releases[self.cleaned_data["release"]].pk}


class StatusChangeForm(ChangeRequestTextForm):
    to = forms.ChoiceField(label=_("New status"))

    field_order = ["to", "title", "description"]

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "to").choices = [(value, UseCaseStatus(value).label) for value in UseCaseStatus.values
                                     if value in targets]

    def payload(self) -> dict:
        return {"to": self.cleaned_data["to"]}


class CatalogueChangeForm(ChangeRequestTextForm):
    """A new catalogue entry, or a change to one; the change request names only what differs."""

    key = forms.SlugField(label=_label(CatalogueEntry, "key"), max_length=60)
    kind = forms.ChoiceField(label=_label(CatalogueEntry, "kind"), choices=CatalogueKind.choices)
    connector_type = forms.ChoiceField(label=_label(CatalogueEntry, "connector_type"), required=False,
                                       choices=[("", "—"), *ConnectorType.choices],
                                       help_text=_("Connectors only: how work arrives or results leave."))
    direction = forms.ChoiceField(label=_label(CatalogueEntry, "direction"), required=False,
                                  choices=[("", "—"), *ConnectorDirection.choices],
                                  help_text=_("Connectors only."))
    name = forms.CharField(label=_label(CatalogueEntry, "name"), max_length=200)
    vendor = forms.CharField(label=_label(CatalogueEntry, "vendor"), max_length=200, required=False)
    method = forms.CharField(label=_label(CatalogueEntry, "method"), max_length=60, required=False,
                             help_text=_help(CatalogueEntry, "method"))
    endpoint = forms.CharField(label=_label(CatalogueEntry, "endpoint"), max_length=500, required=False)
    location = forms.CharField(label=_label(CatalogueEntry, "location"), max_length=120, required=False)
    transfer_basis = forms.ChoiceField(label=_label(CatalogueEntry, "transfer_basis"), choices=TransferBasis.choices)
    dpa_reference = forms.CharField(label=_label(CatalogueEntry, "dpa_reference"), max_length=200, required=False)
    approved_categories = forms.MultipleChoiceField(label=_label(CatalogueEntry, "approved_categories"),
                                                    required=False, widget=forms.CheckboxSelectMultiple)
    settings = JsonObjectField(label=_label(CatalogueEntry, "settings"),
                               help_text=_("Settings that are not secret, e.g. the model name or a folder."))
    is_active = forms.BooleanField(label=_label(CatalogueEntry, "is_active"), required=False, initial=True)
    # The settings of a file drop and of an e-mail connector, as fields (they are written into `settings`;
    # the rarer ones — delimiter, decimal, bom, timeout — stay in the JSON above).
    file_format = forms.ChoiceField(label=_("File format"), required=False,
                                    choices=[("csv", "CSV"), ("jsonl", "JSON Lines")],
                                    help_text=_("File drop only: CSV for spreadsheet-like imports, JSON Lines with "
                                                "the whole result per line."))
    file_profile = forms.ChoiceField(
        label=_("Number and date format"), required=False,
        choices=[("standard", _("Standard: comma-separated, decimal point, ISO dates (2026-12-31)")),
                 ("de", _("German Excel: semicolon-separated, decimal comma, 31.12.2026, UTF-8 with BOM"))],
        help_text=_("File drop only."))
    file_columns = forms.CharField(
        label=_("CSV columns"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=lazy(lambda: format_html(
            str(_("File drop only. One per line: header = field by its technical name, e.g. {example} (or {fixed}). "
                  "Empty: delivery id, item, use case, status and every output field.")),
            example=format_html('Rechnungsnummer = <code class="technical">{}</code>', "invoice_number"),
            fixed=format_html_join(", ", '<code class="technical">{}</code>',
                                   [(c,) for c in ("delivery_id", "id", "use_case", "status", "timestamp")])),
            SafeString)())
    file_batch = forms.ChoiceField(
        label=_("Files"), required=False,
        choices=[("item", _("One file per result")), ("interval", _("One file per interval with every result"))],
        help_text=_("File drop only."))
    file_interval = forms.IntegerField(label=_("Interval (seconds)"), required=False, min_value=MIN_INTERVAL,
                                       max_value=MAX_INTERVAL, help_text=_("File drop per interval only."))
    email_from = forms.EmailField(label=_("Sender address"), required=False,
                                  help_text=_("E-mail only. Empty: the portal's sender address."))
    email_reply_field = forms.CharField(label=_("Field with the reply"), required=False, max_length=60,
                                        help_text=_("E-mail only: the output field sent (default reply). The AI "
                                                    "disclosure line comes from this field's documentation."))
    email_recipient_field = forms.CharField(label=_("Field with the recipient"), required=False, max_length=60,
                                            help_text=lazy(lambda: format_html(
                                                str(_("E-mail only: the input field with the address answered, by "
                                                      "its technical name (default {default}).")),
                                                default=format_html('<code class="technical">{}</code>',
                                                                    "sender_email")), SafeString)())

    field_order = ["key", "kind", "connector_type", "direction", "name", "vendor", "method", "endpoint", "location",
                   "transfer_basis", "dpa_reference", "approved_categories", "settings", "file_format",
                   "file_profile", "file_columns", "file_batch", "file_interval", "email_from", "email_reply_field",
                   "email_recipient_field", "is_active", "title", "description"]
    FIELDS = ("kind", "connector_type", "direction", "name", "vendor", "method", "endpoint", "location",
              "transfer_basis", "dpa_reference", "approved_categories", "settings", "is_active")
    # form field -> settings key, per connector type
    TYPE_SETTINGS: dict[str, dict[str, str]] = {
        ConnectorType.FILE_DROP: {"file_format": "format", "file_profile": "profile", "file_columns": "columns",
                                  "file_batch": "batch", "file_interval": "interval"},
        ConnectorType.EMAIL: {"email_from": "from_email", "email_reply_field": "reply_field",
                              "email_recipient_field": "recipient_field"},
    }

    def __init__(self, *args, categories: list[str], entry: CatalogueEntry | None = None, **kwargs):
        self.entry = entry
        if entry is not None:
            initial = kwargs.setdefault("initial", {})
            initial.update({name: getattr(entry, name) for name in ("key",) + self.FIELDS})
            for field, key in self.TYPE_SETTINGS.get(entry.connector_type, {}).items():
                if key in (entry.settings or {}):
                    value = entry.settings[key]
                    initial[field] = _columns_text(value) if key == "columns" else value
        super().__init__(*args, **kwargs)
        choice_field(self, "approved_categories").choices = [(c, category_label(c)) for c in categories]
        if entry is not None:
            self.fields["key"].disabled = True

    def clean_file_columns(self):
        text = self.cleaned_data.get("file_columns") or ""
        columns = []
        for line in text.splitlines():
            if not line.strip():
                continue
            header, sep, value = line.partition("=")
            header, value = header.strip(), value.strip()
            if not sep:
                header, value = line.strip(), line.strip()
            if not value:
                raise forms.ValidationError(_("Write each line as: header = field"))
            columns.append({"header": header or value, "value": value})
        return columns

    def _settings(self) -> dict:
        """The JSON settings with the connector type's own fields written in (a field left empty keeps what
        the JSON says)."""
        data = self.cleaned_data
        settings = dict(data.get("settings") or {})
        for field, key in self.TYPE_SETTINGS.get(str(data.get("connector_type")), {}).items():
            value = data.get(field)
            if value not in (None, "", []):
                settings[key] = value
        return settings

    def clean(self):
        data = super().clean()
        if data.get("kind") == CatalogueKind.CONNECTOR and data.get("connector_type"):
            try:
                connector_settings_validate(connector_type=data["connector_type"], direction=data.get("direction"),
                                            endpoint=data.get("endpoint") or "", settings=self._settings())
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def payload(self) -> dict:
        data = self.cleaned_data
        fields = {name: data[name] for name in self.FIELDS}
        fields["settings"] = self._settings()
        if self.entry is not None:
            fields = {name: value for name, value in fields.items() if getattr(self.entry, name) != value}
        return {"key": data["key"], "fields": fields}


def _columns_text(columns) -> str:
    lines = []
    for column in columns or []:
        if isinstance(column, str):
            lines.append(column)
        elif isinstance(column, dict):
            value = column.get("value", "")
            header = column.get("header", value)
            lines.append(value if header == value else f"{header} = {value}")
    return "\n".join(lines)


class TenantPolicyChangeForm(ChangeRequestTextForm):
    """The control settings that could weaken a control; the request names only what differs."""

    allow_dual_role = forms.BooleanField(label=_label(TenantPolicy, "allow_dual_role"), required=False,
                                         help_text=_help(TenantPolicy, "allow_dual_role"))
    standard_change_kinds = forms.MultipleChoiceField(label=_label(TenantPolicy, "standard_change_kinds"),
                                                      required=False, choices=STANDARD_CHANGE_KINDS,
                                                      widget=forms.CheckboxSelectMultiple)
    standard_threshold_delta = forms.DecimalField(label=_label(TenantPolicy, "standard_threshold_delta"),
                                                  min_value=0, max_value=1, decimal_places=3)
    bulk_approval_allowed = forms.BooleanField(label=_label(TenantPolicy, "bulk_approval_allowed"), required=False)
    sample_check_share = forms.DecimalField(label=_label(TenantPolicy, "sample_check_share"), min_value=0,
                                            max_value=1, decimal_places=3)
    works_agreement_reference = forms.CharField(
        label=_label(TenantPolicy, "works_agreement_reference"), max_length=200, required=False,
        help_text=_("With a works agreement recorded, figures per person are shown; the works council approves."))
    min_group_size = forms.IntegerField(label=_label(TenantPolicy, "min_group_size"), min_value=1, required=False,
                                        help_text=_("The works council approves a change."))

    field_order = list(TenantPolicy.WEAKENING_FIELDS) + ["title", "description"]

    def __init__(self, *args, policy: TenantPolicy, **kwargs):
        self.policy = policy
        kwargs.setdefault("initial", {}).update({name: getattr(policy, name) for name in TenantPolicy.WEAKENING_FIELDS})
        super().__init__(*args, **kwargs)

    def payload(self) -> dict:
        payload = {}
        for name in TenantPolicy.WEAKENING_FIELDS:
            value = self.cleaned_data[name]
            before = getattr(self.policy, name)
            if value is None:  # left empty: unchanged
                continue
            if isinstance(value, Decimal):
                if Decimal(str(before)) != value:
                    payload[name] = str(value)
            elif value != before:
                payload[name] = value
        return payload


class TenantPolicyDetailsForm(forms.Form):
    """Controller details, measures and the data category vocabulary: edited directly (audited and
    historised); the control settings have their own change request form."""

    controller_name = forms.CharField(label=_label(TenantPolicy, "controller_name"), max_length=200, required=False)
    controller_contact = forms.CharField(label=_label(TenantPolicy, "controller_contact"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}))
    dsb_contact = forms.CharField(label=_label(TenantPolicy, "dsb_contact"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    technical_measures = forms.CharField(label=_label(TenantPolicy, "technical_measures"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 5}))
    data_categories = LinesField(label=_label(TenantPolicy, "data_categories"), required=True,
                                 help_text=_("One per line; fields and catalogue entries choose from these."))
    change_request_expiry_days = forms.IntegerField(label=_label(TenantPolicy, "change_request_expiry_days"),
                                                    min_value=1)
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("Recorded with the change in the history and the audit log."))

    FIELDS = ("controller_name", "controller_contact", "dsb_contact", "technical_measures", "data_categories",
              "change_request_expiry_days")

    def __init__(self, *args, policy: TenantPolicy, **kwargs):
        self.policy = policy
        kwargs.setdefault("initial", {}).update({name: getattr(policy, name) for name in self.FIELDS})
        super().__init__(*args, **kwargs)

    def clean(self):
        # The control settings are not fields of this form; a value posted for one of them is refused
        # (not silently dropped), so nobody believes they changed it.
        posted = sorted(name for name in TenantPolicy.WEAKENING_FIELDS
                        if name in self.data and str(self.data[name]) != str(getattr(self.policy, name)))
        if posted:
            raise forms.ValidationError(_("These settings change only through a change request: %(f)s")
                                        % {"f": ", ".join(posted)})
        return super().clean()

    def clean_data_categories(self):
        categories = self.cleaned_data["data_categories"]
        if len(set(categories)) != len(categories):
            raise forms.ValidationError(_("Each category once."))
        return categories

    def changed_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS
                if getattr(self.policy, name) != self.cleaned_data[name]}


class DecisionForm(forms.Form):
    """Approve or reject in one of the roles the approver holds and the request still needs."""

    role = forms.ChoiceField(label=_("In the role of"))
    decision = forms.ChoiceField(label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))],
                                 widget=forms.RadioSelect, initial="approve")
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Required when you reject."))

    def __init__(self, *args, roles: list[tuple[str, str]], briefing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "role").choices = roles
        if len(roles) == 1:
            self.fields["role"].initial = roles[0][0]
        # A change that alters the clerks' briefing: the automation lead decides whether clerks confirm again.
        if briefing and any(role == Role.AUTOMATION_LEAD for role, _label in roles):
            self.fields["briefing_reconfirm"] = forms.ChoiceField(
                label=_("Clerks' briefing"), required=False, widget=forms.RadioSelect,
                choices=[("yes", _("Clerks confirm the briefing again before their next task")),
                         ("no", _("Clerks keep working; they are told what changed"))],
                help_text=_("Decided by the automation lead when approving; clerks are told on their home page "
                            "and by e-mail either way."))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say why you reject the change."))
        if ("briefing_reconfirm" in self.fields and data.get("decision") == "approve"
                and data.get("role") == Role.AUTOMATION_LEAD and not data.get("briefing_reconfirm")):
            self.add_error("briefing_reconfirm", _("Decide whether clerks confirm the briefing again."))
        return data


class RegistryImportForm(forms.Form):
    file = forms.FileField(label=_("Registry file (JSON)"),
                           help_text=_("A file written by the registry export of this or another installation."))
