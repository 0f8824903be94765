"""Structured logs (portal.logs): a JSON object per line with timestamp, level, logger, message, request id,
tenant and pseudonymous actor — for requests and Celery tasks — and no personal data in them."""
import io
import json
import logging

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal import services
from portal.celery import _publish_log_context
from portal.choices import Role, TokenScope
from portal.logs import ContextFilter, JsonFormatter, TextFormatter, log_context_end, log_context_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the console handler of settings.LOGGING writes with LOG_FORMAT=json, captured."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def test_a_request_writes_a_json_line_with_request_id_tenant_and_actor_and_no_personal_data(
        client, tenant, member, log_lines):
    user = member(Role.CLERK, username="laura.fischer")
    get_user_model().objects.filter(pk=user.pk).update(email="laura.fischer@muster.example", first_name="Laura")
    client.force_login(user)

    response = client.get(reverse("portal:home"), HTTP_X_REQUEST_ID="trace-4711-abcdef")

    assert response.status_code == 200 and response["X-Request-ID"] == "trace-4711-abcdef"
    lines = log_lines()
    line = next(entry for entry in lines if entry["logger"] == "portal.request")
    assert line["request_id"] == "trace-4711-abcdef" and line["tenant"] == "muster"
    assert line["actor"] == f"user:{user.pk}"
    assert line["level"] == "INFO" and line["status"] == 200 and line["path"] == "/"
    assert line["message"] == "GET / 200" and line["timestamp"].endswith("Z")
    text = json.dumps(lines)
    assert "laura" not in text.lower() and "@muster.example" not in text


def test_an_api_request_names_the_token_not_the_person(client, tenant, member, log_lines):
    user = member(Role.CLERK, username="laura.fischer")
    token, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="erp",
                                             scopes=[TokenScope.READ])
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200 and len(response["X-Request-ID"]) == 32  # made up when none was sent
    line = next(entry for entry in log_lines() if entry["logger"] == "portal.request")
    assert line["actor"] == f"token:{token.prefix}" and line["tenant"] == "muster"
    assert line["request_id"] == response["X-Request-ID"]
    assert "laura" not in json.dumps(log_lines())


def test_an_implausible_request_id_is_replaced(client, log_lines):
    response = client.get(reverse("portal:login"), HTTP_X_REQUEST_ID="<script>\n")
    assert response["X-Request-ID"] != "<script>\n" and len(response["X-Request-ID"]) == 32


def test_e_mail_addresses_and_ibans_in_a_message_are_masked(log_lines):
    logging.getLogger("portal.test").warning("Mail von max.muster@firma.de, IBAN DE89 3704 0044 0532 0130 00")
    line = log_lines()[-1]
    assert line["message"] == "Mail von [e-mail], IBAN [IBAN]"


def test_the_text_format_for_development_carries_the_same_context():
    record = logging.LogRecord("portal.test", logging.INFO, __file__, 1, "hallo %s", ("a@b.de",), None)
    token = log_context_start(request_id="r-123456789", tenant="muster", actor="user:7")
    try:
        ContextFilter().filter(record)
    finally:
        log_context_end(token)
    formatter = TextFormatter("%(levelname)s %(name)s [%(request_id)s %(tenant)s %(actor)s]: %(message)s")
    assert formatter.format(record) == "INFO portal.test [r-123456789 muster user:7]: hallo [e-mail]"


@shared_task(name="tests.log_probe")
def log_probe():
    logging.getLogger("tests.log_probe").info("probe ran")


def test_a_task_logs_with_the_request_id_tenant_and_actor_of_whoever_sent_it(log_lines):
    headers: dict = {}
    token = log_context_start(request_id="req-000000001", tenant="muster", actor="user:7")
    try:
        _publish_log_context(headers=headers)  # what happens when a request sends a task
    finally:
        log_context_end(token)

    log_probe.apply(headers=headers)

    line = next(entry for entry in log_lines() if entry["message"] == "probe ran")
    assert (line["request_id"], line["tenant"], line["actor"]) == ("req-000000001", "muster", "user:7")
    assert line["task"] == "tests.log_probe" and line["task_id"]


def test_a_task_sent_by_beat_logs_as_the_system_under_its_own_id(log_lines):
    result = log_probe.apply()
    line = next(entry for entry in log_lines() if entry["message"] == "probe ran")
    assert line["actor"] == "system" and line["request_id"] == result.id and line["tenant"] is None
