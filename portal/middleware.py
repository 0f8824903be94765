from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from portal.problems import problem_response
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


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Fails closed: every page needs a signed-in user unless its view is marked `login_not_required`
    (sign-in, health and metrics with their own token, the language switch). A page that forgets its
    mixin is still refused, before its view or any service runs.

    API views authenticate inside DRF (a bearer token is not known yet at this point); there the default
    permission class (`portal.api.permissions.TenantMember`) refuses anonymous requests with 401/403."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "cls", None) is not None and _is_api_view(view_func.cls):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request, view_func):
        if request.path_info.startswith("/api/"):  # a program gets an answer it can read, not a login page
            return problem_response(401, code="not_authenticated", detail=_("Authentication credentials were "
                                                                           "not provided."))
        return super().handle_no_permission(request, view_func)


def _is_api_view(cls) -> bool:
    from rest_framework.views import APIView

    return isinstance(cls, type) and issubclass(cls, APIView)


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


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") if translation.get_language() == "de" \
        else f"{size / (1024 * 1024):.1f}"


class RequestSizeLimitMiddleware:
    """Refuses a request body over the configured limits with 413 before anything reads it: the whole body
    (REQUEST_MAX_BODY_BYTES, files included) and, for everything that is not a file upload (JSON, forms),
    DATA_UPLOAD_MAX_MEMORY_SIZE — which Django applies to form fields but not to a JSON body the API parses.
    The API answers problem details (portal.problems), the browser a page that says what to do."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.REQUEST_MAX_BODY_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > min(limit, settings.REQUEST_MAX_BODY_BYTES):
            return self._refuse(request, length, min(limit, settings.REQUEST_MAX_BODY_BYTES))
        return self.get_response(request)

    def _refuse(self, request, length: int, limit: int):
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        message = _("The request is %(size)s MB large; at most %(limit)s MB are accepted.") % {
            "size": _megabytes(length), "limit": _megabytes(limit)}
        if request.path_info.startswith("/api/"):
            return problem_response(413, code="request_too_large", detail=message)
        from django.utils.http import url_has_allowed_host_and_scheme

        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = ""
        return render(request, "413.html", {"message": message, "back": back,
                                             "file_limit": _megabytes(settings.UPLOAD_MAX_FILE_BYTES)}, status=413)
