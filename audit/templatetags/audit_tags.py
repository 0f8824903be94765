"""Template helpers of the audit app for pages outside the DSB area (the home panel)."""
from django import template
from django.apps import apps
from django.utils.text import capfirst

from audit.registry import label as event_type_label
from audit.registry import purpose_label
from audit.selectors.events import requests_open_by_due_date
from automations.fields import date_shown, moment_shown

register = template.Library()


@register.simple_tag(takes_context=True)
def data_subject_requests_due(context, limit: int = 5) -> list:
    """The active tenant's open data subject requests, the most urgent first; only for those who may see them."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or not request.user.has_perm("audit.view_datasubjectrequest"):
        return []

    return requests_open_by_due_date(tenant=tenant, limit=limit)


@register.filter
def event_label(event_type: str) -> str:
    """An audit event type as people read it ("Vorgang empfangen"), the key kept for the title attribute."""
    return event_type_label(event_type)


@register.filter
def object_type_label(object_type: str) -> str:
    """An event's object type ("automations.run") by the record's name ("Pipeline-Lauf"); unknown types as
    written."""
    try:
        model = apps.get_model(str(object_type))
    except (LookupError, ValueError):
        return str(object_type or "")
    return str(capfirst(model._meta.verbose_name))


@register.filter
def access_purpose(purpose) -> str:
    """Why an access event opened personal data, in the reader's language ("Prüfwarteschlange")."""
    return purpose_label(purpose)


@register.filter
def local_date(value) -> str:
    """An ISO date or timestamp of an export's JSON as the reader's language writes dates."""
    return date_shown(value) if value else "—"


@register.filter
def local_moment(value) -> str:
    """An ISO timestamp of an export's JSON in local time, as the reader's language writes it."""
    return moment_shown(value) if value else "—"
