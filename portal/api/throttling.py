"""Rate limits of the API (DRF throttling): per API token and per client address, whichever is reached
first. Rates come from settings (API_RATE_PER_TOKEN, API_RATE_PER_ADDRESS); counts live in the cache."""
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from portal.backends import client_address
from portal.models import ApiToken


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


class TokenRateThrottle(_SettingsRate):
    """Requests per API token (a browser session counts per user)."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(_SettingsRate):
    """Requests per client address, signed in or not."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request._request) or "unknown"}
