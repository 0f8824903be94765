"""Encryption of secrets stored in the database (processor API keys, connector credentials) with Fernet.

Keys come from LEITPLANKE_FIELD_KEYS (settings.FIELD_ENCRYPTION_KEYS): comma-separated Fernet keys; the
first encrypts, all decrypt, so a key is rotated by putting a new one first, re-encrypting every stored
secret (`manage.py rotate_secrets`) and then removing the old one. Without the setting, development and test
generate one key under var/ (like the secret key); production refuses to store or read a secret without it."""
import base64
import dataclasses
import hashlib
import secrets as random
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import QuerySet


class SecretUnreadable(Exception):
    """None of the configured keys decrypts a stored secret (a key was removed too early)."""


def _development_key() -> str:
    path = settings.VAR_DIR / "field_key"
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(random.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def configured_keys() -> list[str]:
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [])
    if keys:
        return keys
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            "LEITPLANKE_FIELD_KEYS is required in production to store processor API keys "
            "(comma-separated Fernet keys; generate one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())').")
    return [_development_key()]


def _fernets() -> list[Fernet]:
    fernets = []
    for position, key in enumerate(configured_keys(), start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            # The key itself is never echoed: only its position in the list.
            raise ImproperlyConfigured(
                f"LEITPLANKE_FIELD_KEYS: key {position} is not a valid Fernet key (32 url-safe base64 bytes)."
            ) from None
    return fernets


def _fernet() -> MultiFernet:
    return MultiFernet(_fernets())


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("None of the configured field keys decrypts this secret.") from None


def rotate(token: str) -> str:
    """The same secret, encrypted with the first (current) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("None of the configured field keys decrypts this secret.") from None


def is_current(token: str) -> bool:
    """Is this secret encrypted with the first (current) key? Then rotating it is not needed."""
    try:
        _fernets()[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotation_of(token: str, *, check_only: bool = False) -> tuple[str, str | None]:
    """What rotating one stored secret to the current key comes to: ("current", None) when it needs none,
    ("unreadable", None) when no configured key decrypts it, ("stale", None) with `check_only`, else
    ("rotated", the new token) — checked to give back the same secret (nothing is written that does not)."""
    if is_current(token):
        return "current", None
    try:
        plain = decrypt(token)
    except SecretUnreadable:
        return "unreadable", None
    if check_only:
        return "stale", None
    rotated = rotate(token)
    if not is_current(rotated) or decrypt(rotated) != plain:
        raise SecretUnreadable("Re-encrypting a stored secret did not give it back unchanged.")
    return "rotated", rotated


@dataclasses.dataclass
class Rotation:
    """What re-encrypting the secrets of one table did: rows re-encrypted now (with `check_only`: that would
    be), rows already under the newest key, and the primary keys of the rows no configured key decrypts."""

    rotated: int = 0
    current: int = 0
    unreadable: list[int] = dataclasses.field(default_factory=list)


def rows_rotate(rows: QuerySet, *, field: str, audit: Callable[[Any], object], check_only: bool = False,
                on_row: Callable[[str], object] | None = None) -> Rotation:
    """Re-encrypt the secret in `field` of every row of `rows` under the newest key, one row per transaction
    (`row_rotate`); rows already under it are left alone, so a run interrupted midway is finished by the next.
    With `check_only` nothing changes. `on_row(outcome)` is called after each row (progress)."""
    report = Rotation()
    for pk in rows.order_by("pk").values_list("pk", flat=True):
        outcome = row_rotate(rows, pk, field=field, audit=audit, check_only=check_only)
        if outcome in ("rotated", "stale"):
            report.rotated += 1
        elif outcome == "current":
            report.current += 1
        elif outcome == "unreadable":
            report.unreadable.append(pk)
        if on_row is not None:
            on_row(outcome)
    return report


def row_rotate(rows: QuerySet, pk: int, *, field: str, audit: Callable[[Any], object], check_only: bool) -> str:
    """One row's secret, in its own transaction: the row locked, its `field` re-encrypted (`rotation_of`),
    saved, and `audit(row)` called to record it in the same transaction. Returns what came of it: "gone" (the
    row was deleted meanwhile), "current", "unreadable", "stale" (check only) or "rotated"."""
    with transaction.atomic():
        row = rows.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None:
            return "gone"
        outcome, rotated = rotation_of(getattr(row, field), check_only=check_only)
        if rotated is None:
            return outcome
        setattr(row, field, rotated)
        row.save(update_fields=[field])
        audit(row)
        return "rotated"


def current_key_id() -> str:
    """Which key encrypts now, for the operator and the audit trail: a truncated hash of the key (a Fernet
    key is 32 random bytes, so it reveals nothing usable)."""
    return fingerprint(configured_keys()[0].strip())


def fingerprint(plain: str) -> str:
    """A short, stable fingerprint to recognise a key by (API keys are long random strings, so a
    truncated hash reveals nothing usable)."""
    return "sha256:" + hashlib.sha256(plain.encode()).hexdigest()[:12]
