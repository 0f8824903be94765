from django.utils.functional import SimpleLazyObject

from portal.selectors import membership_get, tenant_list_for_user

SESSION_TENANT_KEY = "portal_tenant_id"


def _resolve(request):
    user = request.user
    if not user.is_authenticated:
        return None
    tenants = list(tenant_list_for_user(user=user))
    chosen = request.session.get(SESSION_TENANT_KEY)
    for tenant in tenants:
        if tenant.pk == chosen:
            return tenant
    # Exactly one tenant: nothing to choose. Several: the user switches explicitly.
    if len(tenants) == 1:
        request.session[SESSION_TENANT_KEY] = tenants[0].pk
        return tenants[0]
    return None


class TenantMiddleware:
    """Sets request.tenant (the active Mandant of the session) and request.membership, and tells the
    permission backend which tenant's roles apply (user.active_tenant). API requests get their tenant
    from the token instead (portal.api.authentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = _resolve(request)
        request.tenant = tenant
        if request.user.is_authenticated:
            request.user.active_tenant = tenant
        request.membership = SimpleLazyObject(
            lambda: membership_get(user=request.user, tenant=tenant) if tenant else None
        )
        return self.get_response(request)
