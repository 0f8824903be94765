"""Access matrix of every URL of the DSB area (audit.urls): anonymous, a member without the permission, a
permitted member, and another tenant's object. Only the data protection officer and auditors read the area;
only the DSB handles requests and reveals pseudonyms. A URL without a row here fails the suite."""
from dataclasses import dataclass

import pytest
from django.urls import reverse

from audit.actors import SYSTEM
from audit.models import AuditEvent, Pseudonym
from audit.services.access import data_subject_access_request_open
from audit.services.events import audit_event_record
from audit.services.legal_holds import legal_hold_place
from audit.urls import urlpatterns
from automations.execution.services import master_data
from portal.choices import Role
from portal.roles import permissions_for_roles
from tests import access
from tests.access import assert_sent_to_login, login, row_id

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row(access.Row):
    """`obj`: "event", "request", "pseudonym", "hold": the URL or the form names one of the tenant's."""

    permission: str | None = "audit.view_auditevent"


MATRIX = [
    Row("audit:home"),
    Row("audit:verification-start", method="post", permission="audit.add_verificationrun", ok=302),
    Row("audit:event-list"),
    Row("audit:event-list", data={"stream": "access"}, permission="audit.view_accessevent"),
    Row("audit:event-export", data={"format": "jsonl"}),
    Row("audit:event-detail", obj="event"),
    Row("audit:pseudonym-reveal", method="post", permission="audit.reveal_pseudonym", obj="pseudonym",
        data={"purpose": "access_request", "reference": "12"}),
    Row("audit:request-list", permission="audit.view_datasubjectrequest"),
    Row("audit:access-request-create", permission="audit.add_datasubjectrequest"),
    Row("audit:access-request-create", method="post", permission="audit.add_datasubjectrequest", ok=302,
        data={"identifier": "kunde@example.org"}),
    Row("audit:erasure", permission="audit.erase_subject"),
    Row("audit:erasure", method="post", permission="audit.erase_subject", data={"identifier": "kunde@example.org"}),
    Row("audit:request-detail", permission="audit.view_datasubjectrequest", obj="request"),
    Row("audit:request-export", permission="audit.add_datasubjectrequest", obj="request"),
    Row("audit:request-action", method="post", permission="audit.add_datasubjectrequest", obj="request", ok=302,
        data={"check": "known_contact"}),
    Row("audit:restricted-items", permission="audit.erase_subject"),
    Row("audit:legal-holds", permission="audit.view_legalhold"),
    Row("audit:legal-holds", method="post", permission="audit.add_legalhold", ok=302,
        data={"scope": "period", "date_from": "2026-01-01", "date_until": "31.01.2026", "reason": "Prüfung",
              "reference": "FA-1"}),
    Row("audit:legal-hold-lift", method="post", permission="audit.change_legalhold", obj="hold", ok=302,
        data={"lift_reason": "erledigt"}),
    Row("audit:processing-records", permission="audit.view_processing_records"),
    Row("audit:processing-records-pdf", permission="audit.view_processing_records"),
    Row("audit:works-council", permission="audit.view_employee_measures"),
]
GUARDED_ROLES = [Role.CLERK, Role.AUDITOR, Role.WORKS_COUNCIL, Role.AUTOMATION_LEAD, Role.SECURITY_OFFICER]


@pytest.fixture(autouse=True)
def _folders(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tenant, make_tenant, make_user):
    """Two tenants, each with a DSB, a customer and an access request; the other one has a longer chain."""
    other = make_tenant("anderes", "Andere AG")
    people = {role: make_user(f"{role}", tenant=tenant, roles=[role]) for role in Role.values}
    stranger = make_user("fremd-dsb", tenant=other, roles=[Role.DATA_PROTECTION_OFFICER, Role.AUTOMATION_LEAD])
    objects = {}
    for place, dsb in ((tenant, people[Role.DATA_PROTECTION_OFFICER]), (other, stranger)):
        lead = people[Role.AUTOMATION_LEAD] if place == tenant else stranger
        if place == tenant:
            from portal import services

            services.membership_create(actor=SYSTEM, tenant=tenant, user=make_user("lead-2"),
                                       roles=[Role.AUTOMATION_LEAD])
        dsb.active_tenant = place
        lead.active_tenant = place
        master_data.master_record_save(actor=lead, tenant=place, kind="customer", number="K-1", name="Kunde Eins",
                                       email="kunde@example.org")
        objects[place.pk] = {
            "request": data_subject_access_request_open(actor=dsb, tenant=place, identifier="kunde@example.org"),
            "pseudonym": Pseudonym.objects.filter(tenant=place).first().pseudonym,
            "hold": legal_hold_place(actor=dsb, tenant=place, scope="person", identifier="kunde@example.org",
                                     identifier_kind="email", reason="Klage", reference="AZ-1"),
        }
    for _ in range(30):
        audit_event_record(actor=SYSTEM, tenant=other, event_type="tenant.switched", obj=other)
    last = AuditEvent.objects.filter(chain=str(other.pk)).order_by("-sequence").first().sequence
    objects[other.pk]["event"] = last
    objects[tenant.pk]["event"] = 1
    return {"tenant": tenant, "other": other, "people": people, "objects": objects}


def _request(client, row, world, *, obj_tenant=None):
    obj_tenant = obj_tenant or world["tenant"]
    objects = world["objects"][obj_tenant.pk]
    args = []
    data = row.payload()
    if row.obj == "event":
        args = ["audit", objects["event"]]
    elif row.obj == "request":
        args = [objects["request"].pk] + (["html"] if row.url_name == "audit:request-export" else
                                          ["verify-identity"] if row.url_name == "audit:request-action" else [])
    elif row.obj == "hold":
        args = [objects["hold"].pk]
    elif row.obj == "pseudonym":
        data["pseudonym"] = objects["pseudonym"]
    return access.send(client, row, reverse(row.url_name, args=args), data=data)


def test_every_url_of_the_area_has_a_row_in_the_matrix():
    missing = access.urls_without_row((pattern.name for pattern in urlpatterns), MATRIX, "audit")
    assert missing == set(), "DSB-area URLs without an access-matrix row"


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_anonymous_is_sent_to_the_login(client, world, row):
    assert_sent_to_login(_request(client, row, world))


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_members_without_the_permission_are_refused(client, world, row):
    refused = [role for role in GUARDED_ROLES if row.permission not in permissions_for_roles([role])]
    assert refused
    for role in refused:
        login(client, world["people"][role], world["tenant"])
        assert _request(client, row, world).status_code == 403, role


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_the_permitted_roles_get_in(client, world, row):
    allowed = [role for role in (Role.DATA_PROTECTION_OFFICER, Role.AUDITOR, Role.WORKS_COUNCIL)
               if row.permission in permissions_for_roles([role])]
    assert Role.DATA_PROTECTION_OFFICER in allowed
    for role in allowed:
        login(client, world["people"][role], world["tenant"])
        response = _request(client, row, world)
        assert response.status_code == row.ok, (role, getattr(response, "content", b"")[:300])


@pytest.mark.parametrize("row", [row for row in MATRIX if row.obj], ids=row_id)
def test_another_tenants_object_is_not_found(client, world, row):
    login(client, world["people"][Role.DATA_PROTECTION_OFFICER], world["tenant"])
    assert _request(client, row, world, obj_tenant=world["other"]).status_code == 404


def test_only_the_dsb_and_auditors_read_the_audit_log():
    readers = {role for role in Role.values if "audit.view_auditevent" in permissions_for_roles([role])}
    assert readers == {Role.DATA_PROTECTION_OFFICER, Role.AUDITOR}
