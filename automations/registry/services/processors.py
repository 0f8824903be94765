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

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from audit.services.events import audit_event_record
from automations.choices import CatalogueKind
from automations.registry import secrets
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.processors import CircuitState, ProcessorCircuit, ProcessorSecret
from portal.choices import Role
from portal.permissions import require_perm
from portal.selectors import users_with_role

MAX_KEY_LENGTH = 4096


def _setting(entry: CatalogueEntry, name: str, default, cast=float):
    try:
        return cast((entry.settings or {}).get(name, default))
    except (TypeError, ValueError):
        return default


# --- API keys ---------------------------------------------------------------------------------------

def processor_secret_set(*, actor, entry: CatalogueEntry, api_key: str) -> ProcessorSecret:
    """Store (or replace) a processor's API key, encrypted. The plain key is neither returned nor
    logged; the audit trail holds its fingerprint only."""
    require_perm(actor, entry.tenant, "automations.change_processorsecret")
    if entry.kind != CatalogueKind.PROCESSOR:
        raise ValidationError(_("Only a processor of the catalogue has an API key."))
    api_key = (api_key or "").strip()
    if not api_key or len(api_key) > MAX_KEY_LENGTH or any(c.isspace() for c in api_key):
        raise ValidationError(_("Enter the API key as one string without spaces."))
    ciphertext, fingerprint = secrets.encrypt(api_key), secrets.fingerprint(api_key)
    with transaction.atomic():
        existing = ProcessorSecret.objects.select_for_update().filter(entry=entry).first()
        secret = existing or ProcessorSecret(tenant=entry.tenant, entry=entry)
        secret.ciphertext, secret.key_fingerprint = ciphertext, fingerprint
        secret.set_at, secret.set_by = timezone.now(), as_actor(actor).user
        secret.save()
        audit_event_record(actor=actor, tenant=entry.tenant, event_type="processor_secret.set", obj=entry,
                           details={"processor": entry.key, "fingerprint": fingerprint,
                                    "replaced": existing is not None})
    return secret


def processor_secret_clear(*, actor, entry: CatalogueEntry) -> None:
    require_perm(actor, entry.tenant, "automations.change_processorsecret")
    with transaction.atomic():
        deleted, _rows = ProcessorSecret.objects.filter(entry=entry).delete()
        if deleted:
            audit_event_record(actor=actor, tenant=entry.tenant, event_type="processor_secret.cleared", obj=entry,
                               details={"processor": entry.key})


def processor_secrets_rotate(*, actor) -> int:
    """Re-encrypt every stored key with the first configured field key, before the old key is removed
    from LEITPLANKE_FIELD_KEYS."""
    rotated = 0
    for pk in ProcessorSecret.objects.values_list("pk", flat=True):
        with transaction.atomic():
            secret = ProcessorSecret.objects.select_for_update().select_related("entry").get(pk=pk)
            secret.ciphertext = secrets.rotate(secret.ciphertext)
            secret.save(update_fields=["ciphertext"])
            audit_event_record(actor=actor, tenant=secret.tenant, event_type="processor_secret.rotated",
                               obj=secret.entry, details={"processor": secret.entry.key,
                                                          "fingerprint": secret.key_fingerprint})
            rotated += 1
    return rotated


def processor_api_key(*, entry: CatalogueEntry) -> str | None:
    """The decrypted key for an outgoing call (held in memory only), or None when none is stored
    (local providers such as Ollama need none)."""
    secret = ProcessorSecret.objects.filter(entry=entry).first()
    return secrets.decrypt(secret.ciphertext) if secret else None


def processor_get(*, tenant, key: str) -> CatalogueEntry | None:
    """The tenant's active processor with this key, or None."""
    if not key:
        return None
    return (CatalogueEntry.objects.for_tenant(tenant)
            .filter(key=key, kind=CatalogueKind.PROCESSOR, is_active=True).first())


# --- circuit breaker ---------------------------------------------------------------------------------

def _circuit(entry: CatalogueEntry) -> ProcessorCircuit:
    ProcessorCircuit.objects.get_or_create(entry=entry, defaults={"tenant": entry.tenant})
    return ProcessorCircuit.objects.select_for_update().get(entry=entry)


