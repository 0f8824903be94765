"""Query parameters of list operations as django-filter FilterSets: one declaration validates them (an
unknown enum value, a malformed date-time or an unknown use case is a 400 naming the parameter) and
documents them in the OpenAPI schema (drf-spectacular reads the FilterSet)."""
import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError as ApiValidationError


class ListFilterBackend(DjangoFilterBackend):
    """A viewset's FilterSet narrows its list only: on a single object, a create or an action the list's
    parameters mean nothing, and drf-spectacular documents them on list operations alone as well."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", "list") != "list":
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            refuse_empty_typed_values(request.query_params, filterset)
        return super().filter_queryset(request, queryset, view)


# Parameters documented with an enum, a format or as booleans: sent empty (`?status=`), they match none of
# these and are refused like any other wrong value, rather than quietly filtering nothing.
TYPED_FILTERS = (django_filters.ChoiceFilter, django_filters.IsoDateTimeFilter, django_filters.BooleanFilter)


def refuse_empty_typed_values(params, filterset) -> None:
    empty = sorted(name for name, f in filterset.filters.items()
                   if isinstance(f, TYPED_FILTERS) and name in params and params.get(name) == "")
    if empty:
        raise ApiValidationError({name: [_("Give a value or leave the parameter out.")] for name in empty},
                                 code="invalid")


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error rather than quietly no filter."""

    widget = forms.TextInput  # the select widgets turn an unknown value into None before it is checked

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise ValidationError(_("Use true or false."), code="invalid")

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

