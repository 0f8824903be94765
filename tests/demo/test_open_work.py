"""Work waiting on first login for the demo's approvers and its DSB (demo.open_work): a catalogue request for the
automation leads and the ISB, a change to the high-risk use case for every approving role (with the briefing
warning), and an access request on the DSB's home page — each found in the user's approval inbox or panel."""
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent, DataSubjectRequest
from automations.choices import ChangeState
from automations.models import ChangeRequest
from automations.registry.selectors import change_request_inbox
from demo import applications, open_work
from demo import seed as demo
from demo.use_cases import _master_data
from portal.middleware import SESSION_TENANT_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_approver_and_the_dsb_find_work_waiting_on_first_login(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    result = demo._seed_portal()
    tenant, users = result.tenant, result.users
    _master_data(tenant, users)  # the customer who asks for access
    applications.seed(tenant, users)
    open_work.seed(tenant, users)

    waiting = {name: {cr.title for cr in change_request_inbox(tenant=tenant, user=users[name])}
               for name in ("automation_lead", "automation_lead_2", "department_owner", "security_officer",
                            "data_protection_officer", "works_council", "it_operator")}
    both = {open_work.CONNECTOR_TITLE, open_work.FALLBACK_TITLE}
    assert waiting == {"automation_lead": both, "automation_lead_2": {open_work.CONNECTOR_TITLE},
                       "department_owner": {open_work.FALLBACK_TITLE}, "security_officer": both,
                       "data_protection_officer": {open_work.FALLBACK_TITLE},
                       "works_council": {open_work.FALLBACK_TITLE}, "it_operator": set()}
    request = DataSubjectRequest.objects.get(tenant=tenant)
    assert request.status == "open" and request.due_at > request.received_at

    def home(name):
        client = Client()
        client.force_login(users[name])
        session = client.session
        session[SESSION_TENANT_KEY] = tenant.pk
        session.save()
        return client, client.get(reverse("portal:home")).content.decode()

    _client, page = home("data_protection_officer")
    assert "Betroffenenersuchen und ihre Fristen" in page and "Auskunft" in page
    client, page = home("security_officer")
    assert "Anträge zum Baukasten" in page and open_work.CONNECTOR_TITLE in page
    fallback = ChangeRequest.objects.get(tenant=tenant, title=open_work.FALLBACK_TITLE)
    detail = client.get(reverse("automations:change-request-detail", args=[fallback.pk])).content.decode()
    assert 'id="briefing-notice"' in detail  # it alters what the clerks were briefed on, and says so

    events = AuditEvent.objects.count()
    open_work.seed(tenant, users)  # a second run adds nothing
    assert AuditEvent.objects.count() == events
    assert ChangeRequest.objects.filter(tenant=tenant, state=ChangeState.OPEN).count() == 2
    assert DataSubjectRequest.objects.filter(tenant=tenant).count() == 1
