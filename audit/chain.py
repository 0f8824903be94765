"""How a link of the chain is hashed. Each event carries the version of the form it was hashed in
(`hash_version`); a version, once used, never changes — old events keep verifying under theirs.

Version 1 (every event written before version 2, and every event of the embedded SQLite default): SHA-256
of a JSON object of the hashed fields with sorted keys, no whitespace, UTF-8, the timestamp as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

Version 2 (PostgreSQL): SHA-256 of ``leitplanke-event/2`` followed, for each hashed field in the order of
HASHED_FIELDS, by a newline, the byte length of the field's text, a colon and the text (UTF-8). Texts: the
integers in decimal (an absent one as the empty text), the timestamp as whole microseconds since
1970-01-01 UTC, `details` exactly as PostgreSQL writes a ``jsonb`` value (keys ordered by length, then
bytes; ``", "`` and ``": "`` between items). The database computes it with the SQL function
``audit_event_hash_v2`` (audit.sequencer) when it assigns the sequence, and again when it verifies, in C;
this module computes the same bytes in Python (for the checks that classify a failure, and for tests).
"""
import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

HASHED_FIELDS = (
    "chain", "sequence", "occurred_at", "actor_kind", "actor_user_id", "actor_token_id",
    "event_type", "object_type", "object_id", "details", "prev_hash",
)
V2_PREFIX = b"leitplanke-event/2"
CURRENT_VERSION = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict) -> bytes:
    """Version 1: sorted keys, no whitespace, UTF-8, UTC timestamps with microseconds."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- version 2 ---------------------------------------------------------------------------------------------

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jsonb_string(value: str) -> str:
    out = []
    for char in value:
        if char in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _jsonb_number(value) -> str:
    if isinstance(value, int):
        return str(value)
    # What a JSON number becomes as PostgreSQL `numeric`: positional notation, the digits after the point as
    # written, no negative zero.
    number = Decimal(json.dumps(value))
    text = format(number, "f")
    return text.lstrip("-") if number == 0 else text


def jsonb_text(value) -> str:
    """`value` (as JSON reads it) written as PostgreSQL writes a jsonb value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _jsonb_string(value)
    if isinstance(value, (int, float)):
        return _jsonb_number(value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode("utf-8")), key.encode("utf-8")))
        return "{" + ", ".join(f"{_jsonb_string(key)}: {jsonb_text(value[key])}" for key in keys) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    raise TypeError(f"Not a JSON value: {type(value).__name__}")


def epoch_microseconds(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _text(value) -> str:
    return "" if value is None else str(value)


def canonical_v2(values: dict) -> bytes:
    texts = (
        values["chain"], _text(values["sequence"]), str(epoch_microseconds(values["occurred_at"])),
        values["actor_kind"], _text(values["actor_user_id"]), _text(values["actor_token_id"]),
        values["event_type"], values["object_type"], values["object_id"], jsonb_text(values["details"]),
        values["prev_hash"],
    )
    parts = [V2_PREFIX]
    for text in texts:
        data = text.encode("utf-8")
        parts.append(b"\n%d:" % len(data) + data)
    return b"".join(parts)


def compute_hash(values: dict, version: int | None = None) -> str:
    """The hash of an event's values under its version (values may carry `hash_version`; 1 if not)."""
    version = version or values.get("hash_version") or 1
    if version == 1:
        return hashlib.sha256(canonical(values)).hexdigest()
    if version == 2:
        return hashlib.sha256(canonical_v2(values)).hexdigest()
    raise ValueError(f"Unknown hash version {version!r}.")


def event_values(event) -> dict:
    return {name: getattr(event, name) for name in (*HASHED_FIELDS, "hash_version")}
