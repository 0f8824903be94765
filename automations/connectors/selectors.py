"""Reads of the connectors, tenant-scoped."""
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q

from automations.choices import CatalogueKind, ConnectorDirection, DeliveryStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.execution.models.work import WorkItem
from automations.execution.selectors import work_item_restrict
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.selectors import delivery_connectors_of
from portal.selectors import reads_all_work


def connector_list(*, tenant, direction: str | None = None):
    qs = CatalogueEntry.objects.for_tenant(tenant).filter(kind=CatalogueKind.CONNECTOR)
    if direction:
        qs = qs.filter(direction=direction)
    return qs.order_by("name")


def connector_get(*, tenant, key: str) -> CatalogueEntry | None:
    return connector_list(tenant=tenant).filter(key=key).first()


def delivery_connectors(*, use_case) -> list[CatalogueEntry]:
    """The delivery connectors a use case names (active or not: an inactive one is refused at run time,
    visibly, rather than skipped)."""
    return list(delivery_connectors_of(use_case=use_case).order_by("key"))


def intake_connectors(*, connector_type: str):
    """Active intake connectors of one type, across tenants (beat polls them)."""
    return (CatalogueEntry.objects.filter(kind=CatalogueKind.CONNECTOR, direction=ConnectorDirection.INTAKE,
                                          connector_type=connector_type, is_active=True)
            .select_related("tenant").order_by("pk"))


def deliveries_of_item(*, item):
    return Delivery.objects.filter(item=item).select_related("connector").order_by("created_at", "pk")


def delivery_list(*, tenant, user, connector=None, status: str | None = None):
    """Deliveries of the items the user may read (execution.selectors.work_item_restrict)."""
    qs = Delivery.objects.for_tenant(tenant).select_related("connector", "item", "item__use_case")
    if not reads_all_work(user=user, tenant=tenant):
        qs = qs.filter(item__in=work_item_restrict(WorkItem.objects.all(), tenant=tenant, user=user).values("pk"))
    if connector is not None:
        qs = qs.filter(connector=connector)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def delivery_get(*, tenant, user, pk: int) -> Delivery | None:
    return delivery_list(tenant=tenant, user=user).filter(pk=pk).first()


def connector_overview(*, tenant, connectors=None) -> list[dict]:
    """IT's view of each connector: circuit state, last success, failure rate, backlog and dead letters; of
    every connector of the tenant, or of the given ones (a page of them). Production deliveries only: test
    deliveries go to a sandbox or nowhere."""
    connectors = list(connector_list(tenant=tenant) if connectors is None else connectors)
    deliveries = Delivery.objects.for_tenant(tenant).filter(connector__in=[c.pk for c in connectors], test=False)
    counts = {row["connector"]: row for row in deliveries.values("connector").annotate(
        backlog=Count("pk", filter=Q(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED))),
        dead=Count("pk", filter=Q(status=DeliveryStatus.DEAD)),
        delivered=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED)),
        total=Count("pk"))}
    circuits = {c.entry_id: c for c in ConnectorCircuit.objects.for_tenant(tenant)}
    overview = []
    for connector in connectors:
        row: Mapping[str, Any] = counts.get(connector.pk, {})
        circuit = circuits.get(connector.pk)
        total, delivered = row.get("total", 0), row.get("delivered", 0)
        finished = delivered + row.get("dead", 0)
        overview.append({
            "connector": connector, "state": circuit.state if circuit else "closed",
            "last_success_at": circuit.last_success_at if circuit else None,
            "consecutive_failures": circuit.consecutive_failures if circuit else 0,
            "failure_rate": round(row.get("dead", 0) / finished, 4) if finished else 0.0,
            "backlog": row.get("backlog", 0), "dead": row.get("dead", 0), "delivered": delivered, "total": total,
        })
    return overview
