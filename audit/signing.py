"""The audit signing key (Ed25519): signs checkpoints of the chain heads, purge anchors and exports, so that
what leaves the database can be checked later without trusting the database.

Configured with AUDIT_SIGNING_KEY (the private key as PEM, or its 32 raw bytes in base64). Without it,
development and test generate one once under var/ (like the secret key); production signs nothing until
it is configured. Statements signed by earlier keys stay valid when their public keys are listed in
AUDIT_TRUSTED_PUBLIC_KEYS (base64, comma-separated), so the key can be rotated."""
import base64
import json
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_DEVELOPMENT_KEY_FILE = "audit_signing_key.pem"


class SigningKeyMissing(RuntimeError):
    pass


def _load_private(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"AUDIT_SIGNING_KEY is not an Ed25519 private key (PEM or base64): {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be an Ed25519 key.")
    return key


def _development_key() -> str | None:
    if getattr(settings, "PRODUCTION", False):
        return None
    path = settings.VAR_DIR / _DEVELOPMENT_KEY_FILE
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text()


@lru_cache(maxsize=4)
def _private_key_from(text: str) -> Ed25519PrivateKey:
    return _load_private(text)


def private_key() -> Ed25519PrivateKey | None:
    text = getattr(settings, "AUDIT_SIGNING_KEY", None) or _development_key()
    return _private_key_from(text) if text else None


def require_private_key() -> Ed25519PrivateKey:
    key = private_key()
    if key is None:
        raise SigningKeyMissing("No audit signing key: set AUDIT_SIGNING_KEY (see the README, Configuration).")
    return key


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey | None = None) -> str:
    key = key or private_key()
    if key is None:
        return ""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def public_key_pem() -> str:
    key = private_key()
    if key is None:
        return ""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def trusted_public_keys() -> set[str]:
    """Base64 public keys whose signatures count: the current key's and the configured earlier ones."""
    keys = {key.strip() for key in getattr(settings, "AUDIT_TRUSTED_PUBLIC_KEYS", []) if key.strip()}
    current = public_key_b64()
    return keys | ({current} if current else set())


def canonical(statement: dict) -> bytes:
    """What is signed: the statement without its signature, sorted keys, no whitespace, UTF-8."""
    body = {key: value for key, value in statement.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_statement(statement: dict) -> dict:
    key = require_private_key()
    signed = {**statement, "public_key": public_key_b64(key)}
    signed["signature"] = base64.b64encode(key.sign(canonical(signed))).decode()
    return signed


def sign_bytes(data: bytes) -> str:
    return base64.b64encode(require_private_key().sign(data)).decode()


def statement_is_valid(statement: dict, trusted: set[str] | None = None) -> bool:
    """Signed by a trusted key, and unchanged since."""
    trusted = trusted_public_keys() if trusted is None else trusted
    public = statement.get("public_key")
    if not isinstance(public, str) or public not in trusted or not isinstance(statement.get("signature"), str):
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        key.verify(base64.b64decode(statement["signature"]), canonical(statement))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
