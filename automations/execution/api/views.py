"""Work items over the API: intake (multipart or JSON, idempotent), the item, final results for target
systems, and their acknowledgement."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from audit.actors import actor_from_request
from automations.execution import selectors
from automations.execution.api.filters import WorkItemFilterSet
from automations.execution.api.serializers import (
    WorkItemAcknowledgeInputSerializer,
    WorkItemAcknowledgementSerializer,
    WorkItemCreateInputSerializer,
    WorkItemSerializer,
)
from automations.execution.models.work import WorkItem
from automations.execution.services import intake, results
from portal.api.pagination import CursorPagination
from portal.api.parsers import JSONParser
from portal.api.permissions import TenantModelPermissions, request_tenant
from portal.api.schema import problem
from portal.choices import TokenScope
from reviews.services import work_item_view_record, work_items_view_record


class ResultsPagination(CursorPagination):
    ordering = ("updated_at", "id")  # type: ignore[assignment]  # DRF takes a tuple; the stubs only str


class WorkItemViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                      viewsets.GenericViewSet):
    permission_classes = [TenantModelPermissions]
    token_scopes = {"create": TokenScope.INTAKE, "acknowledge": TokenScope.RESULTS}
    serializer_class = WorkItemSerializer
    queryset = WorkItem.objects.none()
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = ResultsPagination
    filterset_class = WorkItemFilterSet
    refusal_status = {"acknowledge": status.HTTP_409_CONFLICT}  # only final items are acknowledged

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkItem.objects.none()
        tenant, user = request_tenant(self.request), self.request.user
        if self.action == "retrieve":
            # The DSB alone reads a restricted item (Art. 18 GDPR); lists and pulls never carry one.
            return selectors.work_item_list(
                tenant=tenant, user=user, with_restricted=intake.may_read_restricted(actor_from_request(self.request),
                                                                                    tenant)
            ).select_related("release").prefetch_related("deliveries__connector")
        # The serializer shows the release's number and the deliveries: joined and prefetched, no query per item.
        return selectors.work_item_list(tenant=tenant, user=user).select_related("release").prefetch_related(
            "deliveries__connector")

    def list(self, request, *args, **kwargs):
        """Final results for target systems: `?use_case=...&status=applied&since=...`, cursor-paginated."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        work_items_view_record(actor=actor_from_request(request), tenant=request_tenant(request), items=page,
                               purpose="work item list (API)")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    # JSON first: a client generated from the schema sends its first media type.
    @extend_schema(request={"application/json": WorkItemCreateInputSerializer,
                            "multipart/form-data": WorkItemCreateInputSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER)],
                   responses={201: WorkItemSerializer, 200: WorkItemSerializer,
                              409: problem("The use case is in draft or retired (`use_case_not_accepting`)."),
                              422: problem("The idempotency key was used with other content (`idempotency_conflict`), "
                                           "or input fields are over their limits (`input_too_large`).")})
    def create(self, request, *args, **kwargs):
        """Submit a work item. The same `Idempotency-Key` with the same content returns the same item
        (200); with other content 422; a use case in draft or retired answers 409; a file whose content
        is of a type the use case's engines do not read (HTTP 415)."""
        body = WorkItemCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item, created = intake.work_item_create(
            actor=actor_from_request(request), tenant=request_tenant(request),
            use_case_key=body.validated_data["use_case"], payload=body.validated_data.get("payload"),
            files=request.FILES.getlist("file"), idempotency_key=request.headers.get("Idempotency-Key"),
            external_id=body.validated_data.get("external_id") or "")
        return Response(WorkItemSerializer(item, context={"created": created}).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def retrieve(self, request, *args, **kwargs):
        """The item. One whose processing is restricted (Art. 18 GDPR) is found by the DSB alone, and
        each such read is recorded on the access chain."""
        item = self.get_object()
        if item.restricted:
            intake.ensure_may_read(actor_from_request(request), item)
        work_item_view_record(actor=actor_from_request(request), item=item, purpose="work item (API)")
        return Response(WorkItemSerializer(item).data)

    @extend_schema(request={"application/json": WorkItemAcknowledgeInputSerializer},
                   responses={200: WorkItemAcknowledgementSerializer,
                              409: problem("Only final items are acknowledged (`conflict`).")})
    @action(detail=True, methods=["post"], url_path="acknowledge")
    def acknowledge(self, request, pk=None):
        """A target system confirms it took the final item; `first` is false on a repeat."""
        item = self.get_object()
        body = WorkItemAcknowledgeInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        first = results.work_item_acknowledge(actor=actor_from_request(request), item=item,
                                              consumer=body.validated_data["consumer"])
        return Response({"id": str(item.pk), "consumer": body.validated_data["consumer"], "first": first})
