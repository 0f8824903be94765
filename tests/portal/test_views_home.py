"""The home page: one panel per kind of work, chosen by role; German by default, English on request."""
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit.actors import SYSTEM
from audit.models import AuditEvent
from audit.registry import label
from portal import services
from portal.choices import Role
from portal.views import home_panel_keys

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("roles", "panels"), [
    ([Role.AUTOMATION_LEAD], ["approvals", "leitstand", "registry"]),
    ([Role.DEPARTMENT_OWNER], ["approvals", "leitstand", "registry"]),
    ([Role.IT_OPERATOR], ["approvals", "leitstand", "registry"]),
    ([Role.SECURITY_OFFICER], ["approvals", "catalogue_requests", "leitstand", "registry"]),
    ([Role.CLERK], ["queues"]),
    ([Role.DATA_PROTECTION_OFFICER], ["approvals", "subject_requests", "audit"]),
    ([Role.AUDITOR], ["audit"]),
    ([Role.WORKS_COUNCIL], ["approvals", "measures"]),
    ([Role.IT_OPERATOR, Role.SECURITY_OFFICER], ["approvals", "catalogue_requests", "leitstand", "registry"]),
    ([Role.AUDITOR, Role.DEPARTMENT_OWNER, Role.CLERK],
     ["approvals", "queues", "leitstand", "registry", "audit"]),
])
def test_panels_follow_the_roles_work_first(roles, panels):
    assert home_panel_keys(roles) == panels


PANEL_TITLES = {  # as a German user reads them; the panels every holder of the role sees, work or not
    "leitstand": "Leitstand",
    "registry": "Automatisierungsregister",
    "queues": "Meine Warteschlangen",
    "audit": "Audit",
    "measures": "Was gemessen wird",
}


@pytest.mark.parametrize("role", Role.values)
def test_each_role_sees_its_panels_in_german(client, member, role):
    client.force_login(member(role))
    page = client.get(reverse("portal:home")).content.decode()
    expected = [key for key in home_panel_keys([role]) if key in PANEL_TITLES]
    assert expected
    for key in expected:
        assert f'id="panel-{key}-title">{PANEL_TITLES[key]}<' in page
    for key in set(PANEL_TITLES) - set(expected):
        assert f'id="panel-{key}-title"' not in page


def test_registry_panel_lists_the_tenants_members_only_to_the_lead(client, tenant, member, make_tenant, make_user):
    make_user("fremde_person", tenant=make_tenant(), roles=[Role.AUTOMATION_LEAD])
    member(Role.CLERK, username="erika")
    member(Role.DEPARTMENT_OWNER, username="otto")
    client.force_login(member(Role.AUTOMATION_LEAD, username="anna"))
    page = client.get(reverse("portal:home")).content.decode()
    assert "erika" in page and "Sachbearbeitung" in page
    assert "otto" in page and "Fachbereichsverantwortung" in page
    assert "fremde_person" not in page
    assert "Noch nichts registriert" in page


def test_audit_panel_shows_latest_events_in_berlin_time_and_the_chain_length(client, tenant, member):
    dsb = member(Role.DATA_PROTECTION_OFFICER, username="dsb")
    lead = member(Role.AUTOMATION_LEAD, username="leitung")
    services.api_token_create(actor=lead, tenant=tenant, user=lead, name="ERP")
    client.force_login(dsb)
    page = client.get(reverse("portal:home")).content.decode()

    events = AuditEvent.objects.filter(tenant=tenant)
    newest = events.order_by("-sequence").first()
    assert newest.event_type == "user.logged_in"  # the DSB's own login, just now
    created = events.get(event_type="api_token.created")
    berlin = created.occurred_at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y %H:%M")
    assert berlin in page
    # Event types by their German names, never their keys.
    assert event_label("api_token.created") in page and "api_token.created" not in page and "leitung" in page
    assert f"umfasst {events.count()} Ereignisse" in page


