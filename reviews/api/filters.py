"""Query parameters of the review-task list (portal.api.filters): validated and documented by the
FilterSet, applied by the keyset page of the selector."""
import django_filters
from django.utils.translation import gettext_lazy as _

from portal.api.filters import BooleanFilter
from portal.api.permissions import request_tenant
from reviews import selectors
from reviews.choices import TaskState
from reviews.models import ReviewQueue, ReviewTask


def _tenant_queues(request):
    if request is None:  # the schema generator
        return ReviewQueue.objects.none()
    return selectors.review_queue_list(tenant=request_tenant(request), user=request.user)


class ReviewTaskFilterSet(django_filters.FilterSet):
    queue = django_filters.ModelChoiceFilter(queryset=_tenant_queues, required=True,
                                             help_text=_("Id of a review queue of the tenant (required)."))
    state = django_filters.ChoiceFilter(choices=[(s.value, s.label) for s in selectors.LISTED_STATES],
                                        help_text=_("Task state; open when left out."))
    use_case = django_filters.CharFilter(help_text=_("Use case key."))
    priority = django_filters.ChoiceFilter(choices=[(n, str(n)) for n in range(1, 6)],
                                           help_text=_("1 = most urgent."))
    overdue = BooleanFilter(help_text=_("true: only tasks past their due time."))
    q = django_filters.CharFilter(max_length=200, help_text=_("Text in the reasons."))

    class Meta:
        model = ReviewTask
        fields = ["queue", "state", "use_case", "priority", "overdue", "q"]

    def task_filters(self, queue) -> selectors.TaskFilters:
        data = self.form.cleaned_data
        use_case_id = None
        if data.get("use_case"):
            use_case_id = next((u.pk for u in selectors.review_queue_use_cases(queue=queue)
                                if u.key == data["use_case"]), -1)
        return selectors.TaskFilters(
            state=data.get("state") or TaskState.OPEN, use_case_id=use_case_id, search=data.get("q") or "",
            priority=int(data["priority"]) if data.get("priority") else None, overdue=bool(data.get("overdue")))
