import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from portal.logs import (
    REQUEST_ID_HEADER,
    actor_label,
    log_context,
    log_context_end,
    log_context_start,
    log_context_update,
    request_id_from,
)
from portal.problems import problem_response
from portal.roles import SECOND_FACTOR_ROLES
from portal.selectors import membership_get, remember_roles, tenant_list_for_user

request_logger = logging.getLogger("portal.request")

SESSION_TENANT_KEY = "portal_tenant_id"
SESSION_STARTED_KEY = "portal_signed_in_at"
SESSION_SEEN_KEY = "portal_seen_at"
# The last activity is written at most this often (seconds): a session row is not rewritten per request.
SESSION_SEEN_GRANULARITY = 60


# Set at sign-in for a user with a second factor: the session passes only after the code (django-otp's
# `is_verified()`).
SECOND_FACTOR_PENDING_KEY = "portal_second_factor_pending"
# What a signed-in user reaches before the second factor: its two steps, and leaving. Views marked
# `login_not_required` (the sign-in page, the language switch, health) need no sign-in at all.
SECOND_FACTOR_OPEN = frozenset({"portal:two-factor-verify", "portal:two-factor-setup", "portal:logout"})


class RequestLogMiddleware:
    """Gives each request an id — the client's `X-Request-ID` when it sends a plausible one, else a new one —
    that every log line of the request carries with its tenant and pseudonymous actor (portal.logs), and that
    the response returns in `X-Request-ID`. Writes one line per request (`portal.request`): method, path
    without the query string (which may hold search terms), status and duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        context = log_context_start(request_id=request.request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            self._identify(request)
            response[REQUEST_ID_HEADER] = request.request_id
            # Static files (stylesheet, script, icons) follow every page: their lines only at DEBUG.
            level = logging.DEBUG if request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}") else logging.INFO
            request_logger.log(level, "%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1)})
            return response
        finally:
            log_context_end(context)

    def process_view(self, request, view_func, view_args, view_kwargs):
        self._identify(request)  # authentication and the tenant are known now: the view's lines carry them

    @staticmethod
    def _identify(request) -> None:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        log_context_update(tenant=getattr(tenant, "slug", ""),
                           actor=log_context().get("actor") or actor_label(user=user))


def second_factor_required(request) -> bool:
    """Whether this user must sign in with a second factor here: every superuser, and whoever holds one of
    SECOND_FACTOR_ROLES in the active tenant (roles are per tenant; so is the duty)."""
    user = request.user
    if user.is_superuser:
        return True
    membership = getattr(request, "membership", None)  # a lazy object: falsy when the user has no membership
    if not membership:
        return False
    return bool(SECOND_FACTOR_ROLES & set(membership.roles))


def second_factor_step(request) -> str | None:
    """The step a signed-in session still owes before any page, as a URL name, or None: the code of the
    authenticator set up (for everyone who has one), or — where TWO_FACTOR_ENFORCED — setting one up."""
    if getattr(request.user, "is_verified", lambda: False)():
        return None
    if request.session.get(SECOND_FACTOR_PENDING_KEY):
        return "portal:two-factor-verify"
    if settings.TWO_FACTOR_ENFORCED and second_factor_required(request):
        return "portal:two-factor-setup"
    return None


class SecondFactorMiddleware:
    """After the password, the second factor, before any page: a session that still owes the code of its
    authenticator (or, in production, a privileged user who has none set up yet) is sent to that step, whatever
    page it asked for; the API refuses such a session with 403. An API token is not a session: it passes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        # DRF marks its views `login_not_required` (they authenticate themselves): a session still counts there.
        api = getattr(view_func, "cls", None) is not None and _is_api_view(view_func.cls)
        if not api and not getattr(view_func, "login_required", True):
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in SECOND_FACTOR_OPEN:
            return None
        step = second_factor_step(request)
        if step is None:
            return None
        if api or request.path_info.startswith("/api/"):
            if request.headers.get("Authorization"):
                return None
            return problem_response(403, code="second_factor_required", detail=_(
                "Confirm your sign-in with your second factor in the portal first."))
        return redirect_to_login(request.get_full_path(), reverse(step))


def session_start(session) -> None:
    """At sign-in (the session key was just rotated by django.contrib.auth.login): the clocks of the idle
    and the absolute timeout start."""
    now = int(time.time())
    session[SESSION_STARTED_KEY] = now
    session[SESSION_SEEN_KEY] = now


class SessionTimeoutMiddleware:
    """Signs a browser session out after SESSION_IDLE_TIMEOUT seconds without a request, and after
    SESSION_COOKIE_AGE seconds since sign-in whatever happened in between (absolute timeout). A page
    request is sent to the sign-in page with a note; an API call simply finds itself signed out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            expired = self._expired(request.session)
            if expired:
                logout(request)
                request.tenant = None
                if not request.path_info.startswith("/api/"):
                    messages.info(request, _("You were signed out after a time without activity.")
                                  if expired == "idle" else _("Your session ended; please sign in again."))
                    return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _expired(session) -> str:
        now = int(time.time())
        started = session.get(SESSION_STARTED_KEY)
        seen = session.get(SESSION_SEEN_KEY)
        if started is None or seen is None:  # a session from before these clocks: they start now
            session_start(session)
            return ""
        if now - started > settings.SESSION_COOKIE_AGE:
            return "absolute"
        if now - seen > settings.SESSION_IDLE_TIMEOUT:
            return "idle"
        if now - seen >= SESSION_SEEN_GRANULARITY:
            session[SESSION_SEEN_KEY] = now
        return ""


def _resolve(request):
    user = request.user
    if not user.is_authenticated:
        return None
    tenants = list(tenant_list_for_user(user=user))
    request.user_tenants = tenants  # the tenant switcher of every page shows them (portal.context_processors)
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
        def load():
            membership = membership_get(user=request.user, tenant=tenant) if tenant else None
            if tenant is not None:  # the permission backend answers from these roles for the rest of the request
                remember_roles(user=request.user, tenant=tenant, roles=membership.roles if membership else [])
            return membership

        request.membership = SimpleLazyObject(load)
        if request.user.is_authenticated and tenant is not None:
            # roles_of() reads the same membership (one query a request, whoever asks first).
            request.user._tenant_membership = (tenant.pk, request.membership)
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
        message = _("The request is %(size)s MB large; at most %(limit)s MB are accepted.") % {
            "size": _megabytes(length), "limit": _megabytes(limit)}
        if request.path_info.startswith("/api/"):
            return problem_response(413, code="request_too_large", detail=message)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = ""
        return render(request, "413.html", {"message": message, "back": back,
                                             "file_limit": _megabytes(settings.UPLOAD_MAX_FILE_BYTES)}, status=413)
