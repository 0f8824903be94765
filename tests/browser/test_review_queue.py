"""Review queues in real headless Chromium: a clerk works the queue with the keyboard alone, two clerks
at the same time never get the same task, a clerk without briefing and training cannot claim, and a
high-risk decision waits for clerk_2. Elements are found by ids and data attributes, not by text."""
import re

import pytest
from playwright.sync_api import expect

from automations.choices import ItemStatus, RiskTier
from reviews.choices import DecisionAction, TaskState
from reviews.models import ReviewDecision, ReviewTask
from tests.automations.factories import make_use_case
from tests.browser.conftest import log_in
from tests.reviews.factories import clear
from tests.reviews.world import INPUTS, OUTPUTS, attach_file, make_review_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TASK_URL = re.compile(r"/reviews/tasks/(\d+)/$")


def task_id(page) -> int:
    expect(page).to_have_url(TASK_URL)
    return int(TASK_URL.search(page.url).group(1))


def task_after(page, previous: int) -> int:
    """The next task's id once the decision has taken the browser there (a loaded machine may need a while;
    reading the URL at once would still find the task just decided)."""
    page.wait_for_url(lambda url: bool(TASK_URL.search(url)) and int(TASK_URL.search(url).group(1)) != previous,
                      timeout=30_000)
    return task_id(page)


def open_queue(page, queue):
    page.goto(f"{page.base_url}/reviews/")
    page.locator(f'[data-queue-link="{queue.pk}"]').click()
    expect(page.locator("#queue-title")).to_be_visible()