def _probe_window(entry: CatalogueEntry) -> timedelta:
    timeout = _setting(entry, "timeout", 30.0)
    retries = _setting(entry, "max_retries", 2, int)
    return timedelta(seconds=timeout * (retries + 1) + _setting(entry, "max_retry_wait", 30.0) + 5)


def processor_circuit_allow(*, entry: CatalogueEntry, now=None) -> bool:
    """May a call go out now? Closed: yes. Open: no, until the cool-down has passed; then the circuit
    is half open and exactly one trial call goes out (the others wait for its answer)."""
    now = now or timezone.now()
    with transaction.atomic():
        circuit = _circuit(entry)
        if circuit.state == CircuitState.CLOSED:
            return True
        if circuit.state == CircuitState.OPEN:
            cooldown = timedelta(seconds=_setting(entry, "circuit_cooldown", 60.0))
            if circuit.opened_at and now < circuit.opened_at + cooldown:
                return False
            circuit.state = CircuitState.HALF_OPEN
            circuit.probe_until, circuit.updated_at = now + _probe_window(entry), now
            circuit.save()
            audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="processor_circuit.half_opened",
                               obj=entry, details={"processor": entry.key})
            return True
        if circuit.probe_until and now < circuit.probe_until:
            return False  # half open, and the trial call is still out
        circuit.probe_until, circuit.updated_at = now + _probe_window(entry), now
        circuit.save(update_fields=["probe_until", "updated_at"])
        return True


def _tell_it(entry: CatalogueEntry, failures: int, error: str) -> None:
    recipients = sorted({u.email for u in users_with_role(tenant=entry.tenant, role=Role.IT_OPERATOR) if u.email})
    if not recipients:
        return
    subject = _("Leitplanke: processor %(name)s is unavailable") % {"name": entry.name}
    message = _("The circuit breaker of processor %(name)s (%(key)s) opened after %(n)s failed calls in a row.\n"
                "Last error: %(error)s\n\nLanguage model suggestions of this processor are paused; affected items "
                "are retried and then escalated to their use case's escalation contact. After the cool-down one "
                "trial call is made; a success closes the circuit again.") % {
        "name": entry.name, "key": entry.key, "n": failures, "error": error or "-"}
    send_mail(subject=subject, message=message, from_email=settings.DEFAULT_FROM_EMAIL,
              recipient_list=recipients, fail_silently=True)


def processor_circuit_record(*, entry: CatalogueEntry, ok: bool, error: str = "", now=None) -> ProcessorCircuit:
    """After a call: success closes the circuit; a failure counts, and opens it at the threshold (or
    again, when the trial call of a half-open circuit fails). Opening escalates to the IT operators
    by e-mail, after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        circuit = _circuit(entry)
        before = circuit.state
        circuit.updated_at, circuit.probe_until = now, None
        if ok:
            circuit.state, circuit.consecutive_failures, circuit.opened_at = CircuitState.CLOSED, 0, None
            circuit.save()
            if before != CircuitState.CLOSED:
                audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="processor_circuit.closed",
                                   obj=entry, details={"processor": entry.key, "from": before})
            return circuit
        circuit.consecutive_failures += 1
        circuit.last_error = error[:1000]
        threshold = max(1, _setting(entry, "circuit_failures", 5, int))
        opens = before == CircuitState.HALF_OPEN or (
            before == CircuitState.CLOSED and circuit.consecutive_failures >= threshold)
        if opens:
            circuit.state, circuit.opened_at = CircuitState.OPEN, now
        circuit.save()
        if opens:
            audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="processor_circuit.opened", obj=entry,
                               details={"processor": entry.key, "failures": circuit.consecutive_failures,
                                        "from": before})
            if before == CircuitState.CLOSED:  # a failed trial call re-opens silently: IT knows already
                failures, text = circuit.consecutive_failures, circuit.last_error
                transaction.on_commit(lambda: _tell_it(entry, failures, text))
        return circuit
