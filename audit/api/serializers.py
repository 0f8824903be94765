from rest_framework import serializers

from audit.choices import IdentifierKind, IdentityCheck, LegalHoldScope, RequestChannel, RequestKind
from audit.models import AuditEvent, DataSubjectRequest, LegalHold, VerificationRun
from portal.api.pagination import page_serializer


class EventSerializer(serializers.ModelSerializer):
    """An audit or access event with every hashed column, so that a program can recompute its hash."""

    actor = serializers.CharField(source="actor_name", read_only=True, default="",
                                  help_text="User name of the acting user, if any (not part of the hash).")

    class Meta:
        model = AuditEvent
        fields = ["chain", "sequence", "occurred_at", "actor_kind", "actor_user_id", "actor_token_id", "actor",
                  "event_type", "object_type", "object_id", "details", "prev_hash", "hash"]
        read_only_fields = fields


EventPageSerializer = page_serializer("PaginatedEventList", EventSerializer(many=True))


class DataSubjectRequestSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="access or erasure")
    handled_by = serializers.CharField(source="actor.username", default=None, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    identity_check = serializers.CharField(read_only=True, help_text="How the identity was checked, if it was.")

    class Meta:
        model = DataSubjectRequest
        fields = ["id", "kind", "identifier_kind", "identifier_hash", "subject_pseudonym", "status", "received_at",
                  "due_at", "completed_at", "is_overdue", "handled_by", "summary", "channel", "reason",
                  "identity_checked_at", "identity_check", "identity_note", "extended_at", "extension_reason",
                  "refusal_reason"]
        read_only_fields = fields


class DataSubjectRequestCreateInputSerializer(serializers.Serializer):
    # A plain string in the schema: "kind" names other choice sets elsewhere in the API.
    kind = serializers.CharField(help_text="access or erasure")
    identifier = serializers.CharField(max_length=200)
    identifier_kind = serializers.ChoiceField(choices=IdentifierKind.choices, required=False)
    received_at = serializers.DateTimeField(required=False)
    channel = serializers.ChoiceField(choices=RequestChannel.choices, required=False, default="")
    reason = serializers.CharField(max_length=2000, required=False, default="",
                                   help_text="The erasure's ground (Art. 17(1) GDPR), or a note on the request.")
    dry_run = serializers.BooleanField(default=False, help_text="Erasure only: report what would be erased.")

    def validate_kind(self, value: str) -> str:
        if value not in RequestKind.values:
            raise serializers.ValidationError(f"One of: {', '.join(RequestKind.values)}.")
        return value


class ErasureReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    request = serializers.IntegerField(source="request.pk", allow_null=True, default=None)
    master_records = serializers.ListField(child=serializers.CharField())
    items_erased = serializers.ListField(child=serializers.CharField())
    items_restricted = serializers.ListField(child=serializers.CharField())
    counts = serializers.DictField(child=serializers.IntegerField())
    replaced = serializers.DictField(child=serializers.IntegerField())


class VerificationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerificationRun
        fields = ["started_at", "finished_at", "trigger", "ok", "results"]
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    last_run = VerificationRunSerializer(allow_null=True)
    public_key = serializers.CharField(help_text="Ed25519 public key (base64 of the 32 raw bytes).")
    checkpoints = serializers.ListField(child=serializers.DictField(), help_text="Newest signed checkpoint per chain.")


class LegalHoldSerializer(serializers.ModelSerializer):
    placed_by = serializers.CharField(source="placed_by.username", read_only=True)
    lifted_by = serializers.CharField(source="lifted_by.username", default=None, read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    subject_kind = serializers.CharField(read_only=True, help_text="How the person was named (identifier kind).")

    class Meta:
        model = LegalHold
        fields = ["id", "scope", "item_id", "subject_pseudonym", "subject_kind", "use_case_key", "date_from",
                  "date_until", "reason", "reference", "placed_by", "placed_at", "is_active", "lifted_by",
                  "lifted_at", "lift_reason"]
        read_only_fields = fields


class LegalHoldCreateInputSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=LegalHoldScope.choices)
    reason = serializers.CharField(max_length=2000)
    reference = serializers.CharField(max_length=100)
    item_id = serializers.CharField(max_length=36, required=False, default="")
    identifier = serializers.CharField(max_length=200, required=False, default="",
                                       help_text="scope person: e-mail, IBAN, customer or supplier number, name")
    identifier_kind = serializers.ChoiceField(choices=IdentifierKind.choices, required=False)
    use_case = serializers.CharField(max_length=60, required=False, default="")
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_until = serializers.DateField(required=False, allow_null=True, default=None)


class LegalHoldLiftInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DataSubjectRequestActionInputSerializer(serializers.Serializer):
    check = serializers.CharField(required=False, default="", help_text="verify-identity: how the identity was "
                                  "checked (" + ", ".join(IdentityCheck.values) + ")")
    note = serializers.CharField(max_length=300, required=False, default="")
    months = serializers.IntegerField(min_value=1, max_value=2, required=False, help_text="extend: 1 or 2")
    reason = serializers.CharField(max_length=2000, required=False, default="", help_text="extend, refuse")