@pytest.fixture
def other_page(chromium, browser_page):
    """A second, independent browser profile (another clerk at another desk)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = browser_page.base_url
    yield page
    context.close()


def test_a_clerk_works_the_queue_with_the_keyboard_alone(browser_page, world):
    page, queue = browser_page, world["queue"]
    for task in world["tasks"]:
        attach_file(task.item)
    log_in(page, "clerk")
    open_queue(page, queue)

    page.keyboard.press("n")
    first = task_id(page)
    expect(page.locator("#task-page")).to_have_attribute("data-mode", "work")
    expect(page.locator(".doc-page").first).to_be_visible()
    expect(page.locator('[data-confidence="62"]')).to_be_visible()

    page.keyboard.press("?")  # the help overlay
    expect(page.locator("#shortcut-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()

    page.keyboard.press("2")  # the second field, IBAN, gets the focus with its text selected
    expect(page.locator("#field-iban")).to_be_focused()
    page.keyboard.type("DE02120300000000202051")
    page.keyboard.press("Escape")
    expect(page.locator('[data-field="iban"]')).to_have_class(re.compile("field-changed"))
    page.screenshot(path="/tmp/review-task.png", full_page=False)
    page.keyboard.press("c")
    second = task_after(page, first)
    assert second != first
    decision = ReviewDecision.objects.get(task_id=first)
    assert decision.action == DecisionAction.CORRECT and set(decision.diff) == {"iban"}
    assert decision.final_fields["iban"] == "DE02120300000000202051"
    expect(page.locator(".message-success")).to_be_visible()

    page.keyboard.press("a")  # approve as suggested, on to the next
    third = task_after(page, second)
    assert third not in (first, second)
    assert ReviewDecision.objects.get(task_id=second).action == DecisionAction.APPROVE

    page.keyboard.press("r")  # a rejection needs a reason: the comment gets the focus instead
    expect(page.locator("#id_comment")).to_be_focused()
    expect(page.locator("#reason-hint")).to_be_visible()
    page.keyboard.type("Kein Beleg von uns")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#queue-empty")).to_be_visible()  # the queue is done
    assert ReviewTask.objects.get(pk=third).item.status == ItemStatus.REJECTED
    expect(page.locator("#done-today")).to_have_text("3")


def test_two_clerks_at_the_same_time_never_get_the_same_task(browser_page, other_page, world):
    make_review_tasks(world["use_case"], 3, start=20)
    log_in(browser_page, "clerk")
    log_in(other_page, "clerk_2")
    for page in (browser_page, other_page):
        open_queue(page, world["queue"])
    seen = []
    for _round in range(3):
        browser_page.locator("#next-task").click()
        other_page.locator("#next-task").click()
        mine, theirs = task_id(browser_page), task_id(other_page)
        assert mine != theirs
        seen += [mine, theirs]
        for page in (browser_page, other_page):
            page.locator("#decide-approve").click()
            page.wait_for_load_state()
            page.goto(f"{page.base_url}/reviews/queues/{world['queue'].pk}/")
    assert len(set(seen)) == 6
    holders = {d.task_id: d.actor.username for d in ReviewDecision.objects.all()}
    assert sorted(holders.values()).count("clerk") == 3


def test_a_clerk_without_briefing_and_training_cannot_claim(browser_page, world):
    page, task = browser_page, world["tasks"][0]
    log_in(page, "clerk_new")
    open_queue(page, world["queue"])
    expect(page.locator("#claim-gate")).to_be_visible()
    expect(page.locator("#next-task")).to_have_count(0)
    page.goto(f"{page.base_url}/reviews/tasks/{task.pk}/")
    expect(page.locator("#claim-gate")).to_be_visible()
    expect(page.locator("#claim-task")).to_have_count(0)
    expect(page.locator("#field-iban")).to_be_disabled()

    expect(page.locator("#claim-gate")).to_have_attribute("data-briefing-confirmed", "false")
    page.locator("#claim-gate a").first.click()  # to the briefing, and back
    page.locator("#confirm-briefing").click()
    expect(page).to_have_url(re.compile(rf"/reviews/tasks/{task.pk}/$"))
    expect(page.locator("#claim-gate")).to_have_attribute("data-briefing-confirmed", "true")
    expect(page.locator("#claim-gate")).to_have_attribute("data-trained", "false")  # still missing
    expect(page.locator("#claim-task")).to_have_count(0)
    assert not ReviewTask.objects.filter(claimed_by__username="clerk_new").exists()


def test_a_high_risk_decision_waits_for_clerk_2(browser_page, other_page, world, tenant):
    team = world["team"]
    risky = make_use_case(tenant, team["automation_lead"], key="kredit", risk_tier=RiskTier.HIGH,
                          input_fields=INPUTS, output_fields=OUTPUTS)
    for name in ("clerk", "clerk_2"):
        clear(team[name], risky, team["automation_lead"])
    task = make_review_tasks(risky, 1)[0]

    log_in(browser_page, "clerk")
    open_queue(browser_page, task.queue)
    browser_page.keyboard.press("n")
    assert task_id(browser_page) == task.pk
    browser_page.keyboard.press("a")
    expect(browser_page.locator("#queue-title")).to_be_visible()  # nothing further for clerk
    task.refresh_from_db()
    assert task.state == TaskState.AWAITING_SECOND_REVIEW and task.item.status == ItemStatus.REVIEW

    log_in(other_page, "clerk_2")
    open_queue(other_page, task.queue)
    other_page.locator('[data-state-tab="awaiting_second_review"]').click()
    expect(other_page.locator(f'[data-task="{task.pk}"]')).to_be_visible()
    other_page.keyboard.press("n")
    assert task_id(other_page) == task.pk
    expect(other_page.locator("#first-decision")).to_be_visible()
    other_page.screenshot(path="/tmp/review-second.png", full_page=False)
    other_page.keyboard.press("a")  # confirm
    expect(other_page.locator("#queue-title")).to_be_visible()
    task.refresh_from_db()
    task.item.refresh_from_db()
    assert task.state == TaskState.DONE and task.item.status == ItemStatus.APPLIED
    assert [d.actor.username for d in task.decisions.order_by("created_at")] == ["clerk", "clerk_2"]
