"""The quick start's high-risk demo use case, so four eyes can be seen on first login: Bewerbungseingang
sorts incoming applications to the advertised positions (EU AI Act Annex III no. 4: recruitment — high risk;
a selection guideline under § 95 BetrVG — the works council approves). Documented with its DPIA and worker
information, taken live through a change request every required role approved, and worked by `clerk` and
`clerk_2` (team Personal). Open work: applications waiting for a first review, and one that `clerk` decided
and that waits for `clerk_2`'s second review. Idempotent: what exists is left alone."""
from django.db import transaction
from django.utils import timezone

from audit.actors import SYSTEM
from automations.choices import IntegrationKind, LegalBasis, RiskTier
from automations.execution.models.work import Run, WorkItem
from automations.execution.services.intake import work_item_create
from automations.execution.services.runs import run_execute
from automations.registry.models.use_cases import UseCase
from automations.registry.services import use_cases
from automations.registry.services.use_cases import tenant_policy_ensure, use_case_owner_grant
from demo.use_cases import _field, _live
from reviews.choices import DecisionAction, QueueKind
from reviews.selectors import training_record_list
from reviews.services import (
    briefing_confirm,
    review_queue_ensure,
    review_task_claim_next,
    review_task_decide,
    review_team_grant,
    training_record,
)

KEY = "bewerbungseingang"
DEPARTMENT = "Personal"
CLERKS = ("clerk", "clerk_2")
POSITIONS = ["vertrieb", "technik", "buchhaltung", "initiativ"]
RULES = [
    {"category": "vertrieb", "name": "Vertrieb", "weight": 2,
     "keywords": ["vertrieb", "außendienst", "kundenakquise", "verkaufsgebiet"]},
    {"category": "technik", "name": "Technik", "weight": 2,
     "keywords": ["servicetechniker", "mechatroniker", "elektroniker", "instandhaltung"]},
    {"category": "buchhaltung", "name": "Buchhaltung", "weight": 2,
     "keywords": ["buchhaltung", "kreditoren", "debitoren", "bilanzbuchhalter"]},
]
# Applications as they arrive (no real people): the first goes to `clerk`'s first review and waits for clerk_2.
OPEN_APPLICATIONS = [
    ("Bewerbung als Mitarbeiter im Außendienst (Vertrieb) — Sehr geehrte Damen und Herren, mit Interesse habe ich "
    "Ihre Anzeige gelesen. Seit fünf Jahren betreue ich ein Verkaufsgebiet in Baden-Württemberg. Mit freundlichen "
    "Grüßen, Alex Beispiel"),
    ("Bewerbung als Servicetechniker — Guten Tag, als gelernter Mechatroniker mit Erfahrung in der Instandhaltung "
    "von Verpackungsanlagen bewerbe ich mich auf Ihre Stelle. Viele Grüße, Kim Muster"),
    ("Bewerbung Kreditorenbuchhaltung — Sehr geehrte Frau Personalleiterin, ich bin Bilanzbuchhalterin (IHK) und "
    "suche eine neue Aufgabe in der Buchhaltung. Freundliche Grüße, Sam Probe"),
    "Initiativbewerbung — Hallo, ich würde gern bei Ihnen arbeiten und bin für vieles offen. Gruß, Robin Test",
]


