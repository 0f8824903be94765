"""One pagination for every list of the API: cursor pages in one envelope,
`{"next": URL or null, "previous": URL or null, "results": [...]}`, the cursor in the `cursor` query
parameter. A cursor that is not one the API handed out is a 400 (`invalid_cursor`)."""
from datetime import UTC, datetime

from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema_serializer
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_PARAM = "cursor"
INVALID_CURSOR = _("Invalid cursor: follow the next or previous link of a page.")


class InvalidCursor(ValidationError):
    problem_code = "invalid_cursor"  # the problem's code (portal.problems)


def invalid_cursor() -> ValidationError:
    return InvalidCursor({CURSOR_PARAM: [INVALID_CURSOR]}, code="invalid_cursor")


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination over the primary key, newest first: unique and present on every model, so
    pages stay stable while rows are added (DRF's default orders by a `created` field few models have)."""

    ordering = "-pk"
    cursor_query_param = CURSOR_PARAM
    # DRF's own description is a lazy translation too; the stubs take only str.
    cursor_query_description = _("Cursor: taken from the next or previous link of a page.")  # type: ignore[assignment]

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise invalid_cursor() from None


# `?after=` was the cursor's name on the review-task and audit-event lists; it is deprecated (README,
# "Versioning and deprecation") since DEPRECATED_AFTER_SINCE and goes away at AFTER_SUNSET.
LEGACY_CURSOR_PARAM = "after"
DEPRECATED_AFTER_SINCE = datetime(2026, 12, 1, tzinfo=UTC)
AFTER_SUNSET = datetime(2027, 6, 30, tzinfo=UTC)
DEPRECATION_NOTICE = "/api/docs/"
KEYSET_PARAMETERS = [
    OpenApiParameter(CURSOR_PARAM, str, description="Cursor: taken from the next link of a page."),
    OpenApiParameter(LEGACY_CURSOR_PARAM, str, deprecated=True,
                     description="The cursor's former name; use `cursor`. Answers carry `Deprecation` and `Sunset` "
                                 "headers; it stops working after the Sunset date."),
]


def keyset_cursor(request) -> str | None:
    """The cursor of a keyset list, under its name or its deprecated former name."""
    return request.query_params.get(CURSOR_PARAM) or request.query_params.get(LEGACY_CURSOR_PARAM)


def announce_deprecations(request, response):
    """On a response to a request that used the deprecated `after`: `Deprecation` (RFC 9745), `Sunset`
    (RFC 8594) and a `Link` to the notice, so a client learns of it before it goes."""
    if LEGACY_CURSOR_PARAM in request.query_params:
        response["Deprecation"] = f"@{int(DEPRECATED_AFTER_SINCE.timestamp())}"
        response["Sunset"] = http_date(AFTER_SUNSET.timestamp())
        response["Link"] = f'<{request.build_absolute_uri(DEPRECATION_NOTICE)}>; rel="deprecation"; type="text/html"'
    return response


def keyset_page(request, results: list, next_cursor: str | None) -> dict:
    """The same envelope for lists that page by a keyset of their own (review tasks, audit events): only
    forward, so `previous` is always null."""
    following = None
    if next_cursor:
        following = replace_query_param(request.build_absolute_uri(), CURSOR_PARAM, next_cursor)
        following = remove_query_param(following, LEGACY_CURSOR_PARAM)
    return {"next": following, "previous": None, "results": results}


def page_serializer(name: str, item: serializers.Serializer) -> type[serializers.Serializer]:
    """The schema of a keyset page of `item`s, named `name`: one object (also on a viewset's `list`, which
    drf-spectacular would otherwise document as an array of pages)."""
    return extend_schema_serializer(many=False)(type(name, (serializers.Serializer,), {
        "__module__": __name__,
        "next": serializers.URLField(allow_null=True, help_text="The next page, null on the last."),
        "previous": serializers.URLField(allow_null=True, help_text="Always null: these pages go forward only."),
        "results": item,
    }))
