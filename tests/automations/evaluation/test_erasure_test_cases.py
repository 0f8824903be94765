"""A test case taken from a person's item goes with the item when the DSB erases the person: its row and its
versions (its file is deleted after the commit, with the item's); the evaluations that ran it keep their figures,
with the identifier replaced."""
import pytest
from django.db import connection

from audit.services.erasure import data_subject_erase
from automations.evaluation.models import EvaluationResult, QualityTestCase
from automations.evaluation.services import evaluations, test_cases
from automations.models import WorkItem
from automations.registry.services import versions
from reviews import services as review_services
from reviews.choices import DecisionAction
from tests.reviews.world import attach_file, world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_erasing_a_person_deletes_the_test_cases_taken_from_their_items(world, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    team, use_case = world["team"], world["use_case"]
    lead = team["automation_lead"]
    task = world["tasks"][0]
    attach_file(task.item)
    task = review_services.review_task_claim(actor=team["clerk"], task=task)
    review_services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.APPROVE)
    item = WorkItem.objects.get(pk=task.item_id)
    case = test_cases.test_case_from_item(actor=lead, item=item)
    assert case.file_name == "rechnung.pdf" and case.payload["sender_email"] == item.payload["sender_email"]
    email = item.payload["sender_email"]
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set",
        content={"thresholds": {"document_class": {"auto": 0.9, "reject": 0.3}}}))
    config = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config",
        content={"engine": "rules", "fields": ["document_class"], "parameters": {"default": "other"}}))
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=[config])
    evaluation = evaluations.evaluation_run_now(actor=lead, release=release)
    assert evaluation.results.count() == 1

    report = data_subject_erase(actor=team["data_protection_officer"], tenant=world["tenant"], identifier=email,
                                kind="email")
    assert report.counts["test_cases"] == 1
    assert not QualityTestCase.objects.filter(pk=case.pk).exists()
    assert not QualityTestCase.history.filter(id=case.pk).exists()
    assert EvaluationResult.objects.get().test_case is None  # the figures stay
    with connection.cursor() as cursor:
        for table in ("automations_qualitytestcase", "automations_historicalqualitytestcase",
                      "automations_evaluationresult"):
            cursor.execute(f"SELECT count(*) FROM {table} t WHERE t::text LIKE %s", [f"%{email}%"])
            assert cursor.fetchone()[0] == 0, table
