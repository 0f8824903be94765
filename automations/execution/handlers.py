"""Execution's handlers of the registry's announcements (portal.dispatch), connected in AutomationsConfig.ready:
after commit, queued items of a suspended use case are held, and held items run again once it is back in
pilot or production."""
from automations.choices import UseCaseStatus
from portal import dispatch
from portal.jobs import task_send_on_commit


def on_use_case_suspended(*, use_case) -> None:
    task_send_on_commit("automations.hold_queued_items", use_case.pk)


def on_use_case_status_changed(*, use_case, before: str, after: str) -> None:
    if after in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION):
        task_send_on_commit("automations.release_held_items", use_case.pk)


def connect() -> None:
    dispatch.connect("use_case.suspended", on_use_case_suspended)
    dispatch.connect("use_case.status_changed", on_use_case_status_changed)
