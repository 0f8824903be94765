from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination over the primary key, newest first: unique and present on every model, so
    pages stay stable while rows are added (DRF's default orders by a `created` field few models have)."""

    ordering = "-pk"
