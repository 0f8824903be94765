from django.contrib.auth import get_user_model
from rest_framework import serializers

from portal.choices import Role, TokenScope
from portal.models import ApiToken, Membership, Tenant


class UserSerializer(serializers.ModelSerializer):
    # Not `format: email`: a user may have no address recorded, and then it is empty.
    email = serializers.CharField(read_only=True, help_text="E-mail address; empty when none is recorded.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email"]
        read_only_fields = fields


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    """The caller: who they are, the tenant the request acts in, and what they may do there."""

    user = UserSerializer()
    tenant = TenantSerializer()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    permissions = serializers.ListField(child=serializers.CharField(),
                                        help_text="Django permission strings granted by the roles, sorted.")


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "roles", "is_active", "created_at"]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it later: never the secret, only the prefix it starts with."""

    is_usable = serializers.BooleanField(read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices), read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at",
                  "is_usable"]
        read_only_fields = fields
