"""Query parameters of the registry's lists (portal.api.filters)."""
import django_filters
from django.utils.translation import gettext_lazy as _

from automations.choices import ChangeState, RiskTier, UseCaseStatus
from automations.registry import selectors
from automations.registry.models.changes import ChangeRequest
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import Release
from portal.api.filters import BooleanFilter
from portal.api.permissions import request_tenant


def _tenant_use_cases(request):
    if request is None:  # the schema generator
        return UseCase.objects.none()
    return UseCase.objects.for_tenant(request_tenant(request))


class UseCaseKeyFilter(django_filters.ModelChoiceFilter):
    """`?use_case=KEY`: a use case of the request's tenant by its key; an unknown key is a 400."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("field_name", "use_case")
        kwargs.setdefault("to_field_name", "key")
        kwargs.setdefault("queryset", _tenant_use_cases)
        kwargs.setdefault("help_text", _("Use case key, e.g. eingangsrechnungen."))
        super().__init__(*args, **kwargs)


class UseCaseFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=UseCaseStatus.choices, help_text=_("Only use cases in this status."))
    risk_tier = django_filters.ChoiceFilter(choices=RiskTier.choices, help_text=_("EU AI Act risk tier."))
    department = django_filters.CharFilter(help_text=_("Owning department, exactly as documented."))
    review_due = BooleanFilter(method="filter_review_due",
                                              help_text=_("true: only those due for their periodic review."))

    class Meta:
        model = UseCase
        fields = ["status", "risk_tier", "department", "review_due"]

    def filter_review_due(self, queryset, name, value):
        return selectors.use_cases_due_for_review(queryset) if value else queryset


class VersionFilterSet(django_filters.FilterSet):
    """Versions of every kind: `?use_case=KEY`."""

    use_case = UseCaseKeyFilter()


class ReleaseFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter()

    class Meta:
        model = Release
        fields = ["use_case"]


class ChangeRequestFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ChangeState.choices, help_text=_("Only requests in this state."))
    use_case = UseCaseKeyFilter()

    class Meta:
        model = ChangeRequest
        fields = ["state", "use_case"]
