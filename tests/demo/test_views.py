"""The demo invoices pages (demo app, mounted outside production only): who may open them, downloading one,
sending all to Eingangsrechnungen; the product's pages link there only for a use case that reads invoices."""
import pytest
from django.urls import NoReverseMatch, reverse

from automations.models import WorkItem
from demo.invoices import generate_demo_invoices
from demo.use_cases import demo_files_folder
from tests.access import login
from tests.automations.factories import make_rules_use_case, make_use_case
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_invoices(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    folder = demo_files_folder()
    folder.mkdir(parents=True)
    generate_demo_invoices(folder)
    return sorted(p.name for p in folder.glob("*.pdf"))


def test_demo_pages_need_login(client):
    response = client.get(reverse("demo:invoices"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_works_council_may_not_open_or_send_demo_invoices(client, tenant, team, demo_invoices):
    login(client, team["works_council"], tenant)
    assert client.get(reverse("demo:invoices")).status_code == 403
    assert client.get(reverse("demo:invoice-file", args=[demo_invoices[0]])).status_code == 403
    assert client.post(reverse("demo:invoices-send")).status_code == 403


def test_a_clerk_lists_and_downloads_the_demo_invoices(client, tenant, team, demo_invoices):
    login(client, team["clerk"], tenant)
    page = client.get(reverse("demo:invoices")).content.decode()
    assert all(name in page for name in demo_invoices)
    response = client.get(reverse("demo:invoice-file", args=[demo_invoices[0]]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("demo:invoice-file", args=["not-a-demo-invoice.pdf"])).status_code == 404


def test_sending_all_demo_invoices_creates_one_item_each(client, tenant, team, demo_invoices, eager_tasks):
    use_case = make_rules_use_case(tenant, team, key="eingangsrechnungen")
    join_team(team["clerk"], use_case, team["automation_lead"])  # as in the quick start: the clerk's department
    login(client, team["clerk"], tenant)
    response = client.post(reverse("demo:invoices-send"))
    assert response.status_code == 302 and "use_case=eingangsrechnungen" in response["Location"]
    assert WorkItem.objects.filter(tenant=tenant, use_case__key="eingangsrechnungen").count() == len(demo_invoices)


def test_the_use_case_page_links_the_demo_invoices_only_where_an_invoice_engine_runs(client, tenant, team):
    from automations.registry.services import versions

    lead = team["automation_lead"]
    rules = make_rules_use_case(tenant, team, key="belege")
    invoices = make_use_case(tenant, lead, key="rechnungen",
                             output_fields=[{"name": "invoice_number", "type": "text", "required": True}])
    config = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=invoices, kind="engine_config",
        content={"engine": "invoice", "fields": ["invoice_number"], "parameters": {}}))
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=invoices, kind="threshold_set",
        content={"thresholds": {"invoice_number": {"auto": 0.9, "reject": 0.2}}}))
    versions.release_create(actor=lead, use_case=invoices, threshold_set=threshold, engine_configs=[config])
    login(client, lead, tenant)
    link = f'href="{reverse("demo:invoices")}"'
    assert link not in client.get(reverse("automations:use-case-detail", args=[rules.key])).content.decode()
    assert link in client.get(reverse("automations:use-case-detail", args=[invoices.key])).content.decode()


def test_demo_pages_are_not_mounted_in_production(settings):
    import importlib

    from django.urls import clear_url_caches

    import portal.urls

    settings.PRODUCTION = True
    try:
        clear_url_caches()
        importlib.reload(portal.urls)
        with pytest.raises(NoReverseMatch):
            reverse("demo:invoices", urlconf=portal.urls)
    finally:
        settings.PRODUCTION = False
        importlib.reload(portal.urls)
        clear_url_caches()
