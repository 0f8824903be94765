"""Celery tasks of the automations app, one module per concept; thin: they take primary keys, load,
and call a service."""
from automations.tasks.pipeline import (  # noqa: F401
    expire_change_requests_task,
    hold_queued_items_task,
    process_run_task,
    reap_runs_task,
    release_held_items_task,
)
from automations.tasks.training import *  # noqa: F401,F403
