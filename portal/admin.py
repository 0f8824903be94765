from django.contrib import admin

from portal.admin_base import GovernedReadOnlyAdmin, TenantScopedAdmin
from portal.models import ApiToken, Membership, Tenant


@admin.register(Tenant)
class TenantAdmin(GovernedReadOnlyAdmin):
    list_display = ("name", "slug", "is_active", "created_at")
    exclude = ("pseudonym_key",)

    def get_queryset(self, request):
        qs = super(TenantScopedAdmin, self).get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk=getattr(request.tenant, "pk", None))


@admin.register(Membership)
class MembershipAdmin(GovernedReadOnlyAdmin):
    list_display = ("user", "tenant", "roles", "is_active")
    list_filter = ("is_active",)


@admin.register(ApiToken)
class ApiTokenAdmin(GovernedReadOnlyAdmin):
    list_display = ("name", "prefix", "user", "tenant", "expires_at", "revoked_at", "last_used_at")
    exclude = ("digest",)
