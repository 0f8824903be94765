"""How much an item may bring in. Every text input field has a limit in characters — 100,000 unless its
declaration in the use case's field schema says otherwise (`"validation": {"max_length": N}`, at most
1,000,000) — and the text the engines read from an item's files has one too (PIPELINE_MAX_TEXT_CHARS).

Intake refuses a payload over its limits with the reason (the API answers 422); an item that was accepted
and turns out too large (the text of its files, or a limit lowered since) is kept and goes to clarification
with the reason instead of being given to the engines."""
import json

from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_FIELD_MAX_CHARS = 100_000
FIELD_MAX_CHARS_CEILING = 1_000_000


def field_max_chars(spec: dict | None) -> int:
    """The limit of one input field: its declared `validation.max_length`, else the default."""
    rule = (spec or {}).get("validation") or {}
    declared = rule.get("max_length") if isinstance(rule, dict) else None
    return int(declared) if isinstance(declared, int) and not isinstance(declared, bool) and declared > 0 \
        else DEFAULT_FIELD_MAX_CHARS


def value_length(value) -> int:
    """Characters of a value as the engines see it: a text as it is, anything else as JSON."""
    if isinstance(value, str):
        return len(value)
    return len(json.dumps(value, ensure_ascii=False, default=str))


def too_long_message(name: str, length: int, limit: int) -> str:
    return _("%(field)s has %(length)s characters; at most %(limit)s are accepted for this field.") % {
        "field": name, "length": f"{length:,}".replace(",", "."), "limit": f"{limit:,}".replace(",", ".")}


def field_limits(use_case) -> dict:
    """Field name -> its limit in characters, for the fields the use case declares."""
    return {spec.get("name"): field_max_chars(spec) for spec in use_case.input_fields or [] if isinstance(spec, dict)}


def payload_problems(use_case, payload, *, limits: dict | None = None) -> dict[str, str]:
    """Field name -> why its value is too large, for every value of the payload over its field's limit
    (fields the use case does not declare have the default limit). `limits`: field_limits(use_case), for a
    caller that checks many payloads of one use case (the bulk import) and reads the declarations once."""
    if not isinstance(payload, dict):
        return {}
    limits = field_limits(use_case) if limits is None else limits
    problems = {}
    for name, value in payload.items():
        limit = limits.get(name, DEFAULT_FIELD_MAX_CHARS)
        length = value_length(value)
        if length > limit:
            problems[str(name)] = too_long_message(str(name), length, limit)
    return problems


def text_limit() -> int:
    """Characters of file text the engines read for one item."""
    return settings.PIPELINE_MAX_TEXT_CHARS


def text_too_long_message(source: str, length: int) -> str:
    return _("The text of %(source)s has %(length)s characters, more than the %(limit)s that are processed "
             "automatically; please check the item by hand.") % {
        "source": source, "length": f"{length:,}".replace(",", "."),
        "limit": f"{text_limit():,}".replace(",", ".")}
