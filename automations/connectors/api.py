"""The connectors in the API: IT's overview per connector, the deliveries (all, or one item's), and sending a
delivery again. The lists are cursor pages in the API's one envelope (portal.api.pagination)."""
import django_filters
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.actors import actor_from_request
from automations.choices import ConnectorDirection, ConnectorType, DeliveryStatus
from automations.connectors import selectors
from automations.connectors.models import Delivery
from automations.connectors.services.deliveries import delivery_redeliver
from automations.execution import selectors as execution_selectors
from automations.execution.models.work import WorkItem
from automations.execution.services.intake import ensure_may_read
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.processors import CircuitState
from portal.api.pagination import CursorPagination
from portal.api.permissions import HasTenantPermissions, request_tenant
from portal.api.schema import problem
from portal.api.viewsets import TenantScopedMixin
from portal.choices import TokenScope
from reviews.services import work_item_view_record


class ReceiptSerializer(serializers.Serializer):
    attempt = serializers.IntegerField(source="number")
    started_at = serializers.DateTimeField()
    ok = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The target's HTTP status; null without one.")
    latency_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True, help_text="Why the attempt failed; empty on success.")
    target = serializers.CharField(allow_blank=True, help_text="Where the attempt went; empty when a test delivery "
                                                               "was only recorded.")
    recorded_body = serializers.CharField(allow_blank=True, help_text="A test delivery's body: what was sent to the "
                                                                      "sandbox, or would have been sent.")


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    connector = serializers.CharField(source="connector.key", help_text="The connector's key.")
    connector_name = serializers.CharField(source="connector.name")
    item = serializers.UUIDField(source="item_id")
    type = serializers.CharField(source="event_type", help_text="e.g. `work_item.applied`.")
    test = serializers.BooleanField(help_text="A test delivery (a dry run's, or of a connector in test mode): to the "
                                              "connector's sandbox target or only recorded, never to production.")
    webhook_id = serializers.CharField(help_text="The same on every attempt of this delivery.")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    receipts = ReceiptSerializer(many=True)
    redeliver = serializers.SerializerMethodField(help_text="Where to POST to send a dead or failed delivery again "
                                                            "(IT); null otherwise.")

    def get_redeliver(self, delivery) -> str | None:
        if delivery.status in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
            return reverse("api:delivery-redeliver", args=[delivery.pk])
        return None


class ConnectorStateSerializer(serializers.Serializer):
    key = serializers.CharField(source="connector.key")
    name = serializers.CharField(source="connector.name")
    type = serializers.ChoiceField(source="connector.connector_type", choices=ConnectorType.choices)
    direction = serializers.ChoiceField(source="connector.direction", choices=ConnectorDirection.choices)
    target = serializers.CharField(source="connector.endpoint", allow_blank=True)
    active = serializers.BooleanField(source="connector.is_active")
    state = serializers.ChoiceField(choices=CircuitState.choices, help_text="The connector's circuit breaker.")
    last_success_at = serializers.DateTimeField(allow_null=True)
    failure_rate = serializers.FloatField(help_text="Dead letters among finished deliveries, 0 to 1.")
    backlog = serializers.IntegerField(help_text="Deliveries waiting: pending or failed (to be retried).")
    dead = serializers.IntegerField()
    delivered = serializers.IntegerField()


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, help_text=_("Only deliveries in this status."))
    connector = django_filters.CharFilter(field_name="connector__key", max_length=100,
                                          help_text=_("Only deliveries of the connector with this key."))

    class Meta:
        model = Delivery
        fields = ["status", "connector"]


class ConnectorPagination(CursorPagination):
    ordering = ("name", "pk")  # type: ignore[assignment]  # DRF takes a tuple; the stubs only str


class ConnectorListApiView(TenantScopedMixin, generics.ListAPIView):
    """Each connector of the tenant with its circuit state, last success, failure rate, backlog and dead letters."""

    permission_classes = [HasTenantPermissions]
    required_permissions = ["automations.view_catalogueentry"]
    serializer_class = ConnectorStateSerializer
    pagination_class = ConnectorPagination
    filter_backends: list = []
    queryset = CatalogueEntry.objects.none()

    def scoped_queryset(self, *, tenant, user):
        return selectors.connector_list(tenant=tenant)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.connector_overview(tenant=request_tenant(request), connectors=page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class DeliveryListApiView(TenantScopedMixin, generics.ListAPIView):
    """Deliveries, newest first, with their receipts: `?status=dead&connector=erp`."""

    permission_classes = [HasTenantPermissions]
    required_permissions = ["automations.view_delivery"]
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    queryset = Delivery.objects.none()

    def scoped_queryset(self, *, tenant, user):
        return selectors.delivery_list(tenant=tenant, user=user).prefetch_related("receipts")


class ItemDeliveryPagination(CursorPagination):
    ordering = ("created_at", "pk")  # type: ignore[assignment]  # DRF takes a tuple; the stubs only str


class WorkItemDeliveriesApiView(generics.ListAPIView):
    """One item's deliveries with their receipts, as its page shows them: status, attempts, each attempt's
    answer, and for a dead or failed one where to send it again (`redeliver`, POST)."""

    permission_classes = [HasTenantPermissions]
    required_permissions = ["automations.view_workitem", "automations.view_delivery"]
    serializer_class = DeliverySerializer
    pagination_class = ItemDeliveryPagination
    filter_backends: list = []
    queryset = Delivery.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        try:
            item = execution_selectors.work_item_get(tenant=request_tenant(self.request), user=self.request.user,
                                                     pk=self.kwargs["pk"])
        except (WorkItem.DoesNotExist, ValidationError, ValueError):
            raise NotFound from None
        actor = actor_from_request(self.request)
        ensure_may_read(actor, item)
        # A test delivery's receipt carries the item as it was sent: a look at the item, recorded as such.
        work_item_view_record(actor=actor, item=item, purpose="work item deliveries (API)")
        return selectors.deliveries_of_item(item=item).prefetch_related("receipts")


class DeliveryRedeliverApiView(APIView):
    """Send a dead or failed delivery again, with the same webhook id."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.RESULTS}
    required_permissions = ["automations.change_delivery"]
    refusal_status = status.HTTP_409_CONFLICT  # not dead or failed (portal.problems)

    @extend_schema(request=None, responses={200: DeliverySerializer,
                                            409: problem("Only a dead or failed delivery is sent again (`refused`).")})
    def post(self, request, pk: int):
        tenant = request_tenant(request)
        delivery = selectors.delivery_get(tenant=tenant, user=request.user, pk=pk)
        if delivery is None:
            raise NotFound
        delivery = delivery_redeliver(actor=actor_from_request(request), delivery=delivery)
        return Response(DeliverySerializer(selectors.delivery_get(tenant=tenant, user=request.user,
                                                                  pk=delivery.pk)).data)


urlpatterns = [
    path("work-items/<uuid:pk>/deliveries/", WorkItemDeliveriesApiView.as_view(), name="work-item-deliveries"),
    path("connectors/", ConnectorListApiView.as_view(), name="connector-list"),
    path("deliveries/", DeliveryListApiView.as_view(), name="delivery-list"),
    path("deliveries/<int:pk>/redeliver/", DeliveryRedeliverApiView.as_view(), name="delivery-redeliver"),
]
