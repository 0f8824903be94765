"""From an approved prompt version and an item's input to the request a provider receives.

Only the fields the version declares are rendered; a declared field that is personal data goes out
only when the processor is approved for its category; e-mail addresses, phone numbers and IBANs in
free text are replaced by placeholders when the processor is not approved for contact or bank data.
Everything here is decided before any connection is made: a refusal sends nothing."""
import hashlib
import json
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from automations.engines.patterns import EMAIL, IBAN_TEXT, PHONE

_VARIABLE = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}")

# Placeholder, pattern, and the data category a processor must be approved for to see the original.
# IBANs first: their digit groups would otherwise look like phone numbers.
MASKS = (
    ("iban", "[IBAN]", IBAN_TEXT, "bank"),
    ("email", "[EMAIL]", EMAIL, "contact"),
    ("phone", "[PHONE]", PHONE, "contact"),
)

# Request keys of the official chat-completions schema a prompt version may set; anything else in
# PromptTemplateVersion.parameters is either engine-only ("samples") or ignored and reported.
REQUEST_PARAMETERS = ("temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty", "seed", "stop",
                      "top_logprobs")
ENGINE_PARAMETERS = ("samples",)

JSON_INSTRUCTION = "Respond with one JSON object only, conforming to this JSON Schema:\n"


@dataclass
class PreparedPrompt:
    messages: list[dict] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    masked: dict[str, int] = field(default_factory=dict)  # kind -> how many values were replaced
    prompt_hash: str = ""
    stored_text: str = ""  # fully masked, whatever the processor may see: what store_masked_prompts keeps

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


# The phone pattern also matches ISO dates ("2025-01-15"), which are no contact data and give the model
# useful context: they stay.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_text(text: str, kinds: set[str]) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    for kind, placeholder, pattern, _category in MASKS:
        if kind not in kinds:
            continue
        replaced = 0

        def substitute(match, placeholder=placeholder, kind=kind):
            nonlocal replaced
            if kind == "phone" and _ISO_DATE.fullmatch(match.group(0)):
                return match.group(0)
            replaced += 1
            return placeholder

        text = pattern.sub(substitute, text)
        if replaced:
            counts[kind] = replaced
    return text, counts


def kinds_to_mask(approved_categories) -> set[str]:
    approved = set(approved_categories or [])
    return {kind for kind, _p, _pattern, category in MASKS if category not in approved}


def render(template: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), ""), template)


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def processor_refusals(*, use_case, version, entry) -> list[str]:
    """Why this processor may not receive this prompt version's fields (empty: it may)."""
    key = version.processor_key
    if not key:
        return [_("The prompt version names no processor.")]
    if entry is None:
        return [_("Processor %(p)s is not an active processor in this tenant's catalogue: refused.") % {"p": key}]
    if not use_case.catalogue_entries.filter(pk=entry.pk).exists():
        return [_("Processor %(p)s is not documented for this use case: refused.") % {"p": key}]
    reasons = []
    specs = {f["name"]: f for f in use_case.input_fields}
    for name in version.declared_fields:
        spec = specs.get(name)
        if spec is None:
            reasons.append(_("Field %(f)s is not an input field of this use case: refused.") % {"f": name})
        elif spec.get("send_to_model") is False:
            reasons.append(_("Field %(f)s may not be sent to a model: refused.") % {"f": name})
        elif spec.get("personal_data") and spec.get("category") not in set(entry.approved_categories or []):
            reasons.append(_("Field %(f)s is personal data (%(c)s) and processor %(p)s is not approved for that "
                             "category: refused.") % {"f": name, "c": spec.get("category") or "?", "p": entry.key})
    used = set(_VARIABLE.findall(version.template)) | set(_VARIABLE.findall(version.system_prompt))
    undeclared = used - set(version.declared_fields)
    if undeclared:
        reasons.append(_("The template uses fields it does not declare: %(f)s") % {"f": ", ".join(sorted(undeclared))})
    return reasons


def prepare(*, use_case, version, entry, payload: dict) -> PreparedPrompt:
    prepared = PreparedPrompt(refusals=processor_refusals(use_case=use_case, version=version, entry=entry))
    if prepared.refused:
        return prepared
    to_mask = kinds_to_mask(entry.approved_categories)
    values = {}
    for name in version.declared_fields:
        values[name], counts = mask_text(_as_text(payload.get(name)), to_mask)
        for kind, n in counts.items():
            prepared.masked[kind] = prepared.masked.get(kind, 0) + n
    system = render(version.system_prompt, values).strip()
    if version.output_schema:
        schema = json.dumps(version.output_schema, ensure_ascii=False, sort_keys=True)
        system = (system + "\n\n" if system else "") + JSON_INSTRUCTION + schema
    if system:
        prepared.messages.append({"role": "system", "content": system})
    prepared.messages.append({"role": "user", "content": render(version.template, values)})
    finish(prepared)
    return prepared


def finish(prepared: PreparedPrompt) -> None:
    """Hash what is sent; keep a fully masked copy for storage (where the use case allows it)."""
    canonical = json.dumps(prepared.messages, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    prepared.prompt_hash = hashlib.sha256(canonical.encode()).hexdigest()
    every_kind = {kind for kind, *_rest in MASKS}
    prepared.stored_text = "\n\n".join(f"[{m['role']}]\n{mask_text(m['content'], every_kind)[0]}"
                                       for m in prepared.messages)


def request_body(*, version, model: str, messages: list[dict], json_output: bool, logprobs: bool) -> dict:
    """A request of the official chat-completions schema: no keys beyond it."""
    body: dict = {"model": model, "messages": [{"role": m["role"], "content": m["content"]} for m in messages]}
    parameters = version.parameters or {}
    for name in REQUEST_PARAMETERS:
        if name in parameters and parameters[name] is not None:
            body[name] = parameters[name]
    if json_output:
        body["response_format"] = {"type": "json_object"}
    if logprobs:
        body["logprobs"] = True
    else:
        body.pop("top_logprobs", None)  # only valid together with logprobs
    return body


def ignored_parameters(version) -> list[str]:
    return sorted(set(version.parameters or {}) - set(REQUEST_PARAMETERS) - set(ENGINE_PARAMETERS))
