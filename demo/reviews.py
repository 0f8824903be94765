"""Demo data for the quick start (after automations' seed): `clerk` and `clerk_2` have confirmed the
briefings of the three demo use cases, the core team recorded their trainings, and both may work the
demo queues (review, clarification and sample checks). Idempotent: a briefing changed since is confirmed
again, nothing else is repeated."""
from django.utils import timezone

from audit.actors import SYSTEM
from automations.registry.models.use_cases import UseCase
from reviews.choices import QueueKind
from reviews.selectors import training_record_list
from reviews.services import briefing_confirm, review_queue_assign, review_queue_ensure, training_record

DEMO_USE_CASES = ("eingangsrechnungen", "belegklassifizierung", "service-tickets")
DEMO_CLERKS = ("clerk", "clerk_2")
TRAINING_TOPIC = "Einweisung in die Prüfung: Vorschläge, Konfidenzen, Korrekturen, Eskalation"


def seed(tenant, users) -> None:
    lead = users.get("automation_lead")
    clerks = [users[name] for name in DEMO_CLERKS if name in users]
    if lead is None or not clerks:
        return
    for use_case in UseCase.objects.for_tenant(tenant).filter(key__in=DEMO_USE_CASES).order_by("key"):
        queues = [review_queue_ensure(use_case=use_case, kind=kind)
                  for kind in (QueueKind.REVIEW, QueueKind.CLARIFICATION, QueueKind.SAMPLE_CHECK)]
        for clerk in clerks:
            briefing_confirm(actor=clerk, use_case=use_case)
            if not training_record_list(tenant=tenant, use_case=use_case, user=clerk).exists():
                training_record(actor=lead, use_case=use_case, user=clerk, topic=TRAINING_TOPIC,
                                held_on=timezone.localdate())
            for queue in queues:
                review_queue_assign(actor=SYSTEM, queue=queue, user=clerk)
