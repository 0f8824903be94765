"""Encryption of secrets stored in the database (processor API keys, connector credentials) with Fernet.

Keys come from LEITPLANKE_FIELD_KEYS (settings.FIELD_ENCRYPTION_KEYS): comma-separated Fernet keys; the
first encrypts, all decrypt, so a key is rotated by putting a new one first, re-encrypting every stored
secret (`manage.py rotate_secrets`) and then removing the old one. Without the setting, development and test
generate one key under var/ (like the secret key); production refuses to store or read a secret without it."""
import base64
import hashlib
import secrets as random

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


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


def current_key_id() -> str:
    """Which key encrypts now, for the operator and the audit trail: a truncated hash of the key (a Fernet
    key is 32 random bytes, so it reveals nothing usable)."""
    return fingerprint(configured_keys()[0].strip())


def fingerprint(plain: str) -> str:
    """A short, stable fingerprint to recognise a key by (API keys are long random strings, so a
    truncated hash reveals nothing usable)."""
    return "sha256:" + hashlib.sha256(plain.encode()).hexdigest()[:12]
