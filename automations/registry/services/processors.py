"""Processors (LLM providers of the catalogue) at run time: their API keys and their circuit breakers (the
record of every call is an execution record: automations.execution.services.llm_calls).

Settings of a processor entry (CatalogueEntry.settings, non-secret):
    model            default model name (a prompt version may name its own)
    timeout          seconds per attempt (30)
    max_retries      retries after the first attempt on 429, 5xx, timeouts (2)
    backoff          first backoff in seconds, doubled per retry (0.5)
    max_retry_wait   the longest Retry-After waited for (30)
    circuit_failures failed calls in a row that open the circuit (5)
    circuit_cooldown seconds an open circuit waits before one trial call (60)
    auth_header      "authorization" (Bearer, default) or "api-key" (Azure OpenAI)
"""
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.choices import CatalogueKind
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.processors import ProcessorCircuit, ProcessorSecret
from automations.registry.services import circuits, stored_secrets
from automations.registry.services.circuits import entry_setting

MAX_KEY_LENGTH = stored_secrets.MAX_SECRET_LENGTH


# --- API keys (automations.registry.services.stored_secrets) -----------------------------------------

def _api_key_valid(entry: CatalogueEntry, api_key: str) -> str:
    if not api_key or len(api_key) > MAX_KEY_LENGTH or any(c.isspace() for c in api_key):
        raise ValidationError(_("Enter the API key as one string without spaces."))
    return api_key


PROCESSOR_SECRETS = stored_secrets.secret_kind_register(stored_secrets.SecretKind(
    name="processor_secret", model=ProcessorSecret, catalogue_kind=CatalogueKind.PROCESSOR,
    permission="automations.change_processorsecret", label="processor",
    wrong_entry=gettext_lazy("Only a processor of the catalogue has an API key."), validate=_api_key_valid,
    title=gettext_lazy("processor API keys")))


def processor_secret_set(*, actor, entry: CatalogueEntry, api_key: str) -> ProcessorSecret:
    """Store (or replace) a processor's API key, encrypted. The plain key is neither returned nor
    logged; the audit trail holds its fingerprint only."""
    return stored_secrets.stored_secret_set(kind=PROCESSOR_SECRETS, actor=actor, entry=entry, plain=api_key)


def processor_secret_clear(*, actor, entry: CatalogueEntry) -> None:
    stored_secrets.stored_secret_clear(kind=PROCESSOR_SECRETS, actor=actor, entry=entry)


def processor_secrets_rotate(*, actor) -> int:
    """Re-encrypt every stored key that is not yet under the first configured field key (before the old key
    is removed from LEITPLANKE_FIELD_KEYS); returns how many were re-encrypted."""
    return stored_secrets.stored_secrets_rotate(actor=actor, kinds=[PROCESSOR_SECRETS]).total_rotated


def processor_api_key(*, entry: CatalogueEntry) -> str | None:
    """The decrypted key for an outgoing call (held in memory only), or None when none is stored
    (local providers such as Ollama need none)."""
    return stored_secrets.stored_secret_read(kind=PROCESSOR_SECRETS, entry=entry)


def processor_get(*, tenant, key: str) -> CatalogueEntry | None:
    """The tenant's active processor with this key, or None."""
    if not key:
        return None
    return (CatalogueEntry.objects.for_tenant(tenant)
            .filter(key=key, kind=CatalogueKind.PROCESSOR, is_active=True).first())


# --- circuit breaker (automations.registry.services.circuits) ----------------------------------------

def _probe_window(entry: CatalogueEntry) -> timedelta:
    timeout = entry_setting(entry, "timeout", 30.0)
    retries = entry_setting(entry, "max_retries", 2, int)
    return timedelta(seconds=timeout * (retries + 1) + entry_setting(entry, "max_retry_wait", 30.0) + 5)


def _notice(entry: CatalogueEntry, failures: int, error: str) -> tuple[str, str]:
    subject = _("Leitplanke: processor %(name)s is unavailable") % {"name": entry.name}
    message = _("The circuit breaker of processor %(name)s (%(key)s) opened after %(n)s failed calls in a row.\n"
                "Last error: %(error)s\n\nLanguage model suggestions of this processor are paused; affected items "
                "are retried and then escalated to their use case's escalation contact. After the cool-down one "
                "trial call is made; a success closes the circuit again.") % {
        "name": entry.name, "key": entry.key, "n": failures, "error": error}
    return subject, message


PROCESSOR_BREAKER = circuits.BreakerKind(name="processor_circuit", model=ProcessorCircuit, label="processor",
                                         probe_window=_probe_window, notice=_notice)


def processor_circuit_allow(*, entry: CatalogueEntry, now=None) -> bool:
    """May a call go out now? Closed: yes. Open: no, until the cool-down has passed; then the circuit
    is half open and exactly one trial call goes out (the others wait for its answer)."""
    allowed, _retry_at = circuits.circuit_allow(kind=PROCESSOR_BREAKER, entry=entry, now=now)
    return allowed


def processor_circuit_record(*, entry: CatalogueEntry, ok: bool, error: str = "", now=None) -> ProcessorCircuit:
    """After a call: success closes the circuit; a failure counts, and opens it at the threshold (or
    again, when the trial call of a half-open circuit fails). Opening escalates to the IT operators
    by e-mail, after commit."""
    return circuits.circuit_record(kind=PROCESSOR_BREAKER, entry=entry, ok=ok, error=error, now=now)
