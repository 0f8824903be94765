"""Django announces logins only through signals; the receivers hand over to services at once."""
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal import services
from portal.selectors import tenant_list_for_user


@receiver(user_logged_in, dispatch_uid="portal.audit_login")
def _logged_in(sender, request, user, **kwargs):
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
