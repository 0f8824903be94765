"""The quick start's review part: clerk and clerk_2 cleared for the demo use cases, idempotently."""
import pytest
from guardian.shortcuts import get_perms

from audit.models import AuditEvent
from demo import seed as demo
from reviews.choices import QueueKind
from reviews.models import BriefingConfirmation, ReviewQueue, TrainingRecord
from reviews.selectors import cleared_use_case_ids, may_work_queue
from tests.reviews.conftest import english  # noqa: F401  (the review tests' English messages)

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_clerks_may_claim_the_demo_use_cases_and_a_second_run_adds_nothing(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    result = demo.seed()
    tenant = result.tenant
    counts = (BriefingConfirmation.objects.count(), TrainingRecord.objects.count(), AuditEvent.objects.count())
    assert counts[0] == 6 and counts[1] == 6
    use_cases = {q.use_cases.get().key for q in ReviewQueue.objects.filter(tenant=tenant, kind=QueueKind.REVIEW)}
    assert use_cases == {"eingangsrechnungen", "belegklassifizierung", "service-tickets"}
    for name in ("clerk", "clerk_2"):
        user = result.users[name]
        user.active_tenant = tenant
        assert len(cleared_use_case_ids(tenant=tenant, user=user)) == 3
        assert all(may_work_queue(user=user, queue=q) for q in ReviewQueue.objects.filter(tenant=tenant))
        assert all("work_reviewqueue" in get_perms(user, q) for q in ReviewQueue.objects.filter(tenant=tenant))
        assert ReviewQueue.objects.filter(tenant=tenant).count() == 9  # review, clarification, sample check
    demo.seed()
    assert (BriefingConfirmation.objects.count(), TrainingRecord.objects.count(), AuditEvent.objects.count()) == counts
