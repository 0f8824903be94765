"""Rate limits of the API: per API token (a browser session counts per user) and per client address, whichever
is reached first; beyond either, 429 with Retry-After. Rates come from settings (API_RATE_PER_TOKEN,
API_RATE_PER_ADDRESS).

Counts live in the cache as one counter per key and fixed window (e.g. the current minute): a request costs
the same whatever the rate. (DRF's SimpleRateThrottle keeps the time of every request of the last window in
one cache value and reads and rewrites all of it per request — at 3,000 requests a minute, 3,000 timestamps
twice per request and per scope.) A window's counter can let up to twice the rate through across the edge of
two windows; a limit against abuse, not a quota, that is fine. On the Redis cache both counters are counted in
one round trip."""
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from portal.backends import client_address
from portal.models import ApiToken


def parse_rate(rate: str) -> tuple[int, int]:
    """"3000/minute" -> (3000, 60): requests and seconds, as DRF reads a rate."""
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


def _identities(request) -> list[tuple[str, str]]:
    """(scope, who) per limit that applies to the request."""
    found = []
    if isinstance(request.auth, ApiToken):
        found.append(("token", f"token-{request.auth.pk}"))
    elif request.user and request.user.is_authenticated:
        found.append(("token", f"user-{request.user.pk}"))
    found.append(("address", client_address(request._request) or "unknown"))
    return found


def _count(keys: list[tuple[str, int]]) -> list[int]:
    """Add one to each (key, lifetime in seconds) counter; the counts after it."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        names = [cache.make_and_validate_key(key) for key, _lifetime in keys]
        with cache._cache.get_client(names[0], write=True).pipeline(transaction=False) as pipe:
            for name, (_key, lifetime) in zip(names, keys, strict=True):
                pipe.incr(name)
                pipe.expire(name, lifetime)
            return [int(n) for n in pipe.execute()[0::2]]
    counts = []
    for key, lifetime in keys:
        try:
            counts.append(cache.incr(key))
        except ValueError:  # the window's first request (or the counter just expired)
            counts.append(1 if cache.add(key, 1, lifetime) else cache.incr(key))
    return counts


class ApiRateThrottle(BaseThrottle):
    """Both limits of every API view (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES)."""

    def allow_request(self, request, view) -> bool:
        now = time.time()
        limits = []  # (key, allowed requests, seconds until the window ends, its lifetime)
        for scope, who in _identities(request):
            rate = settings.API_THROTTLE_RATES.get(scope)
            if not rate:
                continue
            allowed, duration = parse_rate(rate)
            window = int(now // duration)
            limits.append((f"throttle:{scope}:{who}:{window}", allowed, (window + 1) * duration - now, duration + 1))
        if not limits:
            return True
        counts = _count([(key, lifetime) for key, _allowed, _left, lifetime in limits])
        refused = [left for (_key, allowed, left, _lifetime), count in zip(limits, counts, strict=True)
                   if count > allowed]
        self.retry_after = max(refused) if refused else None
        return not refused

    def wait(self) -> float | None:
        return getattr(self, "retry_after", None)
