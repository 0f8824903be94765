"""Query parameters of the work-item list (portal.api.filters)."""
import django_filters
from django.utils.translation import gettext_lazy as _

from automations.choices import ItemStatus
from automations.execution.models.work import WorkItem
from automations.registry.api.filters import UseCaseKeyFilter


class WorkItemFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter()
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices,
                                         help_text=_("Only items in this status, e.g. applied."))
    since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                             help_text=_("ISO 8601 date-time: only items changed at or after it."))
    not_acknowledged_by = django_filters.CharFilter(method="filter_not_acknowledged_by", max_length=100,
                                                    help_text=_("Only items this consumer (target system) has not "
                                                                "acknowledged yet."))

    class Meta:
        model = WorkItem
        fields = ["use_case", "status", "since", "not_acknowledged_by"]

    def filter_not_acknowledged_by(self, queryset, name, value):
        return queryset.exclude(acknowledgements__consumer=value)
