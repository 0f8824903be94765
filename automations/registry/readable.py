"""Stored registry values as lines people read: field names by their labels, choices by their names,
engines by name, numbers in the reader's locale, nested settings as indented "label: value" lines instead
of JSON. Versions, releases, change requests, the use case's history and the procedure documentation show
these lines; two renderings still differ exactly where the content differs (every value is written out,
in a fixed order).

A line holding text in another language than the page (a field's English label or help) is a `Line` with
`lang` set, so that pages mark it as such."""
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from automations.choices import FieldType, IntegrationKind, LegalBasis, RiskTier, UseCaseStatus
from automations.fields import category_label, choice_label, engine_label, localized_text


class Line(str):
    """One rendered line; `lang` names its language where it is not the page's."""

    lang: str = ""

    def __new__(cls, text: str, lang: str = ""):
        line = super().__new__(cls, text)
        line.lang = lang
        return line


CHOICES = {"status": UseCaseStatus, "risk_tier": RiskTier, "legal_basis": LegalBasis}
FIELD_LIST_NAMES = {"fields", "declared_fields"}
FIELD_NAMES = {"output_field"}
SPEC_LISTS = {"input_fields", "output_fields"}
TARGET_LABELS = {"min_precision": gettext_lazy("Minimum precision"),
                 "max_correction_rate": gettext_lazy("Maximum correction rate"),
                 "min_automation_share": gettext_lazy("Minimum share handled automatically")}
THRESHOLD_LABELS = {"auto": gettext_lazy("applied automatically from"), "reject": gettext_lazy("dropped below")}
# An engine's parameters by name (the rules engine's rules, a model's settings); others as written.
PARAMETER_LABELS = {
    "field": pgettext_lazy("engine parameter", "field"), "default": pgettext_lazy("engine parameter", "default"),
    "rules": pgettext_lazy("engine parameter", "rules"), "category": pgettext_lazy("engine parameter", "value"),
    "name": pgettext_lazy("engine parameter", "name"), "keywords": pgettext_lazy("engine parameter", "keywords"),
    "patterns": pgettext_lazy("engine parameter", "patterns"), "weight": pgettext_lazy("engine parameter", "weight"),
    "text_fields": pgettext_lazy("engine parameter", "text fields"),
    "fields": pgettext_lazy("engine parameter", "fields"),
    "temperature": pgettext_lazy("engine parameter", "temperature"),
}
# Parameters whose value is a value of the field the parameters name ("field"), or names fields.
CHOICE_PARAMETERS = {"category", "default"}
LANGUAGE_NAMES = {"de": pgettext_lazy("language of a text", "German"),
                  "en": pgettext_lazy("language of a text", "English")}


