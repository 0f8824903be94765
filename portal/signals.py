"""Django announces logins only through signals; the receivers hand over to services at once."""
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal import services
from portal.middleware import SECOND_FACTOR_PENDING_KEY, session_start
from portal.selectors import second_factor_exists, tenant_list_for_user


@receiver(user_logged_in, dispatch_uid="portal.audit_login")
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_start(request.session)
        # Whoever has set up a second factor enters a code next (portal.middleware.SecondFactorMiddleware).
        if second_factor_exists(user=user):
            request.session[SECOND_FACTOR_PENDING_KEY] = True
    services.login_record(user=user, tenants=list(tenant_list_for_user(user=user)), event_type="user.logged_in")


@receiver(user_logged_out, dispatch_uid="portal.audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.login_record(user=user, tenants=list(tenant_list_for_user(user=user)),
                              event_type="user.logged_out")


@receiver(user_login_failed, dispatch_uid="portal.audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))
    user = get_user_model().objects.filter(username__iexact=username).first() if username else None
    tenants = list(tenant_list_for_user(user=user)) if user else []
    services.login_failed_record(username=username, user=user, tenants=tenants)


@receiver(user_locked_out, dispatch_uid="portal.audit_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    username = str(username or "")
    user = get_user_model().objects.filter(username__iexact=username).first() if username else None
    tenants = list(tenant_list_for_user(user=user)) if user else []
    services.login_lockout_record(username=username, ip_address=str(ip_address or ""), user=user, tenants=tenants)
