"""The quick start's high-risk use case with four eyes (demo.applications): live in production through a
change request every required role approved, worked by clerk and clerk_2, with open work on first login —
applications waiting for a first review and one that clerk decided, waiting for clerk_2's second review."""
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from automations.choices import ItemStatus, RiskTier, UseCaseStatus
from automations.execution.selectors import work_item_identities
from automations.models import ChangeRequest, WorkItem
from demo import applications
from demo import seed as demo
from portal.choices import Role
from portal.middleware import SESSION_TENANT_KEY
from reviews.choices import TaskState
from reviews.models import ReviewTask
from reviews.selectors import cleared_use_case_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_high_risk_demo_shows_four_eyes_on_first_login(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    result = demo._seed_portal()
    tenant, users = result.tenant, result.users
    applications.seed(tenant, users)
    use_case = tenant_use_case = WorkItem.objects.filter(tenant=tenant).first().use_case
    assert (tenant_use_case.key, use_case.risk_tier, use_case.status) == (
        "bewerbungseingang", RiskTier.HIGH, UseCaseStatus.PRODUCTION)
    live = ChangeRequest.objects.get(use_case=use_case, kind="status_change")
    assert set(live.required_roles) >= {Role.WORKS_COUNCIL, Role.DATA_PROTECTION_OFFICER, Role.SECURITY_OFFICER}
    assert not WorkItem.objects.filter(use_case=use_case, status=ItemStatus.APPLIED).exists()  # never automatic
    tasks = ReviewTask.objects.filter(use_case=use_case)
    waiting = tasks.get(state=TaskState.AWAITING_SECOND_REVIEW)
    assert waiting.first_reviewer == users["clerk"] and waiting.item.status == ItemStatus.REVIEW
    assert tasks.filter(state=TaskState.OPEN).count() == len(applications.OPEN_APPLICATIONS) - 1
    for name in applications.CLERKS:
        assert use_case.pk in cleared_use_case_ids(tenant=tenant, user=users[name])
    # Lists tell the applications apart by the position suggested (its title field), not by time alone.
    items = list(WorkItem.objects.filter(use_case=use_case).select_related("use_case"))
    summaries = {identity.summary for identity in work_item_identities(items=items).values()}
    assert len(summaries) == len(applications.OPEN_APPLICATIONS) and "Vertrieb" in summaries

    # clerk_2 logs in and finds the second review waiting in the queue's tab, and gets it as next task.
    client = Client()
    client.force_login(users["clerk_2"])
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    tab = client.get(reverse("reviews:queue-detail", args=[waiting.queue_id]) + "?state=awaiting_second_review")
    assert tab.status_code == 200 and "data-first-reviewer>" in tab.content.decode()
    response = client.post(reverse("reviews:queue-next", args=[waiting.queue_id]))
    assert response["Location"].rstrip("/").endswith(str(waiting.pk))

    events = AuditEvent.objects.count()
    applications.seed(tenant, users)  # a second run adds nothing
    assert AuditEvent.objects.count() == events and ReviewTask.objects.filter(use_case=use_case).count() == len(
        applications.OPEN_APPLICATIONS)
