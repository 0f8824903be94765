"""Searching stored text for identifiers: a case-insensitive pre-filter in SQL (JSON cast to text), confirmed in
Python. Shared by the subject search and the mentions sweep."""
import json

from django.db.models import Q, TextField
from django.db.models.functions import Cast


def json_spellings(needle: str) -> list[str]:
    """How a string can stand in stored JSON text: as it is, and with non-ASCII escaped (SQLite's JSON)."""
    escaped = json.dumps(needle)[1:-1]
    return [needle] if escaped == needle else [needle, escaped]


def text_filter(columns: list[str], needles: list[str]) -> Q:
    """Rows whose text (JSON cast to text) contains any needle, case-insensitively: a pre-filter in SQL,
    confirmed in Python."""
    query = Q()
    for column in columns:
        for needle in needles:
            for spelling in json_spellings(needle):
                query |= Q(**{f"_text_{column}__icontains": spelling})
    return query


def annotate_text(queryset, columns: list[str]):
    return queryset.annotate(**{f"_text_{column}": Cast(column, TextField()) for column in columns})


def strings_in(value) -> list[str]:
    """Every string inside a JSON value (keys too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (key, *strings_in(item))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings_in(item)]
    return []


def contains_any(value, needles: list[str]) -> bool:
    lowered = [needle.casefold() for needle in needles]
    return any(needle in text.casefold() for text in strings_in(value) for needle in lowered)
