"""The connectors in the API: IT's overview per connector, the deliveries, and sending a delivery again."""
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.actors import actor_from_request
from automations.connectors import selectors
from automations.connectors.services.deliveries import delivery_redeliver
from portal.api.permissions import TenantMember, request_tenant
from portal.choices import TokenScope

# These lists answer arrays (not yet cursor pages): the schema says so.
LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object", "additionalProperties": {}}}


class HasTenantPermissions(permissions.BasePermission):
    def has_permission(self, request, view):
        return TenantMember().has_permission(request, view) and request.user.has_perms(view.required_permissions)


def _delivery(d) -> dict:
    return {"id": d.pk, "connector": d.connector.key, "item": str(d.item_id), "type": d.event_type,
            "webhook_id": d.webhook_id, "status": d.status, "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None, "last_error": d.last_error,
            "receipts": [{"attempt": r.number, "ok": r.ok, "status_code": r.status_code, "latency_ms": r.latency_ms,
                          "response_excerpt": r.response_excerpt, "error": r.error} for r in d.receipts.all()]}


class ConnectorListApiView(APIView):
    """Each connector of the tenant with its circuit state, last success, failure rate, backlog and dead letters."""

    permission_classes = [HasTenantPermissions]
    required_permissions = ["automations.view_catalogueentry"]

    @extend_schema(responses={200: LIST_OF_OBJECTS})
    def get(self, request):
        rows = selectors.connector_overview(tenant=request_tenant(request))
        return Response([{"key": r["connector"].key, "name": r["connector"].name,
                          "type": r["connector"].connector_type, "direction": r["connector"].direction,
                          "target": r["connector"].endpoint, "active": r["connector"].is_active, "state": r["state"],
                          "last_success_at": r["last_success_at"].isoformat() if r["last_success_at"] else None,
                          "failure_rate": r["failure_rate"], "backlog": r["backlog"], "dead": r["dead"],
                          "delivered": r["delivered"]} for r in rows])


class DeliveryListApiView(APIView):
    """Deliveries, newest first, with their receipts: `?status=dead&connector=erp`."""

    permission_classes = [HasTenantPermissions]
    required_permissions = ["automations.view_delivery"]

    @extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("connector", str)],
                   responses={200: LIST_OF_OBJECTS})
    def get(self, request):
        tenant = request_tenant(request)
        connector = None
        if request.query_params.get("connector"):
            connector = selectors.connector_get(tenant=tenant, key=request.query_params["connector"])
            if connector is None:
                return Response([])
        rows = selectors.delivery_list(tenant=tenant, connector=connector,
                                       status=request.query_params.get("status") or None
                                       ).prefetch_related("receipts")[:200]
        return Response([_delivery(d) for d in rows])


class DeliveryRedeliverApiView(APIView):
    """Send a dead or failed delivery again, with the same webhook id."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.RESULTS}
    required_permissions = ["automations.change_delivery"]
    refusal_status = status.HTTP_409_CONFLICT  # not dead or failed (portal.problems)

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, pk: int):
        delivery = selectors.delivery_get(tenant=request_tenant(request), pk=pk)
        if delivery is None:
            raise NotFound
        delivery = delivery_redeliver(actor=actor_from_request(request), delivery=delivery)
        return Response(_delivery(selectors.delivery_get(tenant=request_tenant(request), pk=delivery.pk)))


urlpatterns = [
    path("connectors/", ConnectorListApiView.as_view(), name="connector-list"),
    path("deliveries/", DeliveryListApiView.as_view(), name="delivery-list"),
    path("deliveries/<int:pk>/redeliver/", DeliveryRedeliverApiView.as_view(), name="delivery-redeliver"),
]
