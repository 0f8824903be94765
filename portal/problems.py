"""One error format for the whole API: problem details (RFC 9457), `application/problem+json`.

Every error under /api/ — a DRF exception, a service's refusal (Django's ValidationError and
PermissionDenied), an unmatched path, a body over the limit, an unreachable database — is answered by
`problem_response`:

    {"type": "urn:leitplanke:problem:<code>", "title": "...", "status": 400, "detail": "...",
     "code": "<code>", "errors": [{"field": "payload.reference", "code": "max_length", "detail": "..."}]}

`code` is stable and machine-readable (clients rely on it, never on the text); `title` and `detail` follow
the request's Accept-Language (German or English); `errors` lists field errors (field `null` for an error
of the whole input) and is present on validation errors only.

A service's exception names its own status and code where they differ from the default (class attributes
`problem_status` and `problem_code`, e.g. intake's `UseCaseNotAccepting`: 409 `use_case_not_accepting`);
a view whose refusals mean a conflict says so with `refusal_status` (an int, or a dict by action name)."""
import json
import logging
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:leitplanke:problem:"

# The title of each status, short and the same for every problem of that status (RFC 9457, 3.1.3).
TITLES = {
    400: gettext_lazy("Invalid request"),
    401: gettext_lazy("Not authenticated"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Conflict"),
    413: gettext_lazy("Request too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Unprocessable content"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Internal server error"),
    503: gettext_lazy("Service unavailable"),
}

# Codes used for a status when nothing more specific is known.
DEFAULT_CODES = {
    400: "invalid", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "request_too_large",
    415: "unsupported_media_type", 422: "unprocessable", 429: "throttled", 500: "server_error",
    503: "unavailable",
}


def problem_body(status_code: int, *, code: str | None = None, detail: str = "",
                 errors: list[dict] | None = None, **extra) -> dict:
    code = code or DEFAULT_CODES.get(status_code, "error")
    body = {"type": f"{TYPE_PREFIX}{code}", "title": force_str(TITLES.get(status_code, _("Error"))),
            "status": status_code, "detail": force_str(detail) or force_str(TITLES.get(status_code, _("Error"))),
            "code": code}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status_code: int, *, code: str | None = None, detail: str = "",
                     errors: list[dict] | None = None, headers: dict | None = None, **extra) -> HttpResponse:
    """The one way an error leaves /api/."""
    body = problem_body(status_code, code=code, detail=detail, errors=errors, **extra)
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status_code,
                            content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- field errors ----------------------------------------------------------------------------------------------

def _field_errors(detail, prefix: str | None = None) -> list[dict]:
    """DRF's nested error detail (dicts of lists of ErrorDetail) as a flat list; nested names joined by dots,
    list positions as numbers (`engine_configs.1`)."""
    found = []
    if isinstance(detail, dict):
        for name, value in detail.items():
            name = str(name)
            field = None if name in ("non_field_errors", "__all__", "detail") and prefix is None else (
                f"{prefix}.{name}" if prefix else name)
            found += _field_errors(value, field)
    elif isinstance(detail, list):
        if all(not isinstance(value, (dict, list)) for value in detail):
            for value in detail:
                found.append({"field": prefix, "code": getattr(value, "code", None) or "invalid",
                              "detail": force_str(value)})
        else:
            for index, value in enumerate(detail):
                if value:
                    found += _field_errors(value, f"{prefix}.{index}" if prefix else str(index))
    else:
        found.append({"field": prefix, "code": getattr(detail, "code", None) or "invalid", "detail": force_str(detail)})
    return found


def _summary(errors: list[dict]) -> str:
    parts = []
    for error in errors:
        parts.append(error["detail"] if error["field"] is None else f"{error['field']}: {error['detail']}")
    return " ".join(parts)


def _django_messages(error: DjangoValidationError) -> list[str]:
    return [force_str(message) for message in error.messages]


def _django_field_errors(error: DjangoValidationError, code: str) -> list[dict]:
    fields = getattr(error, "fields", None)
    if isinstance(fields, dict):  # intake's InputTooLarge: reasons per payload field
        return [{"field": f"payload.{name}", "code": code, "detail": force_str(reason)}
                for name, reason in fields.items()]
    if hasattr(error, "error_dict"):
        return [{"field": None if name == "__all__" else name, "code": e.code or code, "detail": force_str(m)}
                for name, errs in error.error_dict.items() for e in errs for m in e.messages]
    return [{"field": None, "code": code, "detail": message} for message in _django_messages(error)]


# --- the handler -----------------------------------------------------------------------------------------------

def _refusal_status(view) -> int:
    wanted = getattr(view, "refusal_status", status.HTTP_400_BAD_REQUEST)
    if isinstance(wanted, dict):
        return wanted.get(getattr(view, "action", None), status.HTTP_400_BAD_REQUEST)
    return wanted


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception a view raises as a problem response; anything
    else (a bug, an unreachable database) goes on to Django, whose handler500 answers for /api/ too."""
    view = context.get("view")
    if isinstance(exc, DjangoValidationError):
        status_code = getattr(exc, "problem_status", None) or _refusal_status(view)
        code = getattr(exc, "problem_code", None) or ("conflict" if status_code == 409 else "refused")
        errors = _django_field_errors(exc, code)
        body_errors = errors if status_code in (400, 422) and any(e["field"] for e in errors) else None
        return problem_response(status_code, code=code, detail=" ".join(_django_messages(exc)), errors=body_errors)
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(403, code=getattr(exc, "problem_code", None) or "permission_denied",
                                detail=force_str(exc) or _("You do not have permission to perform this action."))
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return problem_response(404, code="not_found", detail=_("Not found."))
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError) or (
            isinstance(exc.detail, (dict, list)) and status_code in (400, 422)):
        errors = _field_errors(exc.detail)
        codes = {e["code"] for e in errors}
        code = getattr(exc, "problem_code", None) or (codes.pop() if len(codes) == 1 and status_code != 400
                                                      else DEFAULT_CODES.get(status_code, "invalid"))
        return problem_response(status_code, code=code, detail=_summary(errors) or _("Invalid input."),
                                errors=errors, headers=headers)
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        detail = _summary(_field_errors(detail))
    code = getattr(detail, "code", None) or getattr(exc, "default_code", None) or DEFAULT_CODES.get(status_code)
    if isinstance(exc, exceptions.ParseError):
        code = "parse_error"
    return problem_response(status_code, code=code, detail=force_str(detail), headers=headers)


@login_not_required  # says only that nothing is there, to anyone
@csrf_exempt  # a POST to an unknown path is answered 404 like a GET, not refused as a cross-site form
def api_not_found(request, *args, **kwargs):
    """Anything under /api/ that no route matches (an unknown path, a path parameter of the wrong form)."""
    return problem_response(404, code="not_found",
                            detail=_("No API endpoint at %(path)s. The schema at /api/schema/ lists them all.")
                            % {"path": request.path})


# What no JSON body or JSON line may hold, whatever reads it (the API's parser, a multipart payload, a bulk
# import): the database stores no NUL character, and nesting deeper than this is no input of ours.
MAX_JSON_DEPTH = 32


def json_refusal(value: Any, *, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON value is refused (a NUL character, too deep), or None. Iterative: any depth is walked."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return _("The JSON is nested deeper than %(n)s levels.") % {"n": limit}
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, str) and "\x00" in key:
                    return _("The JSON contains a NUL character.")
                stack.append((child, depth + 1))
        elif isinstance(node, str) and "\x00" in node:
            return _("The JSON contains a NUL character.")
    return None
