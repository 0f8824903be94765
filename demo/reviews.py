"""Demo data for the quick start (after automations' seed): two departments with their own queues and
clerks. `clerk` and `clerk_2` are the team of Finanzbuchhaltung and Zentrale Poststelle (the departments of
Eingangsrechnungen and Belegklassifizierung: four eyes need two of them), `clerk_kundenservice` the team of
Kundenservice (Service-Tickets), each team with the review, clarification and sample-check queues of its
use cases; a clerk of one team sees nothing of the other's queues and items. Each has
confirmed the briefings of their use cases and the core team recorded their trainings. The department
owner owns the demo use cases (granted to change them). Idempotent: a briefing changed since is confirmed
again, nothing else is repeated."""
from django.utils import timezone

from audit.actors import SYSTEM
from automations.registry.models.use_cases import UseCase
from automations.registry.services.use_cases import use_case_owner_grant
from reviews.choices import QueueKind
from reviews.selectors import review_queue_for_use_case, training_record_list
from reviews.services import (
    briefing_confirm,
    review_queue_ensure,
    review_queue_unassign,
    review_team_grant,
    training_record,
)

DEMO_USE_CASES = ("eingangsrechnungen", "belegklassifizierung", "service-tickets")
# Which demo use cases' departments each demo clerk's team is: the team's name is the department's.
DEMO_TEAMS: dict[str, tuple[str, ...]] = {
    "clerk": ("eingangsrechnungen", "belegklassifizierung"),
    "clerk_2": ("eingangsrechnungen", "belegklassifizierung"),
    "clerk_kundenservice": ("service-tickets",),
}
DEMO_CLERKS = tuple(DEMO_TEAMS)
TRAINING_TOPIC = "Einweisung in die Prüfung: Vorschläge, Konfidenzen, Korrekturen, Eskalation"


def seed(tenant, users) -> None:
    lead = users.get("automation_lead")
    if lead is None:
        return
    use_cases = {u.key: u for u in UseCase.objects.for_tenant(tenant).filter(key__in=DEMO_USE_CASES)}
    owner = users.get("department_owner")
    for key in sorted(use_cases):
        use_case = use_cases[key]
        for kind in (QueueKind.REVIEW, QueueKind.CLARIFICATION, QueueKind.SAMPLE_CHECK):
            review_queue_ensure(use_case=use_case, kind=kind)
        if owner is not None:
            use_case_owner_grant(actor=SYSTEM, use_case=use_case, user=owner)
    for username, keys in DEMO_TEAMS.items():
        clerk = users.get(username)
        if clerk is None:
            continue
        for key in keys:
            worked = use_cases.get(key)
            if worked is None:
                continue
            if worked.department:
                review_team_grant(actor=SYSTEM, tenant=tenant, name=worked.department, user=clerk)
            briefing_confirm(actor=clerk, use_case=worked)
            if not training_record_list(tenant=tenant, use_case=worked, user=clerk).exists():
                training_record(actor=lead, use_case=worked, user=clerk, topic=TRAINING_TOPIC,
                                held_on=timezone.localdate())
        # Demo data of earlier versions granted every demo queue to each clerk: the other team's go.
        for key in sorted(set(use_cases) - set(keys)):
            for kind in (QueueKind.REVIEW, QueueKind.CLARIFICATION, QueueKind.SAMPLE_CHECK):
                queue = review_queue_for_use_case(use_case=use_cases[key], kind=kind)
                if queue is not None:
                    review_queue_unassign(actor=SYSTEM, queue=queue, user=clerk)
