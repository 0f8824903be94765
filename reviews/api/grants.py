"""Grants over the API, under the same permissions as the grants page: read by the readers of the members
list, changed by the automation lead (a token needs the registry:write scope). Every change audited."""
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from audit.actors import actor_from_request
from automations.registry.selectors import use_case_owner_grants
from portal.api.permissions import TenantMember, request_tenant
from portal.choices import TokenScope
from portal.selectors import members_active
from reviews import selectors, services


class GrantsSerializer(serializers.Serializer):
    teams = serializers.ListField(child=serializers.DictField(), help_text="[{name, members: [user name]}]")
    queues = serializers.ListField(child=serializers.DictField(),
                                   help_text="[{id, name, team, users: [user name]}]: granted to single people")
    use_cases = serializers.ListField(child=serializers.DictField(),
                                      help_text="[{key, department, owners: [user name]}]: granted to change it")


class GrantChangeInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=services.GRANT_KINDS,
                                   help_text="team, queue, use_case, or department (every use case of it).")
    target = serializers.CharField(max_length=200, help_text="The team's or department's name, the queue's id or "
                                                             "the use case's key.")
    user = serializers.CharField(max_length=150, help_text="The member's user name.")


class GrantChangeSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many grants changed (0: nothing to do).")


class GrantPermission(BasePermission):
    """Reading: portal.view_membership; changing: portal.change_membership (the automation lead)."""

    def has_permission(self, request, view):
        needed = "portal.view_membership" if request.method in ("GET", "HEAD", "OPTIONS") \
            else "portal.change_membership"
        return TenantMember().has_permission(request, view) and request.user.has_perm(needed)


def _grants(tenant) -> dict:
    teams = selectors.review_team_members(tenant=tenant)
    return {
        "teams": [{"name": name, "members": [u.username for u in teams.get(name, [])]}
                  for name in selectors.review_team_names(tenant=tenant)],
        "queues": [{"id": q.pk, "name": q.name, "team": q.team, "users": [u.username for u in users]}
                   for q, users in selectors.review_queue_grants(tenant=tenant)],
        "use_cases": [{"key": u.key, "department": u.department, "owners": [p.username for p in owners]}
                      for u, owners in use_case_owner_grants(tenant=tenant)],
    }


class GrantListView(generics.GenericAPIView):
    """Who works which review queues (per team, per queue) and who owns which use cases."""

    permission_classes = [GrantPermission]
    serializer_class = GrantsSerializer
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}

    def get(self, request):
        return Response(_grants(request_tenant(request)))

    @extend_schema(request=GrantChangeInputSerializer, responses={200: GrantChangeSerializer})
    def post(self, request):
        """Grant: add a member to a team, a queue, a use case's owners, or every use case of a department."""
        return _change(request, revoke=False)


class GrantRevokeView(generics.GenericAPIView):
    permission_classes = [GrantPermission]
    serializer_class = GrantChangeSerializer
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}

    @extend_schema(request=GrantChangeInputSerializer, responses={200: GrantChangeSerializer})
    def post(self, request):
        """Take a grant away (a team's membership, a queue, a use case's ownership)."""
        return _change(request, revoke=True)


def _change(request, *, revoke: bool) -> Response:
    body = GrantChangeInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    tenant = request_tenant(request)
    user = next((m.user for m in members_active(tenant=tenant) if m.user.username == body.validated_data["user"]),
                None)
    if user is None:
        raise ApiValidationError({"user": ["No active member of this tenant has this user name."]})
    try:
        changed = services.grant_change(actor=actor_from_request(request), tenant=tenant,
                                        kind=body.validated_data["kind"], target=body.validated_data["target"],
                                        user=user, revoke=revoke)
    except ValidationError as error:
        raise ApiValidationError({"target": error.messages}) from None
    return Response({"changed": changed})
