"""Threshold backtest: the numbers on constructed past decisions — for every engine, against the thresholds in
force — on the threshold form, attached to the change request that proposes the thresholds, and over the API."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from automations.choices import ChangeKind, Engine, ItemStatus
from automations.models import ThresholdBacktest
from automations.quality.backtest import threshold_backtest
from automations.registry.selectors import version_list
from automations.registry.services import changes, versions
from reviews.choices import DecisionAction
from tests import access
from tests.automations.factories import evaluate_release, make_use_case, put_live
from tests.automations.quality.past import decide, routed_item
from tests.reviews.factories import clear

pytestmark = pytest.mark.django_db

OUTPUTS = [{"name": "document_class", "type": "category", "required": True,
            "choices": ["invoice", "reminder", "delivery_note", "other"]},
           {"name": "priority", "type": "category", "choices": ["high", "low"]}]
IN_FORCE = {"document_class": {"auto": 0.95, "reject": 0.3}, "priority": {"auto": 0.9, "reject": 0.2}}
PROPOSED = {"document_class": {"auto": 0.8, "reject": 0.3}, "priority": {"auto": 0.7, "reject": 0.2}}


def release_with(use_case, lead, thresholds):
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set", content={"thresholds": thresholds}))
    configs = [versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config",
        content={"engine": engine, "parameters": {}, "fields": fields}))
        for engine, fields in ((Engine.RULES, ["document_class"]), (Engine.CLASSIFIER, ["document_class"]),
                               (Engine.LLM, ["priority"]))]
    return versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=configs)


def api_client(user, tenant) -> APIClient:
    return access.login(APIClient(), user, tenant)


@pytest.fixture
def past(tenant, team):
    """Eight items of the last month (and two that must not count), with the clerks' decisions."""
    lead, clerk = team["automation_lead"], team["clerk"]
    use_case = make_use_case(tenant, lead, key="belege", output_fields=OUTPUTS,
                             department_owner=team["department_owner"])
    release = release_with(use_case, lead, IN_FORCE)
    use_case = put_live(use_case, team, release)
    clear(clerk, use_case, lead)
    r, c, llm = "rules", "classifier", "llm"
    items = {
        # every engine sure: applied under both sets; nobody checked it
        "C": routed_item(use_case, release, [("document_class", "invoice", 0.97, c), ("priority", "high", 0.95, llm)],
                         status=ItemStatus.APPLIED, n=3),
        "A": routed_item(use_case, release, [("document_class", "invoice", 0.85, r),
                                             ("document_class", "invoice", 0.9, c), ("priority", "high", 0.8, llm)],
                         n=1),
        "B": routed_item(use_case, release, [("document_class", "invoice", 0.82, r),
                                             ("document_class", "reminder", 0.6, c), ("priority", "low", 0.75, llm)],
                         n=2),
        "D": routed_item(use_case, release, [("document_class", "other", 0.5, r), ("priority", "high", 0.9, llm)], n=4),
        "E": routed_item(use_case, release, [("document_class", "invoice", 0.2, c)], status=ItemStatus.CLARIFICATION,
                         n=5),
        "F": routed_item(use_case, release, [("document_class", "invoice", 0.99, c), ("priority", "high", 0.99, llm)],
                         held_back=True, n=6),
        "G": routed_item(use_case, release, [("priority", "high", 0.9, llm)], status=ItemStatus.CLARIFICATION, n=7),
        "H": routed_item(use_case, release, [("document_class", "invoice", 0.88, c), ("priority", "high", 0.8, llm)],
                         n=8),
        # outside the period, and a dry run: never replayed
        "old": routed_item(use_case, release, [("document_class", "invoice", 0.99, c)], days_ago=40, n=9),
        "dry": routed_item(use_case, release, [("document_class", "invoice", 0.99, c)], dry_run=True, n=10),
    }
    decide(items["A"], clerk, DecisionAction.APPROVE)
    decide(items["B"], clerk, DecisionAction.CORRECT, {"document_class": "reminder"})
    decide(items["D"], clerk, DecisionAction.APPROVE)
    decide(items["E"], clerk, DecisionAction.CORRECT, {"document_class": "delivery_note"})
    decide(items["F"], clerk, DecisionAction.REJECT)
    decide(items["H"], clerk, DecisionAction.REJECT)
    decide(items["old"], clerk, DecisionAction.CORRECT, {"document_class": "other"})
    return use_case, release


