"""The language model part of the demo: `service-tickets` suggests a reply only when a language model
provider is configured in the catalogue; without one, the use case runs on its other engines and says so.

For the demo seeder:
    setup = describe_reply_setup(tenant)           # automations.registry.selectors: is a provider configured?
    parts = llm_release_parts(use_case, actor)     # None without a provider; else the prompt and guardrail
                                                   # versions (submitted) and the engine configuration
    release_create(..., engine_configs=[..., <config from parts["engine_config"]>],
                   prompt_template=parts["prompt_template"], guardrail_set=parts["guardrail_set"])
Give `reply` no threshold: without one it is never applied automatically (a person sends every answer).
A provider can be added for the demo with demo_processor_ensure (through an approved catalogue change)."""

from typing import Any

from django.db import transaction

from automations.choices import CatalogueKind, ChangeKind, TransferBasis, UseCaseStatus
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import reply_processor
from automations.registry.services import changes, processors, use_cases, versions

REPLY_SCHEMA = {"type": "object", "properties": {"reply": {"type": "string", "minLength": 1, "maxLength": 1500}},
                "required": ["reply"], "additionalProperties": False}
DISCLAIMER = "Dieser Antwortvorschlag wurde mit KI erstellt"
REPLY_PROMPT = {
    "system_prompt": (
        "Du arbeitest im Kundenservice der Muster GmbH und schreibst einen kurzen, höflichen Antwortvorschlag "
        "auf Deutsch, den eine Kollegin vor dem Versand prüft. Sage nichts zu, was nur ein Mensch zusagen darf: "
        "keine Garantien, keine Erstattungen, keine rechtsverbindlichen Aussagen. Nenne keine E-Mail-Adressen, "
        "Telefonnummern oder Bankverbindungen. Beende die Antwort mit dem Satz: "
        f"„{DISCLAIMER} und wird vor dem Versand geprüft.“"),
    "template": "Betreff: {{ subject }}\n\nNachricht des Kunden:\n{{ body }}",
    "declared_fields": ["subject", "body"],
    "parameters": {"temperature": 0.3, "max_tokens": 600},
    "output_schema": REPLY_SCHEMA,
    "confidence_mode": "logprobs",
    "fixed_confidence": 0.5,
    "output_field": "reply",
}
REPLY_GUARDRAILS = {
    "forbidden_phrases": ["garantieren", "garantiert", "rechtsverbindlich", "wir erstatten", "Schadensersatz",
                          "kostenlos ersetzen"],
    "forbidden_patterns": [r"\bverbindlich\s+zu(?:sagen|gesagt|sichern|gesichert)\b",
                           r"\b(?:gutschrift|erstattung)\s+(?:ist|wird|wurde)\s+(?:veranlasst|angewiesen)\b"],
    "personal_data_patterns": ["email", "iban", "phone"],
    "required_disclaimers": [DISCLAIMER],
    "max_length": 1500,
}


def llm_release_parts(use_case, actor) -> dict | None:
    """Submitted prompt and guardrail versions for the `reply` field, and the llm engine configuration
    to bundle with them; None when no provider is configured. A draft use case gets the processor
    added to its documented processors (a running one needs a change request for that)."""
    entry = reply_processor(use_case.tenant)
    if entry is None:
        return None
    with transaction.atomic():
        if use_case.status == UseCaseStatus.DRAFT and not use_case.catalogue_entries.filter(pk=entry.pk).exists():
            use_case = use_cases.use_case_update(
                actor=actor, use_case=use_case, reason="Sprachmodell für Antwortvorschläge",
                values={"catalogue_entries": [*use_case.catalogue_entries.all(), entry]})
        prompt = versions.version_submit(actor=actor, version=versions.version_create(
            actor=actor, use_case=use_case, kind="prompt_template",
            content={**REPLY_PROMPT, "processor_key": entry.key, "model_name": ""},
            change_note="Antwortvorschlag (Demo)"))
        guardrails = versions.version_submit(actor=actor, version=versions.version_create(
            actor=actor, use_case=use_case, kind="guardrail_set", content=REPLY_GUARDRAILS,
            change_note="Keine verbindlichen Zusagen, keine personenbezogenen Daten, KI-Hinweis (Demo)"))
    return {"prompt_template": prompt, "guardrail_set": guardrails,
            "engine_config": {"engine": "llm", "fields": ["reply"], "parameters": {}}}


