"""How a use case's fields read for people: label, help text and choice labels in the reader's language
(kept in the field schema, versioned with the use case), the fields that identify an item ("title"
fields), and values written in the reader's locale (German: 260,20 €, 06.12.2026).

A field spec may carry
    "label": {"de": "Rechnungsnummer", "en": "Invoice number"}   (or one plain string)
    "help": {"de": "…", "en": "…"}
    "choice_labels": {"invoice": {"de": "Rechnung", "en": "Invoice"}, …}
    "title": true                       (shown in lists to tell items apart)
Without them the field's name stands in, so older schemas keep working."""
import datetime
from decimal import Decimal, InvalidOperation

from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from automations.choices import Engine

LANGUAGES = ("de", "en")
# Fields whose value is an amount in the item's currency (written with the currency sign).
AMOUNT_FIELDS = frozenset({"net_total", "tax_total", "gross_total", "amount_due", "amount"})
CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


# The default vocabulary of personal data categories, by label; a tenant's own categories read as written.
CATEGORY_LABELS = {
    "contact": _("Contact details"), "bank": _("Bank details"), "contract": _("Contract data"),
    "employee": _("Employee data"), "customer_history": _("Customer history"),
    "identification": _("Identification data"),
    "health": _("Health data (Art. 9 GDPR)"), "other": _("Other personal data"),
}


def category_label(key) -> str:
    return str(CATEGORY_LABELS.get(key, key or ""))


def _language(language: str | None) -> str:
    return (language or get_language() or "de").split("-")[0]


def localized_text(value, language: str | None = None) -> str:
    """A text kept per language ({"de": …, "en": …}) in the reader's language, else German, else any."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    lang = _language(language)
    for key in (lang, "de", "en"):
        if isinstance(value.get(key), str) and value[key].strip():
            return value[key]
    return next((v for v in value.values() if isinstance(v, str) and v.strip()), "")


def field_label(spec: dict | None, name: str = "", language: str | None = None) -> str:
    spec = spec or {}
    return localized_text(spec.get("label"), language) or spec.get("name") or name


def field_help(spec: dict | None, language: str | None = None) -> str:
    return localized_text((spec or {}).get("help"), language)


def choice_label(spec: dict | None, value, language: str | None = None) -> str:
    if value in (None, ""):
        return ""
    labels = (spec or {}).get("choice_labels") or {}
    return localized_text(labels.get(str(value)), language) or str(value)


def choice_options(spec: dict | None, language: str | None = None) -> list[tuple[str, str]]:
    return [(str(c), choice_label(spec, c, language)) for c in (spec or {}).get("choices") or []]


def engine_label(key) -> str:
    """An engine by its name for people ("E-Rechnungs-Auslese"), not its key."""
    try:
        return str(Engine(key).label)
    except ValueError:
        return str(key or "")


def labels_by_name(specs) -> dict[str, str]:
    return {str(s.get("name")): field_label(s) for s in specs or [] if isinstance(s, dict)}


def technical_names(specs, names=None) -> SafeString:
    """Fields by label, each with its technical name marked as such — for the core team's forms where a file's
    column names must be those names: 'Belegart (technischer Name: <code class="technical">document_class</code>)'."""
    by_name = {s.get("name"): s for s in specs or [] if isinstance(s, dict) and s.get("name")}
    wanted = [n for n in (names if names is not None else by_name) if n]
    return format_html_join(", ", '{} <code class="technical" title="{}">{}</code>',
                            ((field_label(by_name.get(n), n), gettext("technical name"), n) for n in wanted))


def title_field_names(specs) -> list[str]:
    """The fields marked to identify an item in lists, in schema order."""
    return [s["name"] for s in specs or [] if isinstance(s, dict) and s.get("title") and s.get("name")]


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def format_value(spec: dict | None, value, *, currency: str | None = None) -> str:
    """A value as the reader expects it: amounts with two decimals in the locale and the currency sign,
    decimals and integers in the locale, dates in the locale's short form, choices by their label."""
    if value is None or value == "":
        return ""
    spec = spec or {}
    kind, name = spec.get("type"), spec.get("name", "")
    if kind == "category":
        return choice_label(spec, value)
    if kind == "boolean" or isinstance(value, bool):
        truthy = value is True or str(value).lower() in ("true", "1", "yes", "ja")
        return gettext("yes") if truthy else gettext("no")
    if kind in ("decimal", "integer"):
        number = _decimal(value)
        if number is None:
            return str(value)
        if kind == "integer" and number == number.to_integral_value():
            return formats.number_format(int(number), use_l10n=True, force_grouping=True)
        if name in AMOUNT_FIELDS:
            text = formats.number_format(number, 2, use_l10n=True, force_grouping=True)
            sign = CURRENCY_SIGNS.get((currency or "EUR").upper(), (currency or "").upper())
            return f"{text} {sign}".strip()
        return formats.number_format(number, use_l10n=True, force_grouping=True)
    if kind == "date":
        return date_shown(value)
    return str(value)


def date_shown(value) -> str:
    """A date (or an ISO date or timestamp, as an export's JSON keeps it) in the active language's short form
    ("26.10.2026"); what is not a date is shown as it is."""
    try:
        date = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return formats.date_format(date, "SHORT_DATE_FORMAT", use_l10n=True)


def moment_shown(value) -> str:
    """A timestamp (or its ISO form) in the local time zone and the active language's short form
    ("07.12.2026 05:23"); what is not a timestamp is shown as it is."""
    try:
        moment = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT", use_l10n=True)


def item_title_parts(specs, fields: dict, *, limit: int = 4) -> list[tuple[str, str]]:
    """(label, shown value) of an item's title fields, from its field values ({name: {"value": …}})."""
    by_name = {s.get("name"): s for s in specs or [] if isinstance(s, dict)}
    currency = ((fields or {}).get("currency") or {}).get("value") if isinstance(fields, dict) else None
    parts = []
    for name in title_field_names(specs):
        entry = (fields or {}).get(name)
        value = entry.get("value") if isinstance(entry, dict) else entry
        if value in (None, ""):
            continue
        parts.append((field_label(by_name[name]), format_value(by_name[name], value, currency=currency)))
        if len(parts) >= limit:
            break
    return parts
