"""Admin classes every app uses: scoped to the active tenant for non-superusers, and read-only for
governed records (writes to those go through services, which audit them)."""
from django.contrib import admin


class TenantScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        tenant = getattr(request, "tenant", None)
        return qs.filter(tenant=tenant) if tenant is not None else qs.none()


class GovernedReadOnlyAdmin(TenantScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
