"""Production configuration from the environment (DESIGN.md, "Contracts"): with the documented variables
set, `check --deploy --fail-level WARNING` reports nothing; a missing required one fails loudly."""
import os
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
# Variables of the surrounding test run that must not leak into a production configuration.
_ISOLATE = ("PORTAL_ENV", "AUDIT_SIGNING_KEY", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL",
            "DATABASE_ADMIN_URL",
            "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CSRF_TRUSTED_ORIGINS", "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "EMAIL_HOST",
            # Set by the browser tests for their live server; check --deploy rightly rejects it.
            "DJANGO_ALLOW_ASYNC_UNSAFE")


def signing_key() -> str:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()


def production_env(tmp_path, **overrides) -> dict:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env.update(
        PORTAL_ENV="production",
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS="portal.example.de",
        DATABASE_URL="postgres://leitplanke:secret@127.0.0.1:5432/leitplanke",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        AUDIT_SIGNING_KEY=signing_key(),
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=settings.BASE_DIR)


def test_check_deploy_reports_nothing_with_the_documented_variables(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr and "?:" not in result.stderr


def test_check_deploy_warns_when_the_audit_signing_key_is_missing(tmp_path):
    """Without it production signs nothing: no checkpoints, anchors or verifiable exports."""
    result = manage(production_env(tmp_path, AUDIT_SIGNING_KEY=None), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "audit.W001" in result.stderr and "AUDIT_SIGNING_KEY" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"])
def test_a_missing_required_variable_fails_loudly(tmp_path, missing):
    result = manage(production_env(tmp_path, **{missing: None}), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.strip().splitlines()[-1]


def test_production_is_not_debug(tmp_path):
    result = manage(production_env(tmp_path), "shell", "-c",
                    "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, "
                    "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False True True True ['portal.example.de']"


def test_malformed_values_fail_loudly(tmp_path):
    result = manage(production_env(tmp_path, SESSION_COOKIE_AGE="ten hours"), "check")
    assert result.returncode != 0
    assert "SESSION_COOKIE_AGE must be an integer" in result.stderr
