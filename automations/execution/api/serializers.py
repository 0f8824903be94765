import json

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from automations.execution.models.work import WorkItem
from portal.api.fields import StrictCharField
from portal.problems import json_refusal

_TIME = serializers.DateTimeField(read_only=True)  # the model serializer's rendering of a time (None stays None)


def _choice(value) -> str | None:
    """A choice as DRF's ChoiceField shows it: its stored value, a plain string."""
    return value if value in ("", None) else str(value)


class WorkItemSerializer(serializers.ModelSerializer):
    """The item as DESIGN.md's contract shows it: `fields` carries every value the engines found
    ({name: {"value", "confidence"}} and "decided_by" once a clerk decided); explanations and the
    reasons per field are under `details`."""

    id = serializers.CharField(read_only=True)
    use_case = serializers.CharField(source="use_case.key", read_only=True)
    # method_name: `get_fields` is the serializer's own method and must not be shadowed
    # DRF's metaclass takes declared fields out of the class, so `Serializer.fields` stays; the stubs see the
    # class attribute.
    fields = serializers.SerializerMethodField(method_name="field_values")  # type: ignore[assignment]
    details = serializers.SerializerMethodField()
    release = serializers.IntegerField(source="release.number", read_only=True, allow_null=True, default=None)
    deliveries = serializers.SerializerMethodField()

    class Meta:
        model = WorkItem
        fields = ["id", "use_case", "status", "fields", "reasons", "details", "source", "external_id", "release",
                  "created_at", "updated_at", "finalised_at", "deliveries"]
        read_only_fields = fields

    def to_representation(self, item) -> dict:
        """What the declared fields above give (the schema is built from them; tests compare both answers),
        written out: DRF would build and deep-copy the model serializer's fields for every item it shows."""
        release = item.release
        return {
            "id": str(item.pk), "use_case": str(item.use_case.key), "status": _choice(item.status),
            "fields": self.field_values(item), "reasons": item.reasons, "details": self.get_details(item),
            "source": _choice(item.source), "external_id": str(item.external_id),
            "release": None if release is None else int(release.number),
            "created_at": _TIME.to_representation(item.created_at),
            "updated_at": _TIME.to_representation(item.updated_at),
            "finalised_at": _TIME.to_representation(item.finalised_at),
            "deliveries": self.get_deliveries(item),
        }

    def field_values(self, item) -> dict:
        view = {}
        for name, data in (item.fields or {}).items():
            view[name] = {"value": data.get("value"), "confidence": data.get("confidence")}
            if data.get("decided_by"):
                view[name]["decided_by"] = data["decided_by"]
            if data.get("confirmed_by"):  # the second reviewer who confirmed the value decided_by chose
                view[name]["confirmed_by"] = data["confirmed_by"]
        return view

    def get_details(self, item) -> dict:
        return {name: {"engine": data.get("engine"), "explanation": data.get("explanation"),
                       "reasons": data.get("reasons", [])} for name, data in (item.fields or {}).items()}

    def get_deliveries(self, item) -> list[dict]:
        """DESIGN, "Connectors": one entry per delivery connector the result was queued for. An item created by
        this very request has none yet (deliveries are queued when a result is applied): no query for it."""
        if self.context.get("created"):
            return []
        return [{"connector": d.connector.name, "status": d.status, "attempts": d.attempts,
                 "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None}
                for d in item.deliveries.all()]


class WorkItemCreateInputSerializer(serializers.Serializer):
    """A JSON object with `use_case` and `payload`, or a multipart form with `use_case` and one or several
    `file` parts (and optionally `payload` as a JSON text)."""

    use_case = StrictCharField(min_length=1, max_length=100, help_text="The use case key, e.g. eingangsrechnungen.")
    payload = serializers.JSONField(required=False, allow_null=True,
                                    help_text="Object of input fields (JSON requests; a JSON text in multipart).")
    file = serializers.FileField(required=False, help_text="One or several files (multipart requests).")
    external_id = StrictCharField(required=False, allow_blank=True, max_length=200,
                                  help_text="The sender's own reference for the item.")

    def validate_payload(self, value):
        if isinstance(value, str) and isinstance(self.initial_data, QueryDict):  # multipart: JSON as text
            try:
                value = json.loads(value) if value else None
            except (json.JSONDecodeError, RecursionError):
                raise serializers.ValidationError(_("payload is not valid JSON."), code="parse_error") from None
        refusal = json_refusal(value)  # a multipart payload's JSON text did not pass the API's JSON parser
        if refusal:
            raise serializers.ValidationError(refusal, code="parse_error")
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError(_("The payload must be an object of input fields."), code="invalid")
        return value


class WorkItemAcknowledgeInputSerializer(serializers.Serializer):
    consumer = serializers.CharField(max_length=100, help_text="Name of the target system taking the item.")


class WorkItemAcknowledgementSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The item's id.")
    consumer = serializers.CharField()
    first = serializers.BooleanField(help_text="False when this consumer had acknowledged the item before.")
