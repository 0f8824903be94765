"""Input fields that accept exactly what the schema says."""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string and nothing else: DRF's CharField turns numbers into text, which the schema (`type: string`)
    does not promise and a client generated from it would never send."""

    default_error_messages = {"invalid": _("A valid string is required.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
