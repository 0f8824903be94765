"""The demo seeding behind `quickstart` (demo.seed), in process."""
import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from audit.actors import SYSTEM
from audit.models import AuditEvent
from demo import seed as demo
from portal.choices import Role
from portal.models import Membership, Tenant
from portal.selectors import roles_of

pytestmark = pytest.mark.django_db


def test_seed_creates_the_demo_tenant_and_one_user_per_role_each_a_person_with_an_e_mail_address(demo_seeded):
    result = demo_seeded
    assert (result.tenant.slug, result.tenant.name) == ("muster", "Muster GmbH")
    for role in Role.values:
        assert roles_of(user=result.users[role], tenant=result.tenant) == [role]
    assert roles_of(user=result.users["automation_lead_2"], tenant=result.tenant) == [Role.AUTOMATION_LEAD]
    assert roles_of(user=result.users["clerk_2"], tenant=result.tenant) == [Role.CLERK]
    assert authenticate(username="clerk_2", password=demo.DEMO_PASSWORD) is not None
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert all(login.created for login in result.logins)
    # People, not accounts: a name people recognise and an address the portal's e-mails go to.
    clerk = result.users["clerk"]
    assert (clerk.get_full_name(), clerk.email) == ("Laura Fischer", "laura.fischer@muster.example")
    assert result.users["auditor"].email == "sabine.krueger@muster.example"
    for username in demo.DEMO_PEOPLE:
        user = result.users[username]
        assert user.get_full_name() and user.email.endswith("@muster.example"), username


def test_seed_again_changes_nothing(demo_seeded):
    events = AuditEvent.objects.count()
    again = demo.seed()
    assert Tenant.objects.count() == 1
    assert get_user_model().objects.count() == len(demo.DEMO_USERS) + 1
    assert Membership.objects.count() == len(demo.DEMO_USERS)
    assert AuditEvent.objects.count() == events
    assert not any(login.created for login in again.logins)


def test_seed_leaves_changed_roles_alone(demo_seeded):
    """Someone who changed a demo membership on purpose keeps it."""
    from portal import services

    result = demo_seeded
    membership = result.users["clerk"].memberships.get()
    services.membership_set_roles(actor=SYSTEM, membership=membership, roles=[Role.CLERK, Role.AUDITOR],
                                  reason="also audits")
    demo.seed()
    membership.refresh_from_db()
    assert membership.roles == [Role.AUDITOR, Role.CLERK]


def test_app_seeders_get_the_tenant_and_the_users(monkeypatch):
    calls = []

    def seed(tenant, users):
        calls.append((tenant.slug, sorted(users)))

    monkeypatch.setattr(demo, "app_seeders", lambda: [seed])
    demo.seed()
    assert calls == [("muster", sorted(name for name, _ in demo.DEMO_USERS))]


def test_app_seeders_are_the_demo_packages_modules():
    """Only the demo package's own modules are asked, each through its `seed`, the use cases before the
    processor they name and the review queues that build on them, then the history and the high-risk use
    case with its open work, the proposal waiting for the works council, and last the work waiting for the other
    approvers and the DSB."""
    seeders = demo.app_seeders()
    for seeder in seeders:
        assert seeder.__name__ == "seed"
        assert seeder.__module__.split(".")[0] == "demo"
    assert [seeder.__module__ for seeder in seeders] == ["demo.use_cases", "demo.llm", "demo.reviews",
                                                         "demo.history", "demo.applications", "demo.works_council",
                                                         "demo.open_work"]


def test_quickstart_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="PORTAL_ENV=production"):
        call_command("quickstart", "--no-serve")
    assert not Tenant.objects.exists()


def test_the_demo_records_of_processing_are_complete_and_name_the_processor(demo_seeded):
    """Every demo use case documents its personal data (the document classification reads whole documents),
    so each has a complete record of processing; the service tickets name the catalogue's processor with its
    data processing agreement. The works council's page finds each documented as affecting employees."""
    from django.utils import translation

    from audit.selectors.processing_records import processing_records

    result = demo_seeded
    with translation.override("de"):
        document = processing_records(tenant=result.tenant)
    records = {record.key: record for record in document.records}
    assert sorted(records) == ["belegklassifizierung", "bewerbungseingang", "eingangsrechnungen", "service-tickets"]
    assert document.without_personal_data == []
    assert {key: record.missing for key, record in records.items()} == {key: [] for key in records}
    documents = records["belegklassifizierung"]
    assert documents.data_categories == ["Kontaktdaten"] and "Art. 6 Abs. 1 lit. f" in documents.legal_basis
    assert "Ansprechpartner von Lieferanten und Kunden" in documents.data_subjects
    assert documents.recipients and documents.personal_fields == ["Text"]
    processors = records["service-tickets"].processors
    assert len(processors) == 1 and processors[0].startswith("Sprachmodell (Demo) (Demo-KI GmbH")
    assert "Art. 28 DSGVO" in processors[0]

    # The works council's page: every demo use case documents that it affects employees (their clerks'
    # reviews are recorded), with the worker information that says so; none is flagged as undocumented, and
    # the works council approved the change requests that took them live.
    from audit.selectors.works_council import works_council_report
    from automations.models import ChangeRequest

    report = works_council_report(tenant=result.tenant)
    assert {row.key: (row.affects_employees, row.documented) for row in report.use_cases} == dict.fromkeys(
        records, (True, True))
    assert all("Betriebsvereinbarung KI-Einsatz 2026" in row.worker_information for row in report.use_cases)
    for key in records:
        live = ChangeRequest.objects.get(use_case__key=key, kind="status_change")
        assert "works_council" in live.required_roles and live.state == "applied", key
        assert live.approvals.filter(role="works_council", approver=result.users["works_council"]).exists(), key
    # Something to decide on first login: the proposal to record the works agreement waits for the works council
    # (and the DSB, the ISB and the second automation lead), and a second seed proposes it no second time.
    from automations.registry.selectors import change_request_inbox

    waiting = [cr for cr in change_request_inbox(tenant=result.tenant, user=result.users["works_council"])
               if cr.kind == "tenant_policy"]
    assert [(cr.kind, cr.payload, cr.state) for cr in waiting] == [
        ("tenant_policy", {"works_agreement_reference": "Betriebsvereinbarung KI-Einsatz 2026"}, "open")]
    assert set(waiting[0].required_roles) == {"automation_lead", "data_protection_officer", "security_officer",
                                              "works_council"}
    demo.seed()
    assert ChangeRequest.objects.filter(kind="tenant_policy").count() == 1
