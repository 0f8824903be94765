from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from automations.registry.models.use_cases import UseCase
from portal.api.pagination import page_serializer
from reviews.models import ReviewQueue, ReviewTask


class CappedCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="value", help_text="Exact below the cap; the cap itself above it.")
    capped = serializers.BooleanField(help_text="True when there are more than `count` (counting stops at 10,000).")


class QueueFiguresSerializer(serializers.Serializer):
    open = CappedCountSerializer()
    claimed = CappedCountSerializer()
    awaiting_second_review = CappedCountSerializer()
    overdue = CappedCountSerializer()
    due_soon = CappedCountSerializer()
    sla_status = serializers.ChoiceField(choices=["ok", "at_risk", "breached", "empty"])


class ReviewQueueSerializer(serializers.ModelSerializer):
    use_cases: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(
        slug_field="key", many=True, read_only=True)
    figures = serializers.SerializerMethodField()

    class Meta:
        model = ReviewQueue
        fields = ["id", "name", "kind", "team", "use_cases", "sla_hours", "bulk_approval_allowed", "figures"]
        read_only_fields = fields

    @extend_schema_field(QueueFiguresSerializer)
    def get_figures(self, queue) -> dict | None:
        figures = self.context.get("figures", {}).get(queue.pk)
        return QueueFiguresSerializer(figures).data if figures is not None else None


class ReviewTaskSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item_id", read_only=True)
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    claimed_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True)

    class Meta:
        model = ReviewTask
        fields = ["id", "queue", "item", "use_case", "state", "priority", "due_at", "reasons", "claimed_by",
                  "claim_expires_at", "created_at"]
        read_only_fields = fields


class ReviewTaskDetailSerializer(ReviewTaskSerializer):
    fields = serializers.JSONField(source="item.fields", read_only=True,  # type: ignore[assignment]
                                   help_text="{name: {value, confidence, explanation, reasons}} as suggested")
    # (declared fields leave the class through DRF's metaclass, so `Serializer.fields` stays; the stubs see
    # the class attribute)
    item_reasons = serializers.ListField(source="item.reasons", child=serializers.CharField(), read_only=True)

    class Meta(ReviewTaskSerializer.Meta):
        fields = ReviewTaskSerializer.Meta.fields + ["fields", "item_reasons"]
        read_only_fields = fields


ReviewTaskPageSerializer = page_serializer("PaginatedReviewTaskList", ReviewTaskSerializer(many=True))
