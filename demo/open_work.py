"""Work waiting for the demo's approvers and its DSB on first login: two open change requests and an open access
request. The review queues' open tasks come from the demo history and the applications; these are the rest.

- IT proposes a new connector for the catalogue (a file drop into the document management system): it waits
  for the automation leads and the ISB (catalogue requests on the ISB's home page).
- The second automation lead proposes a clearer manual fallback for the high-risk Bewerbungseingang: every
  approving role must approve it (automation lead, department owner, DSB, works council, ISB), and it alters
  what the clerks were briefed on, so it shows the briefing warning.
- A customer asked what was decided about them automatically (GDPR Art. 15): received ten days ago, due in
  about three weeks, on the DSB's home page.

Nothing here is approved: the demo users do that themselves."""
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.choices import RequestChannel, RequestKind, RequestStatus
from audit.models import DataSubjectRequest
from audit.selectors.subjects import SubjectNotFound
from audit.services.access import data_subject_access_request_open
from automations.choices import ChangeKind
from automations.registry.models.changes import ChangeRequest
from automations.registry.models.use_cases import UseCase
from automations.registry.services import changes

CONNECTOR_KEY = "dms-ablage"
CONNECTOR_TITLE = "Konnektor DMS-Ablage"
FALLBACK_TITLE = "Bewerbungseingang: Rückfallverfahren präzisieren"
FALLBACK = ("Bewerbung unsortiert an die Personalabteilung weiterleiten; sie ordnet innerhalb eines Arbeitstags "
            "von Hand zu und gibt der Fachabteilung der Stelle Bescheid.")
# A customer of the demo's master data (a doctor's practice run by one person): found in the service tickets.
REQUESTER = "praxis@dr-yilmaz.example"


def _proposed(tenant, title: str) -> bool:
    return ChangeRequest.objects.filter(tenant=tenant, title=title).exists()


def _connector_request(tenant, users) -> None:
    if _proposed(tenant, CONNECTOR_TITLE):
        return
    fields = {"kind": "connector", "connector_type": "file_drop", "direction": "delivery",
              "name": "DMS-Ablage Finanzbuchhaltung", "endpoint": "/srv/dms/eingang/rechnungen",
              "location": "Rechenzentrum Stuttgart (eigener Betrieb)", "is_active": True,
              "settings": {"format": "csv", "profile": "de", "header": True}}
    changes.change_request_create(
        actor=users["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE, title=CONNECTOR_TITLE,
        description="Gebuchte Rechnungen sollen zusätzlich als CSV in die Eingangsablage des DMS gehen, damit die "
                    "Finanzbuchhaltung sie dort mit dem Beleg ablegt.",
        payload={"key": CONNECTOR_KEY, "fields": fields})


def _fallback_request(tenant, users) -> None:
    use_case = UseCase.objects.for_tenant(tenant).filter(key="bewerbungseingang").first()
    if use_case is None or _proposed(tenant, FALLBACK_TITLE) or use_case.manual_fallback == FALLBACK:
        return
    changes.change_request_create(
        actor=users["automation_lead_2"], tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
        title=FALLBACK_TITLE,
        description="Die Personalabteilung bat um eine Frist und darum, dass die Fachabteilung erfährt, wenn eine "
                    "Bewerbung von Hand zugeordnet wird.",
        payload={"changes": {"manual_fallback": FALLBACK}})


def _access_request(tenant, users) -> None:
    if DataSubjectRequest.objects.filter(tenant=tenant, kind=RequestKind.ACCESS).exclude(
            status=RequestStatus.COMPLETED).exists():
        return
    try:
        data_subject_access_request_open(
            actor=users["data_protection_officer"], tenant=tenant, identifier=REQUESTER,
            received_at=timezone.now() - timedelta(days=10), channel=RequestChannel.EMAIL,
            reason="Die Praxis fragt, welche ihrer Service-Tickets automatisch eingeordnet wurden und mit welchem "
                   "Ergebnis.")
    except SubjectNotFound:  # the demo's master data were not seeded (or the customer was erased)
        return


def seed(tenant, users) -> None:
    if any(name not in users for name in ("it_operator", "automation_lead_2", "data_protection_officer")):
        return
    with transaction.atomic():
        _connector_request(tenant, users)
        _fallback_request(tenant, users)
    with transaction.atomic():
        _access_request(tenant, users)
