"""Who may read the health report and the metrics: a monitoring system with MONITORING_TOKEN, or a
superuser signed in to the portal."""
import hmac

from django.conf import settings


def monitoring_allowed(request) -> bool:
    token = settings.MONITORING_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_superuser)
