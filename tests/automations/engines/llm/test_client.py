"""The provider client over real HTTP: retries on 429 (with Retry-After) and 5xx, timeouts, bodies that
are not JSON, errors that no retry fixes, and the authorization header."""
import socket
import time

import pytest

from automations.choices import ItemStatus
from automations.engines.llm.client import ChatClient, Provider, ProviderError, retry_after_seconds
from automations.models import LlmCall
from tests.automations.engines.llm.conftest import TICKET, make_llm_use_case, make_processor
from tests.automations.engines.llm.openai_schema import request_problems
from tests.automations.engines.llm.server import Reply

BODY = {"model": "m", "messages": [{"role": "user", "content": "Hallo"}]}


def client(server, **options) -> ChatClient:
    values = {"key": "p", "base_url": server.base_url, "api_key": "sk-abc", "timeout": 2.0, "max_retries": 2,
              "backoff": 0.01, "max_retry_wait": 3.0}
    values.update(options)
    return ChatClient(Provider(**values))


def test_429_is_retried_after_the_time_the_provider_asks_for(llm_server):
    llm_server.then(Reply(status=429, headers={"Retry-After": "1"}, error="Rate limit reached"))
    completion = client(llm_server).complete(BODY)
    assert completion.attempts == 2 and completion.contents == [llm_server.default.content]
    first, second = llm_server.requests
    assert second.at - first.at >= 0.95
    assert completion.latency_ms >= 950


def test_retry_after_as_an_http_date_is_understood():
    from email.utils import formatdate

    assert 1.0 <= retry_after_seconds(formatdate(time.time() + 3, usegmt=True)) <= 3.0
    assert retry_after_seconds("garbage") is None and retry_after_seconds("0") == 0.0


def test_a_retry_after_beyond_the_ceiling_is_not_waited_for(llm_server):
    llm_server.then(Reply(status=429, headers={"Retry-After": "120"}))
    started = time.monotonic()
    with pytest.raises(ProviderError) as failure:
        client(llm_server, max_retry_wait=5).complete(BODY)
    assert time.monotonic() - started < 2
    assert failure.value.http_status == 429 and len(llm_server.requests) == 1


def test_server_errors_are_retried_with_backoff_until_an_answer_comes(llm_server):
    llm_server.then(Reply(status=500), Reply(status=502))
    completion = client(llm_server).complete(BODY)
    assert completion.attempts == 3 and len(llm_server.requests) == 3


def test_persistent_server_errors_give_up_after_the_retries(llm_server):
    llm_server.default.status = 503
    llm_server.default.error = "overloaded"
    with pytest.raises(ProviderError) as failure:
        client(llm_server, max_retries=2).complete(BODY)
    assert str(failure.value) == "HTTP 503: overloaded"
    assert failure.value.attempts == 3 and len(llm_server.requests) == 3


def test_errors_a_retry_cannot_fix_are_not_retried(llm_server):
    llm_server.then(Reply(status=401, error="Incorrect API key provided"))
    with pytest.raises(ProviderError) as failure:
        client(llm_server).complete(BODY)
    assert failure.value.http_status == 401 and len(llm_server.requests) == 1
    assert "Incorrect API key" in str(failure.value)


def test_a_slow_provider_times_out_and_is_retried(llm_server):
    llm_server.default.delay = 1.5
    started = time.monotonic()
    with pytest.raises(ProviderError) as failure:
        client(llm_server, timeout=0.4, max_retries=1).complete(BODY)
    assert "no answer within 0.4 s" in str(failure.value)
    assert len(llm_server.requests) == 2 and time.monotonic() - started < 3


def test_a_body_that_is_not_json_is_retried(llm_server):
    llm_server.then(Reply(raw=b"<html>Bad gateway</html>"), Reply(raw=b'{"choices": []}'))
    completion = client(llm_server).complete(BODY)
    assert completion.attempts == 3


def test_invalid_json_every_time_is_an_error(llm_server):
    llm_server.default.raw = b"{not json"
    with pytest.raises(ProviderError) as failure:
        client(llm_server, max_retries=1).complete(BODY)
    assert "not JSON" in str(failure.value)


def test_no_server_listening_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = Provider(key="p", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff=0.01)
    with pytest.raises(ProviderError, match="connection failed") as failure:
        ChatClient(provider).complete(BODY)
    assert failure.value.attempts == 2


def test_authorization_header_bearer_api_key_or_none(llm_server):
    client(llm_server).complete(BODY)
    client(llm_server, auth_header="api-key").complete(BODY)
    client(llm_server, api_key=None).complete(BODY)
    bearer, azure, local = (r.headers for r in llm_server.requests)
    assert bearer["Authorization"] == "Bearer sk-abc" and "api-key" not in bearer
    assert azure["api-key"] == "sk-abc" and "Authorization" not in azure
    assert "Authorization" not in local and "api-key" not in local


def test_the_key_is_not_in_the_providers_repr():
    assert "sk-abc" not in repr(Provider(key="p", base_url="http://x", api_key="sk-abc"))


@pytest.mark.django_db
def test_429_and_500_inside_a_run_are_retried_and_the_item_still_gets_its_reply(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry)
    llm_server.then(Reply(status=429, headers={"Retry-After": "0.2"}), Reply(status=500))
    item = submit()
    assert item.status == ItemStatus.APPLIED
    call = LlmCall.objects.get(item=item)
    assert call.attempts == 3 and call.status == "ok"
    assert len({r.raw for r in llm_server.requests}) == 1  # the same request each time


@pytest.mark.django_db
def test_a_timeout_inside_a_run_fails_the_step_for_the_pipeline_to_retry(tenant, team, llm_server, submit,
                                                                       settings):
    settings.RUN_MAX_ATTEMPTS = 1
    entry = make_processor(tenant, team, llm_server.base_url, timeout=0.3, max_retries=0)
    make_llm_use_case(tenant, team, entry)
    llm_server.default.delay = 1
    item = submit({**TICKET, "subject": "langsam"})
    assert item.status == ItemStatus.ESCALATED
    step = item.runs.get().steps.get(step="extract")
    assert step.status == "failed" and "no answer within 0.3 s" in step.error
    assert LlmCall.objects.get(item=item).status == "failed"


@pytest.mark.django_db
def test_requests_carry_only_standard_keys_whatever_the_prompt_version_holds(tenant, team, llm_server, submit):
    from automations.execution.services.llm_calls import generate
    from automations.models import PromptTemplateVersion
    from tests.automations.engines.llm.conftest import prompt_content

    entry = make_processor(tenant, team, llm_server.base_url)
    use_case = make_llm_use_case(tenant, team, entry, prompt=prompt_content(
        confidence_mode="logprobs",
        parameters={"temperature": 0.1, "top_logprobs": 2, "seed": 7, "stop": ["\n\n\n"], "my_flag": True}))
    version = PromptTemplateVersion.objects.get(use_case=use_case)
    generation = generate(use_case=use_case, version=version, payload=TICKET)
    body = llm_server.bodies[0]
    assert request_problems(body) == []
    assert body["logprobs"] is True and body["top_logprobs"] == 2 and body["seed"] == 7
    assert "my_flag" not in body
    assert generation.meta["ignored_parameters"] == ["my_flag"]
    assert request_problems({**body, "my_flag": True}) != []  # the schema does catch extra keys