def demo_processor_ensure(tenant, users, *, base_url: str, model: str, api_key: str | None = None,
                          key: str = "demo-llm", name: str = "Sprachmodell (Demo)", location: str = "",
                          categories=(), vendor: str = "", dpa_reference: str = "",
                          transfer_basis: str = TransferBasis.EU_EEA) -> CatalogueEntry:
    """A processor for the demo, added like any other: a catalogue change request by the automation
    lead, approved by the second lead and the security officer (and the data protection officer when it
    is approved for personal data); IT stores its key. Idempotent."""
    existing = CatalogueEntry.objects.for_tenant(tenant).filter(key=key).first()
    if existing is not None:
        return existing
    lead = users["automation_lead"]
    cr = changes.change_request_create(
        actor=lead, tenant=tenant, kind=ChangeKind.CATALOGUE, title=f"Auftragsverarbeiter {name}",
        description="Demo: OpenAI-kompatibler Anbieter für Antwortvorschläge.",
        payload={"key": key, "fields": {
            "kind": CatalogueKind.PROCESSOR, "name": name, "vendor": vendor, "method": "openai-compatible",
            "endpoint": base_url, "location": location, "transfer_basis": transfer_basis,
            "dpa_reference": dpa_reference, "approved_categories": list(categories),
            "settings": {"model": model, "timeout": 60, "max_retries": 2}}})
    for role in cr.required_roles:
        approver = users["automation_lead_2"] if role == "automation_lead" else users[role]
        cr = changes.change_request_approve(actor=approver, change_request=cr, role=role, comment="Demo-Freigabe")
    entry = CatalogueEntry.objects.for_tenant(tenant).get(key=key)
    if api_key:
        processors.processor_secret_set(actor=users["it_operator"], entry=entry, api_key=api_key)
    return entry


# The quick start's language model provider, as the catalogue documents an approved one: who runs it, where,
# under which data processing agreement, and for which personal data. It is not wired into a release: the
# demo has no provider to call (no key, an address under .example), so tickets run without replies and the
# use case's page says so. Service tickets name it as their processor for reply suggestions, so the records
# of processing and the Art. 15 answer name it. A provider of one's own: demo_processor_ensure with its
# address and key, then a release with llm_release_parts.
DEMO_PROCESSOR: dict[str, Any] = {  # demo_processor_ensure's keyword arguments
    "key": "demo-llm", "name": "Sprachmodell (Demo)", "vendor": "Demo-KI GmbH (fiktiv)",
    "base_url": "https://llm.demo-ki.example/v1", "model": "demo-chat",
    "location": "Frankfurt am Main, Deutschland", "transfer_basis": TransferBasis.EU_EEA,
    "dpa_reference": "AV-Vertrag nach Art. 28 DSGVO mit der Demo-KI GmbH vom 01.10.2026 (Az. DS-2026-014)",
    # Ticket texts carry the customer's name and contact details; sender address and customer number are
    # never sent (send_to_model false), so customer history is not approved.
    "categories": ["contact"],
}
REPLY_USE_CASE = "service-tickets"


def seed(tenant, users) -> None:
    """The demo's processor in the catalogue, named by the service tickets. Idempotent: an existing entry
    and an existing naming are left alone."""
    spec = dict(DEMO_PROCESSOR)
    use_case = UseCase.objects.for_tenant(tenant).filter(key=REPLY_USE_CASE).first()
    if use_case is None:
        return
    with transaction.atomic():
        entry = demo_processor_ensure(tenant, users, **spec)
        named = sorted(use_case.catalogue_entries.values_list("key", flat=True))
        if entry.key in named:
            return
        lead = users["automation_lead"]
        cr = changes.change_request_create(
            actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
            title=f"{use_case.title}: Auftragsverarbeiter {entry.name}",
            description="Demo: der freigegebene Anbieter für Antwortvorschläge.",
            payload={"changes": {"catalogue_entries": named + [entry.key]}})
        for role in cr.required_roles:
            approver = users["automation_lead_2"] if role == "automation_lead" else users[role]
            cr = changes.change_request_approve(actor=approver, change_request=cr, role=role, comment="Demo-Freigabe")
