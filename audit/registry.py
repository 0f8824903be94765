"""Every audit event type is registered exactly once; recording an unregistered type raises."""
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class UnregisteredEventType(LookupError):
    pass


class DuplicateEventType(ValueError):
    pass


@dataclass(frozen=True)
class EventType:
    key: str
    description: str


_registry: dict[str, EventType] = {}


def register(key: str, description: str) -> EventType:
    if not _TYPE_PATTERN.match(key):
        raise ValueError(f"Audit event types are '<noun>.<past_verb>', not {key!r}.")
    if key in _registry:
        raise DuplicateEventType(f"The audit event type {key!r} is registered twice.")
    _registry[key] = EventType(key=key, description=description)
    return _registry[key]


def get(key: str) -> EventType:
    try:
        return _registry[key]
    except KeyError:
        raise UnregisteredEventType(f"The audit event type {key!r} is not registered.") from None


def all_types() -> list[EventType]:
    return sorted(_registry.values(), key=lambda t: t.key)


# How an event type reads for people: the noun and the past participle of its key, each translated
# ("work_item.received" → "Vorgang empfangen"). A key whose parts are not listed reads as the key.
NOUNS = {
    "api_token": _("API token"), "audit": _("Audit log"), "audit_checkpoint": _("Audit checkpoint"),
    "audit_export": _("Audit export"), "audit_verification": _("Audit verification"), "briefing": _("Briefing"),
    "catalogue_entry": _("Catalogue entry"), "change_request": _("Change request"),
    "classifier_version": _("Classifier version"), "connector_circuit": _("Connector access"),
    "connector_secret": _("Connector credential"), "data_subject": _("Data subject"),
    "data_subject_access": _("Access request"), "data_subject_request": _("Data subject request"),
    "database_role": _("Database role"), "delivery": _("Delivery"), "demo_history": _("Demo history"),
    "dry_run": _("Dry run"), "escalation": _("Escalation"), "evaluation": _("Evaluation"),
    "labelled_example": _("Labelled example"), "labelled_examples": _("Labelled examples"),
    "legal_hold": _("Legal hold"), "mail": _("E-mail"), "master_data": _("Master data"),
    "master_record": _("Master data record"), "membership": _("Membership"), "personal_data": _("Personal data"),
    "processor_circuit": _("Processor access"), "processor_secret": _("Processor key"),
    "prompt_playground": _("Prompt playground"), "pseudonym": _("Pseudonym"),
    "quality_breaker": _("Quality circuit breaker"), "recovery_code": _("Recovery code"),
    "recovery_codes": _("Recovery codes"), "release": _("Release"), "release_label": _("Release label"),
    "review_queue": _("Review queue"), "review_task": _("Review task"), "review_team": _("Team"),
    "run": _("Pipeline run"),
    "second_factor": _("Second factor"), "tenant": _("Tenant"), "tenant_policy": _("Tenant settings"),
    "test_case": _("Test case"), "test_cases": _("Test cases"), "threshold_backtest": _("Threshold backtest"),
    "training": _("Training"), "use_case": _("Use case"), "use_case_review": _("Periodic review"),
    "user": _("User"), "version": _("Version"), "work_item": _("Work item"), "work_items": _("Work items"),
}
VERBS = {
    "acknowledged": _("acknowledged"), "answered": _("answered"), "applied": _("applied"),
    "approved": _("approved"), "assigned": _("assigned"), "attached": _("attached"), "changed": _("changed"),
    "choices_added": _("choices added"), "claim_expired": _("claim expired"), "claimed": _("taken"),
    "cleared": _("cleared"), "closed": _("closed"), "completed": _("completed"), "configured": _("configured"),
    "confirmed": _("confirmed"), "created": _("created"), "deactivated": _("deactivated"), "dead": _("given up"),
    "decided": _("decided"), "delivered": _("delivered"), "due": _("due"), "enrolled": _("set up"),
    "erased": _("erased"), "expired": _("expired"), "exported": _("exported"), "extended": _("extended"),
    "failed": _("failed"), "file_viewed": _("file viewed"), "finalised": _("finalised"), "finished": _("finished"),
    "generated": _("created"), "half_opened": _("tried again"), "held": _("held"),
    "identity_checked": _("identity checked"), "imported": _("imported"), "lifted": _("lifted"),
    "listed": _("listed"), "locked_out": _("locked out"), "logged_in": _("logged in"),
    "logged_out": _("logged out"), "login_failed": _("login failed"), "moved": _("moved"), "opened": _("opened"),
    "placed": _("placed"), "purged": _("purged"), "ran": _("ran"), "read": _("read"),
    "reaped": _("picked up again"), "received": _("received"), "recorded": _("recorded"),
    "redelivered": _("sent again"), "refused": _("refused"), "rejected": _("rejected"), "released": _("released"),
    "reminded": _("reminded"), "reset": _("reset"), "restricted": _("restricted"),
    "retention_deleted": _("deleted after retention"), "retired": _("retired"), "revealed": _("revealed"),
    "granted": _("granted"), "owner_granted": _("granted to an owner"), "owner_revoked": _("taken from an owner"),
    "unassigned": _("taken away"),
    "revised": _("revised"), "revoked": _("revoked"), "roles_changed": _("roles changed"), "rotated": _("rotated"),
    "routed": _("routed"), "searched": _("searched"), "set": _("set"), "signed": _("signed"),
    "started": _("started"), "status_changed": _("status changed"), "submitted": _("submitted"),
    "suspended": _("suspended"), "switched": _("switched"), "trained": _("trained"), "tripped": _("tripped"),
    "unlocked": _("unlocked"), "updated": _("updated"), "used": _("used"), "viewed": _("viewed"),
    "withdrawn": _("withdrawn"),
}


def label(key: str) -> str:
    """The event type in the reader's language, e.g. "Benutzer angemeldet" for user.logged_in."""
    noun, _sep, verb = str(key).partition(".")
    if noun in NOUNS and verb in VERBS:
        return pgettext("audit event type", "%(noun)s %(verb)s") % {"noun": NOUNS[noun], "verb": VERBS[verb]}
    return str(key)


# Why personal data was opened (an access event's purpose), as people read it; a purpose not listed reads as
# written.
PURPOSES = {
    "work item page": _("work item page"), "work item list": _("work item list"),
    "work item list (API)": _("work item list (API)"), "work item (API)": _("work item (API)"),
    "work item deliveries (API)": _("work item deliveries (API)"), "test cases": _("test cases"),
    "test case page": _("test case page"), "test cases (API)": _("test cases (API)"),
    "test case (API)": _("test case (API)"), "evaluation page": _("evaluation page"), "review": _("review"),
    "review queue": _("review queue"), "review (API)": _("review (API)"),
    "master data page": _("master data page"), "escalations": _("escalations"), "dry runs": _("dry runs"),
    "oversight": _("oversight"),
    "administration": _("administration"), "audit_search": _("audit search"),
    "access_request": _("access request"), "restricted_items": _("restricted items"),
    "erasure_request_preview": _("erasure request preview"),
}


def purpose_label(purpose) -> str:
    return str(PURPOSES.get(str(purpose), purpose or ""))