def event_label(key: str) -> str:
    with translation.override("de"):
        return label(key)


def test_audit_panel_shows_only_the_active_tenants_events(client, tenant, member, make_tenant, make_user):
    other = make_tenant("andere", "Andere AG")
    make_user("fremd", tenant=other, roles=[Role.AUTOMATION_LEAD])
    services.tenant_create(actor=SYSTEM, slug="dritte", name="Dritte GmbH")
    client.force_login(member(Role.AUDITOR))
    page = client.get(reverse("portal:home")).content.decode()
    assert event_label("membership.created") in page  # of this tenant
    assert "fremd" not in page
    assert event_label("tenant.created") in page  # this tenant's own creation, not the others'
    chain_length = AuditEvent.objects.filter(tenant=tenant).count()
    assert f"umfasst {chain_length} Ereignisse" in page


def test_home_is_german_by_default_and_english_after_switching(client, member):
    client.force_login(member(Role.CLERK))
    page = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="de">' in page
    assert "Abmelden" in page and "Meine Warteschlangen" in page and "Mandant" in page

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:home")})
    assert response.status_code == 302
    page = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="en">' in page
    assert "Log out" in page and "My queues" in page and "Abmelden" not in page


def test_german_even_when_the_browser_asks_for_english(client, member):
    """The browser's language does not decide; only the switch does."""
    client.force_login(member(Role.CLERK))
    page = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="de">' in page and "Abmelden" in page
    assert "Anmelden" in Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("portal:login")).content.decode()


def test_login_page_is_german_and_logout_needs_post(client, member):
    page = client.get(reverse("portal:login")).content.decode()
    assert "Anmelden" in page and "Benutzername" in page and "Passwort" in page
    user = member(Role.CLERK)
    client.force_login(user)
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.post(reverse("portal:logout")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302


def test_login_with_password_lands_on_home(client, member):
    member(Role.AUDITOR, username="pruefer")
    response = client.post(reverse("portal:login"), {"username": "pruefer", "password": "Geheim-12345"},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert "Willkommen, pruefer" in response.content.decode()


def test_wrong_password_shows_a_german_error(client, member):
    member(Role.AUDITOR, username="pruefer")
    response = client.post(reverse("portal:login"), {"username": "pruefer", "password": "falsch"})
    assert response.status_code == 200
    assert "Benutzername und Passwort passen nicht zusammen" in response.content.decode()


def test_navigation_shows_members_only_with_permission(client, member):
    client.force_login(member(Role.CLERK))
    assert reverse("portal:members") not in client.get(reverse("portal:home")).content.decode()
    client.force_login(member(Role.AUTOMATION_LEAD))
    assert reverse("portal:members") in client.get(reverse("portal:home")).content.decode()


def test_forbidden_page_explains_in_german(client, member):
    client.force_login(member(Role.CLERK))
    response = client.get(reverse("portal:members"))
    assert response.status_code == 403
    assert "Zugriff verweigert" in response.content.decode()


@pytest.mark.django_db
def test_registry_panel_lists_the_use_cases_once_there_are_some(client, tenant, member):
    from tests.automations.factories import make_team, make_use_case

    team = make_team(member)
    make_use_case(tenant, team["automation_lead"], key="belege")
    client.force_login(team["automation_lead"])
    page = client.get("/").content.decode()
    assert "Noch nichts registriert" not in page and "Belege" in page and "/registry/belege/" in page


@pytest.mark.django_db
def test_only_the_most_specific_navigation_entry_is_current(client, tenant, member):
    from tests.automations.factories import make_team

    team = make_team(member)
    client.force_login(team["automation_lead"])
    page = client.get("/registry/inbox/").content.decode()
    assert page.count('aria-current="page"') == 1


@pytest.mark.django_db
def test_clerk_panel_shows_the_queues_with_their_figures(client, tenant, member):
    from tests.automations.factories import make_team, make_use_case
    from tests.reviews.factories import join_team, make_tasks

    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", output_fields=[
        {"name": "document_class", "type": "category", "choices": ["invoice"]}])
    other = make_use_case(tenant, team["automation_lead"], key="tickets", department="Kundenservice")
    queue = make_tasks(use_case, 3)[0].queue
    foreign = make_tasks(other, 1)[0].queue
    join_team(team["clerk"], use_case, team["automation_lead"])
    client.force_login(team["clerk"])
    page = client.get("/").content.decode()
    assert queue.name in page and f"/reviews/queues/{queue.pk}/" in page
    assert foreign.name not in page  # another team's queue


