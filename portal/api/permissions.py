from rest_framework import permissions

from portal.models import ApiToken


def request_tenant(request):
    """The tenant of an API request: the token's, or the session's active tenant."""
    if isinstance(request.auth, ApiToken):
        return request.auth.tenant
    return getattr(request._request, "tenant", None)


class TenantMember(permissions.BasePermission):
    """Authenticated and acting inside a tenant they belong to."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request_tenant(request) is not None)


class HasTenantPermissions(permissions.BasePermission):
    """A member of the request's tenant holding every permission the view requires: `view.required_permissions`,
    one tuple for every method, or a dict of tuples by method."""

    def has_permission(self, request, view):
        required = view.required_permissions
        if isinstance(required, dict):
            required = required.get(request.method, ())
        return TenantMember().has_permission(request, view) and request.user.has_perms(required)


class TenantModelPermissions(permissions.DjangoObjectPermissions):
    """Model permissions from the roles in the request's tenant; unlike DRF's default, GET needs the
    view permission too."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        return TenantMember().has_permission(request, view) and super().has_permission(request, view)

    def _queryset(self, view):
        """Whose permissions the method needs: the model of the view's declared `queryset` (every API view
        names its model there, for the permissions and the schema), so the check does not build the view's
        scoped read just to learn the model; a view without one is asked for get_queryset() as DRF does."""
        declared = getattr(view, "queryset", None)
        return declared if declared is not None else super()._queryset(view)

    def has_object_permission(self, request, view, obj):
        tenant = request_tenant(request)
        if getattr(obj, "tenant_id", None) != tenant.pk:
            return False
        model_cls = obj.__class__
        perms = self.get_required_object_permissions(request.method, model_cls)
        return request.user.has_perms(perms) or request.user.has_perms(perms, obj)


class TenantObjectPermissions(TenantModelPermissions):
    """For writes that object permissions may open (django-guardian): the view permission on the model lets
    the request through to the object, whose own check then needs the method's permission from a role or
    granted on this object (a department owner's use case)."""

    def has_permission(self, request, view):
        if not TenantMember().has_permission(request, view):
            return False
        queryset = self._queryset(view)
        view_perms = self.perms_map["GET"]
        kwargs = {"app_label": queryset.model._meta.app_label, "model_name": queryset.model._meta.model_name}
        return request.user.has_perms([perm % kwargs for perm in view_perms])
