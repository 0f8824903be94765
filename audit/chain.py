"""How a link of the chain is hashed. Changing this breaks every existing chain: don't."""
import hashlib
import json
from datetime import UTC, datetime

HASHED_FIELDS = (
    "chain", "sequence", "occurred_at", "actor_kind", "actor_user_id", "actor_token_id",
    "event_type", "object_type", "object_id", "details", "prev_hash",
)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict) -> bytes:
    """Canonical serialisation: sorted keys, no whitespace, UTF-8, UTC timestamps with microseconds."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_hash(values: dict) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def event_values(event) -> dict:
    return {name: getattr(event, name) for name in HASHED_FIELDS}