def test_the_icon_browsers_ask_for_is_the_portals_without_signing_in(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("portal/favicon.svg")
    assert finders.find("portal/favicon.svg")


@pytest.mark.django_db
def test_the_registry_panel_fits_each_role_and_counts_the_approvals_as_the_inbox_does(client, tenant, member):
    """The lead keeps the registry and the members; a department owner sees their departments' use cases, the ISB
    the use cases by risk with what they send data to, IT what they connect to. The notice of open change
    requests says how many wait for this reader, the same number their approval inbox ("Meine Freigaben") lists."""
    from automations.choices import ChangeKind
    from automations.registry.services import changes
    from tests.automations.factories import make_team, make_use_case

    team = make_team(member)
    lead, owner = team["automation_lead"], team["department_owner"]
    mine = make_use_case(tenant, lead, key="belege", department_owner=owner)
    make_use_case(tenant, lead, key="tickets", department="Kundenservice")
    make_use_case(tenant, lead, key="bewerbungen", department="Personal", risk_tier="high")
    changes.change_request_create(actor=team["it_operator"], tenant=tenant, use_case=mine,
                                  kind=ChangeKind.DOCUMENTATION, title="Zweck schärfen", description="klarer",
                                  payload={"changes": {"purpose": "Belege sortieren."}})
    pages, waiting = {}, {}
    for role in ("automation_lead", "department_owner", "security_officer", "it_operator"):
        client.force_login(team[role])
        pages[role] = client.get(reverse("portal:home")).content.decode()
        waiting[role] = "Zweck schärfen" in client.get(reverse("automations:change-request-inbox")).content.decode()
        notice = ("1 Änderungsantrag ist offen: 1 davon wartet auf Ihre Freigabe" if waiting[role]
                  else "1 Änderungsantrag ist offen: keiner davon wartet auf Ihre Freigabe")
        assert notice in " ".join(re.sub(r"<[^>]+>", "", pages[role]).split()), role
    # Lead and department owner approve it; the ISB is not asked, the author never.
    assert waiting == {"automation_lead": True, "department_owner": True, "security_officer": False,
                       "it_operator": False}

    def listed(page):
        table = page.split('id="home-use-cases"', 1)[1].split("</table>", 1)[0]
        return sorted((key for key in ("Belege", "Tickets", "Bewerbungen") if f">{key}</a>" in table),
                      key=lambda key: table.index(f">{key}</a>"))

    assert 'data-view="registry"' in pages["automation_lead"] and "Mitglieder dieses Mandanten" in pages[
        "automation_lead"]
    assert 'data-view="departments"' in pages["department_owner"]
    assert "Anwendungsfälle Ihrer Fachbereiche" in pages["department_owner"]
    assert listed(pages["department_owner"]) == ["Belege"]  # their department's only
    assert 'data-view="risks"' in pages["security_officer"]
    assert listed(pages["security_officer"])[0] == "Bewerbungen"  # high risk first
    assert 'data-view="integrations"' in pages["it_operator"] and "Anbindungen" in pages["it_operator"]
    for role in ("department_owner", "security_officer", "it_operator"):
        assert "Mitglieder dieses Mandanten" not in pages[role], role