def test_the_backtest_counts_right_on_constructed_past_decisions(past):
    use_case, _release = past
    result = threshold_backtest(use_case=use_case, thresholds=PROPOSED, days=30)
    proposed = result["proposed"]
    assert proposed["items"] == 8
    # A, B, C and H would be applied; the clerks checked A, B and H and corrected B and rejected H
    assert (proposed["applied_automatically"], proposed["automation_share"]) == (4, 0.5)
    assert (proposed["auto_checked"], proposed["auto_corrected"], proposed["auto_unchecked"]) == (3, 2, 1)
    assert proposed["auto_error_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert proposed["estimated_errors"] == 3  # 2/3 of the four applied
    # D below `auto`, F held back by a reason of its own: review; E below `reject`, G without its required field
    assert (proposed["to_review"], proposed["to_clarification"], proposed["manual_items"]) == (2, 2, 4)
    current = result["current"]
    assert current["threshold_set"] == 1 and current["thresholds"] == IN_FORCE
    assert (current["applied_automatically"], current["auto_checked"], current["auto_corrected"]) == (1, 0, 0)
    assert (current["to_review"], current["to_clarification"]) == (5, 2)
    # every engine, not only the classifier: how often its value would pass, and how often it was wrong
    engines = {(row["engine"], row["field"]): row for row in proposed["engines"]}
    assert engines[("rules", "document_class")] == {"engine": "rules", "field": "document_class", "suggestions": 3,
                                                    "would_pass": 2, "checked": 2, "wrong": 1}
    assert engines[("classifier", "document_class")] == {"engine": "classifier", "field": "document_class",
                                                         "suggestions": 6, "would_pass": 4, "checked": 1, "wrong": 0}
    assert engines[("llm", "priority")] == {"engine": "llm", "field": "priority", "suggestions": 7, "would_pass": 7,
                                            "checked": 3, "wrong": 0}


def test_the_change_request_that_moves_thresholds_carries_the_backtest(past, tenant, team, login, run_on_commit):
    use_case, _release = past
    lead = team["automation_lead"]
    release = release_with(use_case, lead, PROPOSED)
    evaluate_release(release, lead)  # the production label needs a passing evaluation of the release
    cr = run_on_commit(changes.change_request_create, actor=lead, tenant=tenant, use_case=use_case,
                       kind=ChangeKind.LABEL_MOVE, title="Schwellen senken", description="Rückblick zeigt es",
                       payload={"label": "production", "release_id": release.pk})
    backtest = ThresholdBacktest.objects.get(change_request=cr)
    assert backtest.thresholds == PROPOSED and backtest.threshold_set == release.threshold_set
    assert backtest.figures["proposed"]["applied_automatically"] == 4
    assert backtest.figures["current"]["applied_automatically"] == 1
    page = login(team["department_owner"], tenant).get(reverse("automations:change-request-detail", args=[cr.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="threshold-backtests"' in html and "Schwellenwert-Rückblick" in html
    assert "4 (50,0 %)" in html  # applied automatically under the proposed thresholds, shown to the approver
    # the same release again, or a move that keeps the thresholds, gets none
    same = release_with(use_case, lead, IN_FORCE)
    evaluate_release(same, lead)
    cr2 = run_on_commit(changes.change_request_create, actor=lead, tenant=tenant, use_case=use_case,
                        kind=ChangeKind.LABEL_MOVE, title="nur Engines", description="gleich",
                        payload={"label": "production", "release_id": same.pk})
    assert not ThresholdBacktest.objects.filter(change_request=cr2).exists()


def test_the_threshold_form_shows_the_backtest_and_saves_nothing(past, tenant, team, login):
    use_case, _release = past
    client = login(team["automation_lead"], tenant)
    before = version_list(use_case=use_case, kind="threshold_set").count()
    url = reverse("automations:version-create", args=[use_case.key, "threshold_set"])
    assert 'id="run-backtest"' in client.get(url).content.decode()
    response = client.post(url, {"auto__document_class": "0,8", "reject__document_class": "0,3",
                                 "auto__priority": "0,7", "reject__priority": "0,2", "change_note": "",
                                 "backtest": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="threshold-backtest"' in html
    assert 'data-figure="applied">4 (50,0 %)' in html and 'data-figure="corrected">2 (66,7 %)' in html
    assert 'data-figure="manual">4 (50,0 %)' in html
    assert version_list(use_case=use_case, kind="threshold_set").count() == before


def test_the_backtest_over_the_api(past, tenant, team):
    use_case, _release = past
    client = api_client(team["automation_lead"], tenant)
    url = reverse("api:use-case-threshold-backtest", args=[use_case.key])
    response = client.post(url, {"thresholds": PROPOSED, "days": 30}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["proposed"]["auto_corrected"] == 2
    stored = client.post(url, {"threshold_set": 1}, format="json").json()
    assert stored["proposed"]["applied_automatically"] == stored["current"]["applied_automatically"] == 1
    assert client.post(url, {"days": 30}, format="json").status_code == 400
    assert api_client(team["clerk"], tenant).post(url, {"thresholds": PROPOSED}, format="json").status_code == 403
