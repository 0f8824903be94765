"""The error side of the OpenAPI schema: the problem document (portal.problems) as a component, and on
every operation each error status it can answer with, as `application/problem+json`.

Which statuses an operation can answer follows from its shape: every operation needs a token (401), a
permission (403), a reachable database (503) and a client that accepts JSON (406); one with a path
parameter addresses something that may not exist (404); one with query parameters or a body may be sent
something invalid (400); one with a body may send too much (413) or the wrong media type (415). Statuses of
the domain (409, 422, ...) are declared by the view with `problem()` and get the same content here."""
from drf_spectacular.utils import OpenApiResponse

CONTENT_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

DESCRIPTIONS = {
    400: "Invalid input: `errors` names each field (`code` per field); or a refusal of the service (`refused`).",
    401: "No token, or an invalid, expired or revoked one (`WWW-Authenticate: Bearer`).",
    403: "The token's user lacks the permission in the token's tenant.",
    404: "Nothing of this tenant at this path that the caller may see.",
    406: "The client accepts no JSON.",
    409: "Conflicts with the current state of the resource.",
    413: "The body is larger than the configured limit.",
    415: "A media type (Content-Type or a file's content) that this operation does not accept.",
    422: "Well-formed but not processable.",
    503: "The database or the message broker cannot be reached; retry after `Retry-After` seconds.",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "A problem document (RFC 9457). Rely on `code`; `title` and `detail` are for people and "
                   "follow Accept-Language (German or English).",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "`urn:leitplanke:problem:<code>`",
                 "example": "urn:leitplanke:problem:invalid"},
        "title": {"type": "string", "description": "Short, the same for every problem of the status."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, in a sentence or two."},
        "code": {"type": "string", "description": "Stable machine-readable code, e.g. `invalid`, `refused`, "
                                                  "`not_found`, `use_case_not_accepting`, `idempotency_conflict`.",
                 "example": "invalid"},
        "errors": {"type": "array", "description": "Field errors (only with 400 and 422).",
                   "items": {"$ref": "#/components/schemas/ProblemFieldError"}},
        "candidates": {"type": "array", "items": {"type": "string"},
                       "description": "Only with `ambiguous_subject`: the people a name matches."},
    },
    "required": ["type", "title", "status", "detail", "code"],
}

FIELD_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "nullable": True,
                  "description": "Dotted path of the field (`payload.reference`, `engine_configs.1`); null for an "
                                 "error of the whole input."},
        "code": {"type": "string", "description": "e.g. `required`, `invalid`, `invalid_choice`, `max_length`."},
        "detail": {"type": "string"},
    },
    "required": ["field", "code", "detail"],
}

RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}}


def problem(description: str) -> OpenApiResponse:
    """A domain error status of one operation, e.g. `responses={409: problem("...")}`."""
    return OpenApiResponse(response=None, description=description)


def _statuses(operation: dict, method: str) -> set[int]:
    parameters = operation.get("parameters", [])
    wanted = {401, 403, 406, 503}
    if any(p.get("in") == "path" for p in parameters):
        wanted.add(404)
    if any(p.get("in") in ("query", "header") for p in parameters) or "requestBody" in operation:
        wanted.add(400)
    if "requestBody" in operation or method in ("post", "put", "patch"):
        wanted |= {400, 413, 415}
    return wanted


def problem_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the problem component and the error responses of every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemFieldError"] = FIELD_ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if str(code).isdigit() and int(code) >= 400}
            for status in sorted(_statuses(operation, method) | declared):
                given = responses.get(str(status), {})
                response = {"description": given.get("description") or DESCRIPTIONS.get(status, "Error."),
                            "content": {CONTENT_TYPE: {"schema": PROBLEM_REF}}}
                if status == 503:
                    response["headers"] = RETRY_AFTER
                if status == 401:
                    response["headers"] = WWW_AUTHENTICATE
                responses[str(status)] = response
            operation["responses"] = dict(sorted(responses.items()))
    return result


NO_NUL = "^[^\x00]*$"


def query_strings_without_nul(result, generator, request, public):
    """POSTPROCESSING_HOOKS: Django refuses a NUL character in form input (a 400), so every free-text query
    parameter says that it takes none."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "string" and \
                        not {"enum", "format", "pattern"} & set(schema):
                    schema["pattern"] = NO_NUL
    return result
