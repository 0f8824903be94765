"""HTTP client for any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, vLLM,
LM Studio, EU providers): POST {base_url}/chat/completions with a JSON body of the official request
schema, a timeout, and retries with exponential backoff on 429, 5xx, timeouts and dropped
connections (a Retry-After header is respected, up to a ceiling). It knows nothing of the database:
circuit breaker and call records live in automations.engines.llm.calls.

The API key is held only in memory, sent only in the authorization header, and never part of a log
line, an exception message or a repr."""
import json
import logging
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Provider:
    """What the client needs to reach one processor; built from its catalogue entry."""

    key: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_retries: int = 2  # retries after the first attempt
    backoff: float = 0.5  # seconds; doubled on each retry, with jitter
    max_retry_wait: float = 30.0  # a longer Retry-After is not waited for: the call fails
    auth_header: str = "authorization"  # or "api-key" (Azure OpenAI)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


@dataclass
class Completion:
    contents: list[str]
    # Log-probabilities of the first choice's content tokens, when the provider returned them.
    token_logprobs: list[float] | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int
    attempts: int
    http_status: int


class ProviderError(Exception):
    """The provider gave no usable answer, after the retries that made sense."""

    def __init__(self, message: str, *, http_status: int | None = None, attempts: int = 0, latency_ms: int = 0):
        super().__init__(message)
        self.http_status = http_status
        self.attempts = attempts
        self.latency_ms = latency_ms


class _Retryable(Exception):
    def __init__(self, message: str, *, http_status: int | None = None, wait: float | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.wait = wait


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _headers(provider: Provider) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if provider.api_key:
        if provider.auth_header == "api-key":
            headers["api-key"] = provider.api_key
        else:
            headers["Authorization"] = f"Bearer {provider.api_key}"
    return headers


def _parse(response: requests.Response) -> Completion:
    try:
        data = response.json()
    except ValueError:
        raise _Retryable("the provider's answer is not JSON", http_status=response.status_code) from None
    try:
        choices = data["choices"]
        contents = [choice["message"]["content"] or "" for choice in choices]
        if not contents:
            raise KeyError("choices")
    except (KeyError, TypeError, IndexError):
        raise _Retryable("the provider's answer has no choices[].message.content",
                         http_status=response.status_code) from None
    logprobs = None
    try:
        tokens = (choices[0].get("logprobs") or {}).get("content")
        if tokens:
            logprobs = [float(t["logprob"]) for t in tokens if t.get("logprob") is not None]
    except (AttributeError, TypeError, ValueError, KeyError):
        logprobs = None
    usage = data.get("usage") or {}
    return Completion(contents=[str(c) for c in contents], token_logprobs=logprobs or None,
                      prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
                      latency_ms=0, attempts=0, http_status=response.status_code)


def _error_text(response: requests.Response) -> str:
    """The provider's own error message (OpenAI error envelope), short; never our request."""
    try:
        message = (response.json().get("error") or {}).get("message", "")
    except (ValueError, AttributeError):
        message = ""
    return f"HTTP {response.status_code}" + (f": {str(message)[:200]}" if message else "")


class ChatClient:
    def __init__(self, provider: Provider, *, session: requests.Session | None = None, sleep=time.sleep):
        self.provider = provider
        self.session = session or requests.Session()
        self.sleep = sleep

    def _attempt(self, body: bytes) -> Completion:
        provider = self.provider
        try:
            response = self.session.post(provider.url, data=body, headers=_headers(provider),
                                         timeout=(min(provider.timeout, 10.0), provider.timeout),
                                         allow_redirects=False)
        except requests.Timeout:
            raise _Retryable(f"no answer within {provider.timeout:g} s") from None
        except requests.ConnectionError:
            raise _Retryable("connection failed") from None
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(_error_text(response), http_status=response.status_code,
                             wait=retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code >= 300:
            raise ProviderError(_error_text(response), http_status=response.status_code)
        return _parse(response)

    def _wait(self, retry: int, requested: float | None) -> float | None:
        """Seconds to wait before retry number `retry` (1-based), or None to give up."""
        if requested is not None:
            return requested if requested <= self.provider.max_retry_wait else None
        base = self.provider.backoff * (2 ** (retry - 1))
        return min(self.provider.max_retry_wait, base + random.uniform(0, self.provider.backoff))

    def complete(self, payload: dict) -> Completion:
        """One chat completion; raises ProviderError when no usable answer came."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                completion = self._attempt(body)
            except ProviderError as exc:
                exc.attempts, exc.latency_ms = attempts, int((time.monotonic() - started) * 1000)
                raise
            except _Retryable as exc:
                wait = self._wait(attempts, exc.wait) if attempts <= self.provider.max_retries else None
                if wait is None:
                    raise ProviderError(str(exc), http_status=exc.http_status, attempts=attempts,
                                        latency_ms=int((time.monotonic() - started) * 1000)) from None
                logger.info("processor %s: attempt %s failed (%s); retrying in %.2f s",
                            self.provider.key, attempts, exc, wait)
                self.sleep(wait)
                continue
            completion.attempts = attempts
            completion.latency_ms = int((time.monotonic() - started) * 1000)
            return completion
