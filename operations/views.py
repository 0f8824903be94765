import logging
import timeit

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheckResult
from health_check.exceptions import HealthCheckException
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from operations.access import monitoring_allowed
from operations.health import CHECKS

logger = logging.getLogger(__name__)


def _refused() -> HttpResponse:
    response = JsonResponse({"detail": "A monitoring token (Authorization: Bearer) is required."}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


# Monitoring has its own token (operations.access), not a session.
@method_decorator(login_not_required, name="dispatch")
class HealthView(HealthCheckView):
    """Every check; 200 when all pass, 500 otherwise (django-health-check's convention). JSON with
    `?format=json` or `Accept: application/json`, plain text, OpenMetrics, or a page.

    The checks run one after another in the request's own thread (they are quick and bounded by their
    clients' timeouts): no executor thread keeps a database connection open after the request."""

    checks = CHECKS

    def dispatch(self, request, *args, **kwargs):
        response = View.dispatch(self, request, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        add_never_cache_headers(response)
        return response

    def get(self, request, *args, **kwargs):
        if not monitoring_allowed(request):
            return _refused()
        self.results = [self._result(check) for check in self.get_checks()]
        status = 500 if any(result.error for result in self.results) else 200
        wanted = request.GET.get("format") or ""
        accept = request.headers.get("accept", "")
        if wanted == "json" or (not wanted and "application/json" in accept):
            return self.render_to_response_json(status)
        if wanted == "openmetrics" or (not wanted and "openmetrics" in accept):
            return self.render_to_response_openmetrics()
        if wanted == "text" or (not wanted and "text/html" not in accept):
            return self.render_to_response_text(status)
        return self.render_to_response(self.get_context_data(**kwargs), status=status)

    @staticmethod
    def _result(check) -> HealthCheckResult:
        started = timeit.default_timer()
        try:
            check.run()
            error = None
        except HealthCheckException as exc:
            logger.warning("Health check %r failed: %s", check, exc)
            error = exc
        except Exception:  # reported without details, logged with them
            logger.exception("Unexpected exception during health check %r", check)
            error = HealthCheckException("unknown error")
        return HealthCheckResult(check=check, error=error, time_taken=timeit.default_timer() - started)


@login_not_required
@never_cache
def health_live(request):
    """For a load balancer or systemd: the web process answers. Tells nothing else to anyone."""
    return HttpResponse("ok\n", content_type="text/plain")


@login_not_required
@never_cache
def metrics(request):
    if not monitoring_allowed(request):
        return _refused()
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
