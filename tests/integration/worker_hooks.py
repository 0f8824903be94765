"""Test doubles loaded into a real Celery worker by the integration tests, and only there:

    celery -A portal worker --include tests.integration.worker_hooks

- The rules engine takes its time when its configuration asks for it (`"test_delay_seconds": 0.5` in
  the engine parameters), so that a test can kill the worker while a task is in the middle of its work.
  The portal's own rules engine ignores parameters it does not know, so the same release runs unchanged
  without this module.
- Every task the worker starts and ends is appended to a journal (a JSON line each, in the file named by
  LEITPLANKE_TEST_JOURNAL), so that a test can tell which runs the worker saw and which it was killed in.
- LEITPLANKE_TEST_ACK_DELAY holds each pipeline task for that long after it returned and before the
  broker is told it is done (acks_late), so that a test can kill the worker after the item was routed
  but before the acknowledgement.
- LEITPLANKE_TEST_VISIBILITY_TIMEOUT makes Redis hand an unacknowledged message out again after that many
  seconds instead of the configured half hour, so that the redelivery after a crash happens within the
  test.
"""
import json
import os
import time

from celery.signals import task_postrun, task_prerun

from automations.engines import base
from automations.engines.rules import RulesEngine

JOURNAL = os.environ.get("LEITPLANKE_TEST_JOURNAL", "")
ACK_DELAY = float(os.environ.get("LEITPLANKE_TEST_ACK_DELAY") or 0)
VISIBILITY_TIMEOUT = os.environ.get("LEITPLANKE_TEST_VISIBILITY_TIMEOUT")

if VISIBILITY_TIMEOUT:
    from portal.celery import app

    # Read when the worker connects to the broker, which happens after this module is imported.
    app.conf.broker_transport_options = {**app.conf.broker_transport_options,
                                         "visibility_timeout": int(VISIBILITY_TIMEOUT),
                                         "unacked_restore_interval": 1, "unacked_restore_throttle": 1}


class SlowRulesEngine(RulesEngine):
    def suggest(self, item, *, parameters: dict, artifact_ref: str = ""):
        time.sleep(float(parameters.get("test_delay_seconds", 0)))
        return super().suggest(item, parameters=parameters, artifact_ref=artifact_ref)


# The registry refuses a second registration of a key on purpose; this double replaces the entry.
base._ENGINES["rules"] = SlowRulesEngine


def _write(event: str, task_id: str, task, args) -> None:
    if not JOURNAL:
        return
    line = json.dumps({"event": event, "task": task.name, "id": task_id, "args": list(args or ()),
                       "pid": os.getpid(), "at": time.time()})
    with open(JOURNAL, "a") as journal:  # one write per line: a SIGKILL never leaves half a line
        journal.write(line + "\n")


@task_prerun.connect
def _started(sender=None, task_id=None, task=None, args=None, **kwargs):
    _write("start", task_id, task, args)


@task_postrun.connect
def _ended(sender=None, task_id=None, task=None, args=None, **kwargs):
    _write("end", task_id, task, args)
    if ACK_DELAY and task.name == "automations.process_run":
        time.sleep(ACK_DELAY)  # task_postrun runs before a late acknowledgement
