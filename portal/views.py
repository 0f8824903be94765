from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from portal import services
from portal.middleware import SESSION_TENANT_KEY
from portal.selectors import tenant_list_for_user


class TenantRequiredMixin(LoginRequiredMixin):
    """A page inside a tenant: without an active tenant, the user chooses one first."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.tenant is None:
            return HttpResponseRedirect(reverse("portal:tenant-switch"))
        return super().dispatch(request, *args, **kwargs)


class HomeView(TenantRequiredMixin, View):
    def get(self, request):
        return render(request, "portal/home.html", {"roles": request.membership.roles if request.membership else []})


class TenantSwitchView(LoginRequiredMixin, View):
    def get(self, request):
        return render(request, "portal/tenant_switch.html", {"tenants": tenant_list_for_user(user=request.user)})

    def post(self, request):
        tenant = get_object_or_404(tenant_list_for_user(user=request.user), slug=request.POST.get("tenant"))
        services.tenant_switch(user=request.user, tenant=tenant)
        request.session[SESSION_TENANT_KEY] = tenant.pk
        return HttpResponseRedirect(reverse("portal:home"))
