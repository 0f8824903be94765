"""What the portal answers while its database or broker cannot be reached: 503 with Retry-After, as JSON on
/api/ (DESIGN, "API errors") and as a short page elsewhere, instead of a 500. Wired as handler500, which
Django calls with the exception being handled, wherever in the middleware or view it was raised."""
import sys

from django import db
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error

from portal.problems import problem_response

RETRY_AFTER_SECONDS = 30


def _broker_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions

    errors: list[type[BaseException]] = [kombu.exceptions.OperationalError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency of celery[redis]
        pass
    return tuple(errors)


def unavailable_dependency(exc: BaseException | None) -> str | None:
    """'database' or 'broker' when exc (or what caused it) means the server cannot be reached."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (db.OperationalError, db.InterfaceError)):
            return "database"
        if isinstance(exc, _broker_errors()):
            return "broker"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def unavailable_response(request, dependency: str) -> HttpResponse:
    message = (_("The database cannot be reached at the moment. Please try again shortly.") if dependency == "database"
               else _("The message broker cannot be reached at the moment. Please try again shortly."))
    if request.path_info.startswith("/api/"):
        response = problem_response(503, code=f"{dependency}_unavailable", detail=message)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@requires_csrf_token
def handler500(request):
    exc = sys.exc_info()[1]
    dependency = unavailable_dependency(exc)
    if dependency:
        return unavailable_response(request, dependency)
    if request.path_info.startswith("/api/"):
        return problem_response(500, code="server_error", detail=_("Internal server error."))
    return server_error(request)
