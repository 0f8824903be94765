"""Every role's home page shows that role's work first: approvals waiting for this person (periodic reviews due
come from the quality part's panel), escalations, connector and processor states for IT, catalogue requests for
the ISB, data subject requests with their deadlines for the DSB, what is measured for the works council, the
Leitstand for the core team."""
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.services.requests import data_subject_request_open
from automations.choices import ChangeKind
from automations.connectors.models import ConnectorCircuit
from automations.models import CatalogueEntry
from automations.registry.models.processors import ProcessorCircuit
from automations.registry.services import changes
from reviews.choices import QueueKind
from reviews.services import review_queue_ensure
from tests.access import login
from tests.automations.factories import make_use_case

pytestmark = pytest.mark.django_db


def panels(page: str) -> list[str]:
    """The panel keys of a home page, in order."""
    return re.findall(r'id="panel-([a-z_]+)-title"', page)


def home(client, user, tenant) -> str:
    login(client, user, tenant)
    return client.get(reverse("portal:home")).content.decode()


def test_an_approval_waiting_for_me_comes_first_and_not_for_its_author(client, tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege",
                             department_owner=team["department_owner"])
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, use_case=use_case,
                                       kind=ChangeKind.DOCUMENTATION, title="Zweck schärfen",
                                       description="genauer", payload={"changes": {"purpose": "Belege sortieren."}})
    page = home(client, team["department_owner"], tenant)
    assert panels(page)[0] == "approvals"
    assert f"CR-{cr.pk} · Zweck schärfen" in page and reverse("automations:change-request-detail", args=[cr.pk]) in page
    assert "approvals" not in panels(home(client, team["automation_lead"], tenant))  # the author approves nothing
    assert f"CR-{cr.pk}" in home(client, team["automation_lead_2"], tenant)


def test_it_sees_connector_and_processor_breakers_first(client, tenant, team):
    hook = CatalogueEntry.objects.create(tenant=tenant, kind="connector", key="erp", name="ERP-Webhook",
                                         connector_type="webhook", direction="delivery")
    ConnectorCircuit.objects.create(tenant=tenant, entry=hook, state="open", consecutive_failures=5)
    llm = CatalogueEntry.objects.create(tenant=tenant, kind="processor", key="eu-llm", name="EU-Sprachmodell")
    ProcessorCircuit.objects.create(tenant=tenant, entry=llm, state="half_open", consecutive_failures=3,
                                    last_error="HTTP 503")
    page = home(client, team["it_operator"], tenant)
    assert panels(page)[0] == "connectors"
    assert 'data-connector="erp" data-state="open"' in page
    assert 'data-processor="eu-llm" data-state="half_open"' in page and "HTTP 503" in page
    assert "connectors" not in panels(home(client, team["clerk"], tenant))


def test_the_isb_sees_open_catalogue_requests(client, tenant, team):
    cr = changes.change_request_create(
        actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE, title="Neuer Connector DMS",
        description="Ablage im DMS", payload={"key": "dms", "fields": {
            "kind": "connector", "name": "DMS", "connector_type": "webhook", "direction": "delivery",
            "endpoint": "https://dms.example/hooks"}})
    page = home(client, team["security_officer"], tenant)
    assert panels(page)[:2] == ["approvals", "catalogue_requests"]
    section = page[page.index('id="home-catalogue-requests"'):]
    assert f"CR-{cr.pk} · Neuer Connector DMS" in section and "wartet auf Ihre Freigabe" in section


def test_the_dsb_sees_requests_with_their_deadlines_first(client, tenant, team):
    request = data_subject_request_open(tenant=tenant, kind="access", identifier_kind="email",
                                        identifier="erika@example.org", actor=team["data_protection_officer"],
                                        received_at=timezone.now() - timedelta(days=25))
    page = home(client, team["data_protection_officer"], tenant)
    assert panels(page).index("subject_requests") < panels(page).index("audit")
    section = page[page.index('id="panel-subject_requests-title"'):page.index('id="panel-audit-title"')]
    assert f"#{request.pk}" in section and request.due_at.astimezone(
        timezone.get_default_timezone()).strftime("%d.%m.%Y") in section
    assert page.count('id="open-requests"') == 1  # not once more in the audit panel


def test_the_works_council_sees_what_is_measured(client, tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege")
    review_queue_ensure(use_case=use_case, kind=QueueKind.REVIEW)  # clerks decide its items: people are measured
    page = home(client, team["works_council"], tenant)
    assert "Über Beschäftigte wird noch nichts gemessen" not in page
    section = page[page.index('id="home-measures"'):]
    assert "Belege" in section and "Bearbeitungszeit" in section


def test_the_core_teams_home_shows_the_leitstand(client, tenant, team):
    make_use_case(tenant, team["automation_lead"], key="belege")
    page = home(client, team["automation_lead"], tenant)
    assert "leitstand" in panels(page) and 'class="chart chart-outcome"' in page
    assert reverse("leitstand:home") in page
    assert "leitstand" not in panels(home(client, team["clerk"], tenant))
