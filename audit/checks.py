"""System checks of the audit app (`manage.py check --deploy`)."""
from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def signing_key_check(app_configs, **kwargs) -> list:
    """In production without AUDIT_SIGNING_KEY nothing is signed: no checkpoints (cut-off or rewritten chains
    go unnoticed), no purge anchors, no verifiable exports."""
    if not settings.PRODUCTION or settings.AUDIT_SIGNING_KEY:
        return []
    return [Warning(
        "AUDIT_SIGNING_KEY is not set: audit checkpoints, purge anchors and audit exports are not signed, so "
        "events cut off at the end or a rewritten chain go unnoticed by verify_audit.",
        hint="Generate an Ed25519 key (docs/audit-verification.md) and set AUDIT_SIGNING_KEY to it (PEM, or the "
             "32 raw bytes in base64).",
        id="audit.W001",
    )]
