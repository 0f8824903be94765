from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
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


class PortalLocaleMiddleware(LocaleMiddleware):
    """German unless the user chose English with the language switch (the cookie /i18n/setlang/ sets).
    Pages ignore the browser's Accept-Language on purpose: the portal speaks German first, whatever
    language a browser was installed with. Programs calling /api/ may still ask with Accept-Language."""

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        try:
            language = translation.get_supported_language_variant(
                request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
            )
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
