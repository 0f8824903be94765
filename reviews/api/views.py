"""Review queues and tasks over the API: read, claim (the next task or a given one) and release, under
the same permissions as the pages, API tokens included. Deciding is not here: it needs a person in a
browser session (DESIGN.md)."""
from django.utils import timezone
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from audit.actors import actor_from_request
from automations.execution.services.intake import ensure_may_read
from portal.api.filters import refuse_empty_typed_values
from portal.api.pagination import KEYSET_PARAMETERS, announce_deprecations, invalid_cursor, keyset_cursor, keyset_page
from portal.api.permissions import TenantMember, TenantModelPermissions, request_tenant
from portal.api.schema import problem
from portal.choices import TokenScope
from reviews import selectors, services
from reviews.api.filters import ReviewTaskFilterSet
from reviews.api.serializers import (
    ReviewQueueSerializer,
    ReviewTaskDetailSerializer,
    ReviewTaskPageSerializer,
    ReviewTaskSerializer,
)
from reviews.models import ReviewQueue, ReviewTask

CONFLICT = problem("Another clerk holds the task, or it is decided (`conflict`).")


class MayViewTasks(BasePermission):
    """Claiming and releasing: a member who may see review tasks; the service checks the queue's work
    permission and the clerk's briefing and training."""

    def has_permission(self, request, view):
        return TenantMember().has_permission(request, view) and request.user.has_perm("reviews.view_reviewtask")


class ReviewQueueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReviewQueueSerializer
    queryset = ReviewQueue.objects.none()
    permission_classes = [TenantModelPermissions]
    token_scopes = {"next": TokenScope.RESULTS}  # deciding stays with people in a browser session

    def get_permissions(self):
        if self.action == "next":
            return [MayViewTasks()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewQueue.objects.none()
        return selectors.review_queue_list(tenant=request_tenant(self.request),
                                           user=self.request.user).prefetch_related("use_cases")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["figures"] = getattr(self, "_figures", {})
        return context

    def list(self, request, *args, **kwargs):
        """The tenant's queues with their figures (counts stop at 10,000)."""
        queues = self.paginate_queryset(self.get_queryset())
        now = timezone.now()
        self._figures = {q.pk: selectors.review_queue_figures(queue=q, now=now) for q in queues}
        return self.get_paginated_response(self.get_serializer(queues, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        queue = self.get_object()
        self._figures = {queue.pk: selectors.review_queue_figures(queue=queue)}
        return Response(self.get_serializer(queue).data)

    @extend_schema(request=None, responses={200: ReviewTaskSerializer,
                                            204: OpenApiResponse(description="No task for the caller right now.")})
    @action(detail=True, methods=["post"], url_path="next")
    def next(self, request, pk=None):
        """Claim the most urgent task the caller may work in this queue (each task to one caller at a time)."""
        queue = self.get_object()
        task = services.review_task_claim_next(actor=actor_from_request(request), queue=queue)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewTaskSerializer(task).data)


class ReviewTaskViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ReviewTask.objects.none()
    permission_classes = [TenantModelPermissions]
    filterset_class = ReviewTaskFilterSet  # validated and documented; the keyset page applies it
    token_scopes = {"claim": TokenScope.RESULTS, "release": TokenScope.RESULTS}  # never "decide"
    pagination_class = None
    refusal_status = status.HTTP_409_CONFLICT  # held by another clerk, or decided already

    def get_serializer_class(self):
        return ReviewTaskDetailSerializer if self.action == "retrieve" else ReviewTaskSerializer

    def get_permissions(self):
        if self.action in ("claim", "release"):
            return [MayViewTasks()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewTask.objects.none()
        return selectors.review_task_list_for_api(tenant=request_tenant(self.request),
                                                  user=self.request.user).select_related("item", "item__use_case")

    @extend_schema(parameters=KEYSET_PARAMETERS, responses=ReviewTaskPageSerializer)
    def list(self, request):
        """A queue's tasks by priority, due time and id, 50 a page, keyset-paginated (`cursor`)."""
        filterset = ReviewTaskFilterSet(request.query_params, queryset=ReviewTask.objects.none(), request=request)
        refuse_empty_typed_values(request.query_params, filterset)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        cursor = keyset_cursor(request)
        if cursor and selectors.cursor_decode(cursor) is None:
            raise invalid_cursor()
        queue = filterset.form.cleaned_data["queue"]
        page = selectors.review_task_page(queue=queue, filters=filterset.task_filters(queue), after=cursor)
        return announce_deprecations(request, Response(
            keyset_page(request, ReviewTaskSerializer(page.tasks, many=True).data, page.next_cursor)))

    def retrieve(self, request, *args, **kwargs):
        """One task with the item's suggested fields and reasons (recorded as a view of personal data)."""
        task = self.get_object()
        ensure_may_read(actor_from_request(request), task.item)
        services.work_item_view_record(actor=actor_from_request(request), item=task.item, purpose="review (API)")
        return Response(ReviewTaskDetailSerializer(task).data)

    def _act(self, request, service):
        task = service(actor=actor_from_request(request), task=self.get_object())
        return Response(ReviewTaskSerializer(task).data)

    @extend_schema(request=None, responses={200: ReviewTaskSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Claim this task (409 when another clerk holds it or it is decided)."""
        return self._act(request, services.review_task_claim)

    @extend_schema(request=None, responses={200: ReviewTaskSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Give a task you hold back to its queue."""
        return self._act(request, services.review_task_release)
