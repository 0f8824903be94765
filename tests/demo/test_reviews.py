"""The quick start's review part: two departments with their own queues and clerks — clerk and clerk_2 the
team of Finanzbuchhaltung and Zentrale Poststelle, clerk_kundenservice the team of Kundenservice — each
cleared for their use cases only, the department owner owning the demo use cases; idempotently."""
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from automations.execution.selectors import work_item_list
from automations.registry.selectors import use_case_may
from demo import seed as demo
from reviews.choices import QueueKind
from reviews.models import BriefingConfirmation, ReviewQueue, TrainingRecord
from reviews.selectors import cleared_use_case_ids, may_work_queue, review_queue_list
from tests import access
from tests.reviews.conftest import english  # noqa: F401  (the review tests' English messages)

pytestmark = pytest.mark.django_db(transaction=True)

BOOKKEEPING = {"eingangsrechnungen", "belegklassifizierung"}
# clerk and clerk_2 are also the team Personal of the high-risk use case (demo.applications): four eyes.
FOUR_EYES = BOOKKEEPING | {"bewerbungseingang"}


def test_demo_clerks_work_their_own_department_only_and_a_second_run_adds_nothing(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    result = demo.seed()
    tenant = result.tenant
    counts = (BriefingConfirmation.objects.count(), TrainingRecord.objects.count(), AuditEvent.objects.count())
    assert counts[0] == 7 and counts[1] == 7  # two clerks × three use cases, one clerk × one
    use_cases = {q.use_cases.get().key for q in ReviewQueue.objects.filter(tenant=tenant, kind=QueueKind.REVIEW)}
    assert use_cases == FOUR_EYES | {"service-tickets"}
    assert ReviewQueue.objects.filter(tenant=tenant).count() == 12  # review, clarification, sample check
    for name, keys in (("clerk", FOUR_EYES), ("clerk_2", FOUR_EYES), ("clerk_kundenservice", {"service-tickets"})):
        user = result.users[name]
        seen = {u.key for q in review_queue_list(tenant=tenant, user=user) for u in q.use_cases.all()}
        assert seen == keys, name
        assert len(cleared_use_case_ids(tenant=tenant, user=user)) == len(keys)
        for queue in ReviewQueue.objects.filter(tenant=tenant):
            assert may_work_queue(user=user, queue=queue) == (queue.use_cases.get().key in keys), (name, queue)
        assert {i.use_case.key for i in work_item_list(tenant=tenant, user=user)} <= keys
    owner = result.users["department_owner"]
    assert all(use_case_may(use_case=q.use_cases.get(), user=owner, action="change")
               for q in ReviewQueue.objects.filter(tenant=tenant))

    # On the pages, too, the Kundenservice clerk finds no queue of the bookkeeping team.
    client = access.login(Client(), result.users["clerk_kundenservice"], tenant)
    page = client.get(reverse("reviews:queue-list")).content.decode()
    own = ReviewQueue.objects.get(tenant=tenant, use_cases__key="service-tickets", kind=QueueKind.REVIEW)
    assert own.name in page
    for queue in ReviewQueue.objects.filter(tenant=tenant, use_cases__key__in=BOOKKEEPING):
        assert queue.name not in page
        assert client.get(reverse("reviews:queue-detail", args=[queue.pk])).status_code == 404

    counts = (BriefingConfirmation.objects.count(), TrainingRecord.objects.count(), AuditEvent.objects.count())
    demo.seed()
    assert (BriefingConfirmation.objects.count(), TrainingRecord.objects.count(), AuditEvent.objects.count()) == counts
