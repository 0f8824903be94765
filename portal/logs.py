"""Structured logs: every record carries the request id, the tenant and the acting party of the request or
Celery task that wrote it, as JSON lines (one object per line) in production or readable text elsewhere
(settings LOG_FORMAT).

No personal data: the actor is a pseudonymous id (`user:<id>`, `token:<prefix>`, `system`), the tenant its
slug; e-mail addresses and IBANs that reach a message anyway are masked before the line is written."""
import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
# A request id a client or proxy sends is kept when it looks like one (a UUID, a trace id); anything else is
# replaced, so that nobody writes arbitrary text into the logs through a header.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
_FIELDS = ("request_id", "tenant", "actor")
_context: contextvars.ContextVar[dict] = contextvars.ContextVar("portal_log_context", default={})  # noqa: B039

# The patterns the audit log refuses (audit.services.events), here masked instead; an IBAN with its last,
# shorter group of characters.
_MASKS = [
    (re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++\.[\w.-]+"), "[e-mail]"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b"), "[IBAN]"),
]
# Attributes every LogRecord has; anything else a caller passed with `extra=` is written as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", *_FIELDS}


def request_id_from(value: str | None) -> str:
    """The client's request id when it is a plausible one, else a new one."""
    if value and _REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def actor_label(user=None, token=None) -> str:
    """The pseudonymous id of whoever acts: never a user name or an e-mail address."""
    if token is not None:
        return f"token:{token.prefix}"
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return ""


def log_context() -> dict:
    return dict(_context.get())


def log_context_start(**values) -> contextvars.Token:
    """A new context (a request, a task): the fields given, nothing of the one before."""
    return _context.set({key: value for key, value in values.items() if value})


def log_context_update(**values) -> None:
    """Fields learnt later in the same request (the tenant and actor once authenticated)."""
    _context.set({**_context.get(), **{key: value for key, value in values.items() if value}})


def log_context_end(token: contextvars.Token) -> None:
    _context.reset(token)


def mask_personal_data(text: str) -> str:
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return text


class ContextFilter(logging.Filter):
    """Puts the current context's request id, tenant and actor on every record (empty outside one), and what
    else the context holds (a task's name and id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for name in _FIELDS:
            if not getattr(record, name, ""):
                setattr(record, name, context.get(name, ""))
        for name, value in context.items():  # e.g. a Celery task's name and id
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, request_id, tenant, actor,
    the plain fields a caller passed with `extra=`, and the exception with its traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_personal_data(record.getMessage()),
        }
        for name in _FIELDS:
            entry[name] = getattr(record, name, "") or None
        for name, value in vars(record).items():
            # Plain values only: objects some libraries pass along (Django's `request`) are left out.
            if name not in _STANDARD and not name.startswith("_") and name not in entry:
                if isinstance(value, str):
                    entry[name] = mask_personal_data(value)
                elif isinstance(value, int | float | bool) or value is None:
                    entry[name] = value
        if record.exc_info:
            entry["exception"] = mask_personal_data(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = mask_personal_data(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development, masked like the JSON lines; empty context fields show as '-'."""

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the record goes on to other handlers (a JSON one) unchanged.
        record = logging.makeLogRecord(vars(record))
        for name in _FIELDS:
            if not getattr(record, name, ""):
                setattr(record, name, "-")
        return mask_personal_data(super().format(record))
