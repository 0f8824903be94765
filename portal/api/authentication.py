from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from portal.choices import TokenScope
from portal.logs import actor_label, log_context_update
from portal.services import api_token_authenticate

# `token_scopes` on an API view: {action or method: scope} for its writes; ANY_SCOPE lets every token in.
ANY_SCOPE = "*"


def scope_required(view, method: str) -> str | None:
    """The scope a token needs for this request: `read` to read; for a write, what the view declares for the
    action (None: no token may do it, only a person signed in to the portal). Undeclared writes are closed."""
    if method in SAFE_METHODS:
        return TokenScope.READ
    if hasattr(view, "action_map"):  # a viewset: the action its router mapped this method to
        action = getattr(view, "action", None)
    else:
        action = method.lower() if hasattr(view, method.lower()) else None
    if action is None:
        return ANY_SCOPE  # the view has no such method: DRF answers 405, nothing is done
    return (getattr(view, "token_scopes", None) or {}).get(action)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; the token's tenant becomes the request's tenant."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
        plain = header[1].decode("latin-1")
        token = api_token_authenticate(plain=plain, method=request.method, path=request.path)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API token."))
        view = (getattr(request, "parser_context", None) or {}).get("view")
        needed = scope_required(view, request.method)
        if needed is None or (needed != ANY_SCOPE and not token.has_scope(needed)):
            raise exceptions.PermissionDenied(
                _("This API token may not do this (scope %(scope)s needed).") % {"scope": needed}
                if needed else _("API tokens may not do this; a person signed in to the portal may."))
        user = token.user
        user.active_tenant = token.tenant
        request._request.tenant = token.tenant
        log_context_update(tenant=token.tenant.slug, actor=actor_label(token=token))
        return user, token

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
