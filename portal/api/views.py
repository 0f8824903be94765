"""API of the portal: the caller, the tenant's memberships, and the caller's own API tokens."""
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.actors import actor_from_request
from portal import selectors, services
from portal.api.authentication import ANY_SCOPE
from portal.api.permissions import TenantMember, TenantModelPermissions, request_tenant
from portal.api.serializers import ApiTokenSerializer, MembershipSerializer, MeSerializer
from portal.api.viewsets import TenantScopedMixin
from portal.models import ApiToken, Membership


class MeView(generics.GenericAPIView):
    """The authenticated user, the request's tenant (the token's, or the session's active one), and the
    roles and permissions they hold there."""

    permission_classes = [TenantMember]
    serializer_class = MeSerializer

    def get(self, request):
        tenant = request_tenant(request)
        data = {
            "user": request.user,
            "tenant": tenant,
            "roles": selectors.roles_of(user=request.user, tenant=tenant),
            "permissions": sorted(request.user.get_all_permissions()),
        }
        return Response(self.get_serializer(data).data)


class MembershipViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Memberships (users and their roles) of the request's tenant."""

    permission_classes = [TenantModelPermissions]
    serializer_class = MembershipSerializer
    queryset = Membership.objects.none()  # model for permissions and schema; rows come from the selector

    def scoped_queryset(self, *, tenant, user):
        return selectors.membership_list(tenant=tenant)


class ApiTokenViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens in the request's tenant. Tokens are issued in the browser or with
    `manage.py create_api_token`, never through the API."""

    permission_classes = [TenantMember]
    token_scopes = {"revoke": ANY_SCOPE}  # any token may revoke its user's tokens, itself included
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()

    def scoped_queryset(self, *, tenant, user):
        return selectors.api_token_list(tenant=tenant, user=user)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token at once; revoking the token the request is made with is allowed."""
        token = services.api_token_revoke(actor=actor_from_request(request), token=self.get_object())
        return Response(self.get_serializer(token).data)