def number(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return formats.number_format(value, use_l10n=True)


def scalar(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return number(value)
    return str(value)


class Renderer:
    """Knows the use case's fields (for their labels); renders one stored value by its name."""

    def __init__(self, specs=None):
        self.specs = {s["name"]: s for s in specs or [] if isinstance(s, dict) and s.get("name")}

    def field(self, name) -> str:
        spec = self.specs.get(name)
        return localized_text(spec.get("label")) or str(name) if spec else str(name)

    def lines(self, name: str, value) -> list[Line]:
        """The value of the stored item `name` as lines (no label of its own); a catalogue entry's item
        "<entry key>.<field>" by its field."""
        name = str(name).rsplit(".", 1)[-1]
        if value is None or value in ("", [], {}):
            return [Line("—")]
        if name in CHOICES and isinstance(value, str):
            try:
                return [Line(str(CHOICES[name](value).label))]
            except ValueError:
                return [Line(value)]
        if name == "engine":
            return [Line(engine_label(value))]
        if name in FIELD_NAMES and isinstance(value, str):
            return [Line(self.field(value))]
        if name in FIELD_LIST_NAMES and isinstance(value, list):
            return [Line(", ".join(self.field(v) for v in value))]
        if name == "thresholds" and isinstance(value, dict):
            return self.thresholds(value)
        if name == "quality_targets" and isinstance(value, dict):
            return self.targets(value)
        if name == "integration_points" and isinstance(value, list):
            return [Line(self.integration_point(p)) for p in value]
        if name in SPEC_LISTS and isinstance(value, list):
            return self.field_specs(value)
        if name == "approved_categories" and isinstance(value, list):
            return [Line(", ".join(category_label(c) for c in value))]
        if isinstance(value, str):
            return [Line(line) for line in value.splitlines()] or [Line("")]
        return self.generic(value)

    def thresholds(self, value: dict) -> list[Line]:
        lines = []
        for field_name in sorted(value, key=str):
            pair = value[field_name]
            if isinstance(pair, dict):
                text = ", ".join(f"{THRESHOLD_LABELS.get(k, k)} {scalar(v)}" for k, v in sorted(pair.items()))
            else:
                text = scalar(pair)
            lines.append(Line(f"{self.field(field_name)}: {text}"))
        return lines

    def targets(self, value: dict) -> list[Line]:
        lines = []
        for key, target in value.items():
            label = TARGET_LABELS.get(key, key)
            if isinstance(target, dict):
                lines += [Line(f"{label} {self.field(f)}: {scalar(share)}") for f, share in sorted(target.items())]
            else:
                lines.append(Line(f"{label}: {scalar(target)}"))
        return lines

    @staticmethod
    def integration_point(point) -> str:
        if not isinstance(point, dict):
            return str(point)
        try:
            kind = str(IntegrationKind(str(point.get("kind", ""))).label)
        except ValueError:
            kind = str(point.get("kind", ""))
        return f"{kind}: {point.get('system', '')}"

    def field_specs(self, specs: list) -> list[Line]:
        """Each field as its label, then its settings indented, texts per language marked with it."""
        lines = []
        for spec in specs:
            if not isinstance(spec, dict):
                lines.append(Line(str(spec)))
                continue
            lines.append(Line(localized_text(spec.get("label")) or str(spec.get("name", ""))))
            try:
                kind = str(FieldType(spec.get("type", FieldType.TEXT)).label)
            except ValueError:
                kind = str(spec.get("type", ""))
            facts = [kind, _("required") if spec.get("required") else _("optional")]
            if spec.get("title"):
                facts.append(_("shown in lists"))
            if spec.get("personal_data"):
                facts.append(_("personal data: %(category)s") % {"category": category_label(spec.get("category"))})
            if spec.get("send_to_model") is False:
                facts.append(_("never sent to a model"))
            lines.append(Line("    " + ", ".join(facts)))
            for text_key, text_label in (("label", _("Field label")), ("help", _("Help text"))):
                texts = spec.get(text_key)
                if isinstance(texts, dict):
                    for lang in sorted(texts):
                        lines.append(Line(f"    {text_label} ({LANGUAGE_NAMES.get(lang, lang)}): {texts[lang]}",
                                          lang=lang if lang != "de" else ""))
                elif texts:
                    lines.append(Line(f"    {text_label}: {texts}"))
            if spec.get("choices"):
                shown = ", ".join(localized_text((spec.get("choice_labels") or {}).get(str(c))) or str(c)
                                  for c in spec["choices"])
                lines.append(Line(f"    {_('Choices')}: {shown}"))
                for _choice, texts in sorted((spec.get("choice_labels") or {}).items()):
                    if isinstance(texts, dict):
                        for lang in sorted(k for k in texts if k != "de"):
                            lines.append(Line(f"    {LANGUAGE_NAMES.get(lang, lang)}: {texts[lang]}", lang=lang))
            if spec.get("reference"):
                lines.append(Line(f"    {_('Master data reference')}: {reference_label(spec['reference'])}"))
            if spec.get("validation"):
                rules = ", ".join(f"{k}: {scalar(v)}" for k, v in sorted(spec["validation"].items()))
                lines.append(Line(f"    {_('Validation')}: {rules}"))
            if spec.get("disclosure"):
                for lang, text in sorted(_texts(spec["disclosure"]).items()):
                    lines.append(Line(f"    {_('AI disclosure')} ({LANGUAGE_NAMES.get(lang, lang)}): {text}",
                                      lang=lang if lang != "de" else ""))
        return lines

    def parameter(self, key, inner, field_name):
        """One parameter's value as people read it: a field by its label, a value of the field by its name."""
        if key == "field" and isinstance(inner, str):
            return self.field(inner)
        if key in CHOICE_PARAMETERS and field_name and isinstance(inner, str):
            return choice_label(self.specs.get(field_name), inner)
        if key in FIELD_LIST_NAMES | {"text_fields"} and isinstance(inner, list):
            return ", ".join(self.field(v) for v in inner) or "—"
        return None

    def generic(self, value, indent: str = "", field_name: str | None = None) -> list[Line]:
        if isinstance(value, dict):
            if isinstance(value.get("field"), str) and value["field"] in self.specs:
                field_name = value["field"]
            lines = []
            for key in sorted(value, key=str):
                inner = value[key]
                label = capfirst(str(PARAMETER_LABELS.get(key) or (self.field(key) if key in self.specs else key)))
                shown = self.parameter(key, inner, field_name)
                if shown is not None:
                    lines.append(Line(f"{indent}{label}: {shown}"))
                elif isinstance(inner, dict | list) and inner:
                    lines.append(Line(f"{indent}{label}:"))
                    lines += self.generic(inner, indent + "    ", field_name)
                else:
                    lines.append(Line(f"{indent}{label}: {scalar(inner) if inner not in ([], {}) else '—'}"))
            return lines or [Line(f"{indent}—")]
        if isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                return [Line(f"{indent}{scalar(v)}") for v in value] or [Line(f"{indent}—")]
            lines = []
            for inner in value:
                lines += self.generic(inner, indent, field_name)
            return lines
        return [Line(f"{indent}{scalar(value)}")]


def _texts(value) -> dict:
    return value if isinstance(value, dict) else {"de": str(value)}


REFERENCE_LABELS = {"supplier": gettext_lazy("Supplier"), "customer": gettext_lazy("Customer")}
REFERENCE_FIELDS = {"number": gettext_lazy("number"), "name": gettext_lazy("name"), "vat_id": gettext_lazy("VAT id"),
                    "iban": gettext_lazy("IBAN"), "email": gettext_lazy("e-mail address")}


def reference_label(reference: str) -> str:
    """A master data reference ("supplier.vat_id") as people name it ("Lieferant: USt-IdNr.")."""
    kind, _dot, attribute = str(reference).partition(".")
    if kind not in REFERENCE_LABELS or attribute not in REFERENCE_FIELDS:
        return str(reference)
    return f"{REFERENCE_LABELS[kind]}: {REFERENCE_FIELDS[attribute]}"


def labelled(label, lines: list[Line], *, inline: bool = True) -> list[Line]:
    """`label: value` for a one-line value (`inline`), else the label and the value's lines indented — a list
    always so, so that adding a second entry reads as one added line."""
    label = capfirst(str(label))
    if inline and len(lines) == 1:
        return [Line(f"{label}: {lines[0]}", lang=lines[0].lang)]
    return [Line(f"{label}:")] + [Line(f"    {line}", lang=line.lang) for line in lines]


def version_lines(version) -> list[Line]:
    """A version's content, item by item in the record's order, each under its German name."""
    renderer = Renderer(specs=_use_case_specs(version.use_case))
    lines: list[Line] = []
    for name, value in version.content().items():
        lines += labelled(version._meta.get_field(name).verbose_name, renderer.lines(name, value),
                          inline=not isinstance(value, list) or not value)
    return lines


def _use_case_specs(use_case) -> list:
    return [*(use_case.input_fields or []), *(use_case.output_fields or [])] if use_case is not None else []


def value_lines(name: str, value, use_case=None) -> list[Line]:
    """One stored item of a use case or tenant setting (a change request's or the history's before/after)."""
    return Renderer(specs=_use_case_specs(use_case)).lines(name, value)
