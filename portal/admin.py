from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

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


# Second factors are set up, used and reset only through the portal's pages and services (audited); django-otp's
# own admin would let a superuser read every TOTP secret and add devices unaudited. The portal's authenticators
# (TotpAuthenticator, secrets encrypted) have no admin at all; django-otp's plain TOTP table stays empty.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
