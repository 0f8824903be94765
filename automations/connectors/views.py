"""IT's connector page: each connector's circuit state, last success, failure rate, backlog and dead
letters, and the deliveries that wait or died, each with a button to send it again."""
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from audit.actors import actor_from_request
from automations.choices import DeliveryStatus
from automations.connectors import selectors
from automations.connectors.services.deliveries import delivery_redeliver
from portal.views import TenantPermissionRequiredMixin, call_service


class ConnectorListView(TenantPermissionRequiredMixin, View):
    permission_required = "automations.view_catalogueentry"

    def get(self, request):
        deliveries = selectors.delivery_list(tenant=request.tenant, user=request.user).filter(
            status__in=(DeliveryStatus.DEAD, DeliveryStatus.FAILED))[:100]
        return render(request, "automations/connectors.html", {
            "overview": selectors.connector_overview(tenant=request.tenant), "deliveries": list(deliveries)})


class DeliveryRedeliverView(TenantPermissionRequiredMixin, View):
    permission_required = "automations.change_delivery"

    def post(self, request, pk: int):
        delivery = selectors.delivery_get(tenant=request.tenant, user=request.user, pk=pk)
        if delivery is None:
            raise Http404
        back = (reverse("work:item-detail", args=[delivery.item_id]) + "#deliveries-title"
                if request.POST.get("back") == "item" else reverse("automations:connectors"))  # item: from its page
        return call_service(request, lambda: delivery_redeliver(actor=actor_from_request(request), delivery=delivery),
                            success=_("The delivery is sent again with the same delivery id."), to=back)
