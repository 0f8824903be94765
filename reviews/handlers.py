"""The review layer's handlers of execution's announcements (portal.dispatch), connected in ReviewsConfig.ready:
routed items get a review or clarification task, automatically applied ones may be drawn for a sample check,
an item that failed for good waits in the clarification queue, and a briefing that went live in another version
is told to its clerks."""
from automations.choices import ItemStatus
from portal import dispatch
from reviews.choices import QueueKind
from reviews.services import briefing_change_record, review_task_create, sample_check_maybe


def on_work_item_routed(*, item, outcome: str, reasons: list[str], sample_check_share=None) -> None:
    """`sample_check_share`: the tenant's, as routing read it with its lock (None: read here)."""
    if outcome == ItemStatus.CLARIFICATION:
        review_task_create(item=item, kind=QueueKind.CLARIFICATION, reasons=reasons, priority=2)
    elif outcome == ItemStatus.REVIEW:
        review_task_create(item=item, kind=QueueKind.REVIEW, reasons=reasons)
    elif outcome == ItemStatus.APPLIED:
        sample_check_maybe(item=item, share=None if sample_check_share is None else float(sample_check_share))


def on_work_item_failed(*, item, reasons: list[str]) -> None:
    review_task_create(item=item, kind=QueueKind.CLARIFICATION, reasons=reasons, priority=1)


def on_briefing_changed(*, actor, use_case, change_request, before: dict, after: dict, reconfirm: bool) -> None:
    briefing_change_record(actor=actor, use_case=use_case, change_request=change_request, before=before,
                           after=after, reconfirm=reconfirm)


def connect() -> None:
    dispatch.connect("work_item.routed", on_work_item_routed)
    dispatch.connect("work_item.failed", on_work_item_failed)
    dispatch.connect("use_case.briefing_changed", on_briefing_changed)
