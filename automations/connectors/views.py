"""IT's connector page: each connector's circuit state, last success, failure rate, backlog and dead
letters, and the deliveries that wait or died, each with a button to send it again."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from audit.actors import actor_from_request
from automations.choices import DeliveryStatus
from automations.connectors import selectors
from automations.connectors.services.deliveries import delivery_redeliver
from portal.views import TenantPermissionRequiredMixin, report_error


class ConnectorListView(TenantPermissionRequiredMixin, View):
    permission_required = "automations.view_catalogueentry"

    def get(self, request):
        deliveries = selectors.delivery_list(tenant=request.tenant).filter(
            status__in=(DeliveryStatus.DEAD, DeliveryStatus.FAILED))[:100]
        return render(request, "automations/connectors.html", {
            "overview": selectors.connector_overview(tenant=request.tenant), "deliveries": list(deliveries)})


class DeliveryRedeliverView(TenantPermissionRequiredMixin, View):
    permission_required = "automations.change_delivery"

    def post(self, request, pk: int):
        delivery = selectors.delivery_get(tenant=request.tenant, pk=pk)
        if delivery is None:
            raise Http404
        try:
            delivery_redeliver(actor=actor_from_request(request), delivery=delivery)
        except (ValidationError, PermissionDenied) as exc:
            report_error(request, exc)
        else:
            messages.success(request, _("The delivery is sent again with the same delivery id."))
        if request.POST.get("back") == "item":  # sent from the item's page
            return HttpResponseRedirect(reverse("work:item-detail", args=[delivery.item_id]) + "#deliveries-title")
        return HttpResponseRedirect(reverse("automations:connectors"))
