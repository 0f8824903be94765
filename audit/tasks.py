"""Periodic work of the audit app (CELERY_BEAT_SCHEDULE in portal.settings): thin, each calls a service."""
from celery import shared_task
from django.contrib.auth import get_user_model

from audit.actors import SYSTEM
from audit.choices import VerificationTrigger
from audit.services.checkpoints import checkpoints_sign
from audit.services.events import audit_sequence_pending, audit_verification_run
from audit.services.request_handling import data_subject_request_reminders_send
from audit.services.retention import work_items_retention_sweep
from audit.signing import private_key
from portal.models import Tenant


@shared_task(name="audit.sign_checkpoints")
def sign_checkpoints_task() -> int:
    if private_key() is None:  # production without AUDIT_SIGNING_KEY: nothing to sign with
        return 0
    return len(checkpoints_sign())


@shared_task(name="audit.verify_chains")
def verify_chains_task(actor_id: int | None = None, tenant_id: int | None = None) -> bool:
    actor = (get_user_model().objects.filter(pk=actor_id).first() if actor_id else None) or SYSTEM
    tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None
    run, _result, _problems = audit_verification_run(
        trigger=VerificationTrigger.MANUAL if actor_id else VerificationTrigger.SCHEDULE, actor=actor, tenant=tenant)
    return bool(run.ok)


@shared_task(name="audit.retention_sweep")
def retention_sweep_task() -> int:
    return work_items_retention_sweep().deleted


@shared_task(name="audit.sequence_pending")
def sequence_pending_task() -> int:
    """Links events whose writer stopped between its commit and linking them (audit.sequencer)."""
    return audit_sequence_pending()


@shared_task(name="audit.request_reminders")
def request_reminders_task() -> int:
    """E-mails the DSBs about data subject requests due within a week (once per request and deadline)."""
    return data_subject_request_reminders_send()