def _use_case(tenant, users) -> UseCase:
    lead = users["automation_lead"]
    use_case = use_cases.use_case_create(
        actor=lead, tenant=tenant, key=KEY, title="Bewerbungseingang",
        purpose="Eingehende Bewerbungen der ausgeschriebenen Stelle zuordnen, damit sie bei der richtigen "
                "Fachabteilung landen. Keine Bewertung und keine Auswahl von Personen.",
        department=DEPARTMENT,
        automated_decisions="Vorschlag der Stelle, zu der eine Bewerbung gehört; nie automatisch übernommen.",
        human_decisions="Jede Zuordnung prüfen zwei Personen (Vier-Augen-Prinzip); Auswahl und Absagen "
                        "entscheiden ausschließlich Menschen.",
        integration_points=[{"kind": IntegrationKind.EMAIL, "system": "bewerbung@"},
                            {"kind": IntegrationKind.UPLOAD, "system": "Portal"}],
        input_fields=[_field("anschreiben", "long_text", True, personal_data=True, category="employee")],
        output_fields=[_field("stelle", "category", True, choices=POSITIONS, title=True)],  # tells them apart
        data_subjects=["Bewerberinnen und Bewerber"], legal_basis=LegalBasis.CONTRACT,
        legal_basis_note="§ 26 Abs. 1 BDSG, Art. 6 Abs. 1 lit. b DSGVO: Durchführung des Bewerbungsverfahrens.",
        recipients=["Personalabteilung", "Fachabteilung der Stelle"], retention_days=180,
        risk_tier=RiskTier.HIGH,
        risk_rationale="KI-Verordnung Anhang III Nr. 4: Sichten von Bewerbungen im Einstellungsverfahren. Das "
                       "System schlägt nur die Stelle vor; jede Zuordnung prüfen zwei Personen.",
        dpia_reference="DSFA-2026-04 Bewerbungseingang",
        worker_information_reference="Betriebsvereinbarung KI-Einsatz 2026, Anlage 3",
        affects_employees=True,
        department_owner=users["department_owner"], it_contact=users["it_operator"],
        security_officer=users["security_officer"], data_protection_officer=users["data_protection_officer"],
        escalation_contact=users["department_owner"],
        manual_fallback="Bewerbung unsortiert an die Personalabteilung weiterleiten; sie ordnet von Hand zu.",
        quality_targets={"min_precision": {"stelle": 0.9}},
    )
    # Nothing is applied automatically: an `auto` threshold no confidence reaches.
    _live(use_case, users, thresholds={"stelle": {"auto": 1.0, "reject": 0.1}}, engine_configs=[
        {"engine": "rules", "fields": ["stelle"],
         "parameters": {"field": "stelle", "default": "initiativ", "rules": RULES}}])
    return use_case


def _clerks(tenant, use_case, users) -> None:
    lead = users["automation_lead"]
    for kind in (QueueKind.REVIEW, QueueKind.CLARIFICATION, QueueKind.SAMPLE_CHECK):
        review_queue_ensure(use_case=use_case, kind=kind)
    use_case_owner_grant(actor=SYSTEM, use_case=use_case, user=users["department_owner"])
    for username in CLERKS:
        clerk = users[username]
        review_team_grant(actor=lead, tenant=tenant, name=DEPARTMENT, user=clerk)
        briefing_confirm(actor=clerk, use_case=use_case)
        if not training_record_list(tenant=tenant, use_case=use_case, user=clerk).exists():
            training_record(actor=lead, use_case=use_case, user=clerk, held_on=timezone.localdate(),
                            topic="Einweisung Bewerbungseingang: Vier-Augen-Prüfung, keine Bewertung von Personen")


def _open_work(tenant, use_case, users) -> None:
    if WorkItem.objects.for_tenant(tenant).filter(use_case=use_case).exists():
        return
    for text in OPEN_APPLICATIONS:
        with transaction.atomic():
            item, _created = work_item_create(actor=users["it_operator"], tenant=tenant, use_case_key=KEY,
                                              payload={"anschreiben": text})
        # The pipeline runs here (the worker is not running yet while the quick start seeds); the run the
        # worker is sent later finds it done.
        run_execute(run_id=Run.objects.filter(item=item).latest("pk").pk)
    queue = review_queue_ensure(use_case=use_case, kind=QueueKind.REVIEW)
    task = review_task_claim_next(actor=users["clerk"], queue=queue)
    if task is not None:  # clerk's first decision: it waits for clerk_2's second review
        review_task_decide(actor=users["clerk"], task=task, action=DecisionAction.APPROVE,
                           final_values={name: spec.get("value") for name, spec in task.item.fields.items()})


def seed(tenant, users) -> None:
    if any(name not in users for name in (*CLERKS, "automation_lead", "automation_lead_2", "it_operator",
                                          "department_owner", "works_council", "data_protection_officer",
                                          "security_officer")):
        return
    use_case = UseCase.objects.for_tenant(tenant).filter(key=KEY).first()
    if use_case is None:
        with transaction.atomic():
            tenant_policy_ensure(tenant=tenant)
            use_case = _use_case(tenant, users)
    _clerks(tenant, use_case, users)
    _open_work(tenant, use_case, users)
