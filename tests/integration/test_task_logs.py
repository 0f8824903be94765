"""A real worker logs JSON lines (LOG_FORMAT=json) that carry the request id, tenant and actor of whatever sent
the task, so that a request and the work it started can be followed through the logs."""
import json
import uuid

import pytest

from portal.logs import log_context_end, log_context_start
from portal.tasks import ping_task
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_the_worker_logs_json_lines_with_the_senders_request_id(worker):
    worker.env["LOG_FORMAT"] = "json"
    worker.start()
    token = uuid.uuid4().hex
    context = log_context_start(request_id="req-integration-0001", tenant="muster", actor="user:7")
    try:
        result = ping_task.delay(token)
    finally:
        log_context_end(context)

    def succeeded():
        lines = [json.loads(line) for line in worker.log.read_text(errors="replace").splitlines()
                 if line.startswith("{")]
        return [line for line in lines if line.get("task_id") == result.id and "succeeded" in line["message"]]

    line = wait_until(succeeded, timeout=30, what="the worker's log line of the ping")[0]
    assert (line["request_id"], line["tenant"], line["actor"]) == ("req-integration-0001", "muster", "user:7")
    assert line["task"] == "portal.tasks.ping" and line["level"] == "INFO" and line["timestamp"].endswith("Z")
