"""Template helpers of the UI shell: navigation by permission and readable role names."""
from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from automations.choices import ItemStatus, Label
from automations.evaluation.choices import CaseTag
from automations.fields import category_label, choice_label, field_label, format_value
from portal.choices import Role

register = template.Library()


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise  # translated when the page is rendered
    permission: str | None = None  # None: every member of the active tenant


# Later issues add their pages here; a user sees an entry only with its permission in the active tenant.
NAV_ITEMS = [
    NavItem("portal:home", _("Overview")),
    NavItem("leitstand:home", _("Leitstand"), "leitstand.view_dailyfigures"),
    NavItem("automations:use-case-list", _("Automation registry"), "automations.view_usecase"),
    NavItem("automations:change-request-inbox", _("Approvals"), "automations.view_changerequest"),
    NavItem("reviews:queue-list", _("Review queues"), "reviews.view_reviewqueue"),
    NavItem("reviews:oversight", _("Oversight figures"), "reviews.view_oversight"),
    NavItem("work:item-list", _("Work items"), "automations.view_workitem"),
    NavItem("work:upload", _("Upload documents"), "automations.add_workitem"),
    NavItem("work:escalations", _("Escalations"), "automations.view_escalation"),
    NavItem("work:master-data", _("Master data"), "automations.view_masterrecord"),
    NavItem("audit:home", _("Audit and data protection"), "audit.view_auditevent"),
    NavItem("audit:processing-records", _("Records of processing"), "audit.view_processing_records"),
    NavItem("audit:works-council", _("What is measured"), "audit.view_employee_measures"),
    NavItem("portal:members", _("Members and roles"), "portal.change_membership"),
    NavItem("portal:login-security", _("Sign-in security"), "portal.unlock_login"),
    NavItem("reviews:grants", _("Responsibilities"), "portal.change_membership"),
    NavItem("portal:api-tokens", _("API tokens")),
]


@register.simple_tag(takes_context=True)
def portal_nav(context) -> list[dict]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated or getattr(request, "tenant", None) is None:
        return []
    current = getattr(request.resolver_match, "view_name", "")
    items: list[dict[str, Any]] = []
    for item in NAV_ITEMS:
        if item.permission and not request.user.has_perm(item.permission):
            continue
        url = reverse(item.url_name)
        items.append({"url": url, "label": item.label, "active": current == item.url_name})
    if not any(i["active"] for i in items):
        # Pages below an entry (a use case below the registry) light the entry with the longest prefix only.
        prefixed = [i for i in items if i["url"] != "/" and request.path.startswith(i["url"])]
        if prefixed:
            max(prefixed, key=lambda i: len(i["url"]))["active"] = True
    return items


@register.filter
def role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return value


@register.filter
def role_labels(values) -> list[str]:
    """Labels in the order of portal.choices.Role (core team first), however they were stored."""
    order = {value: index for index, value in enumerate(Role.values)}
    return [role_label(value) for value in sorted(values or [], key=lambda v: order.get(v, len(order)))]


@register.filter
def output_label(use_case, name: str) -> str:
    """The label of one of the use case's output fields in the reader's language (its key if it has none):
    `{{ use_case|output_label:name }}`."""
    spec = next((f for f in use_case.output_fields or [] if f.get("name") == name), None)
    return field_label(spec, name)


@register.filter
def category_labels(values) -> list[str]:
    """Personal data categories by their names ("Bankverbindung"), a tenant's own as written."""
    return [category_label(value) for value in values or []]


def _field_spec(use_case, name: str) -> dict | None:
    """One of the use case's input or output fields by its name (None for an unknown name or no use case)."""
    specs = [*(use_case.input_fields or []), *(use_case.output_fields or [])] if use_case is not None else []
    return next((f for f in specs if isinstance(f, dict) and f.get("name") == name), None)


@register.filter
def field_label_of(use_case, name: str) -> str:
    """The label of one of the use case's input or output fields (its key if it has none):
    `{{ use_case|field_label_of:name }}`."""
    return field_label(_field_spec(use_case, name), name)


@register.simple_tag
def choice_text(use_case, name: str, value) -> str:
    """A value of one of the use case's fields as people read it (a choice by its label):
    `{% choice_text use_case name value %}`."""
    return choice_label(_field_spec(use_case, name), value)


@register.filter
def item_status_label(value) -> str:
    """A work item's status (or a routing outcome) by its name: "Klärung", not "clarification"."""
    try:
        return str(ItemStatus(value).label)
    except ValueError:
        return str(value or "")


@register.simple_tag
def field_value(use_case, name: str, value) -> str:
    """A value of one of the use case's fields as the reader expects it (a choice by its label, an amount
    or a date in the locale): `{% field_value use_case name value %}`."""
    return format_value(_field_spec(use_case, name), value)


@register.filter
def release_label_name(value) -> str:
    """A release label by its name ("Produktion"), not its key."""
    try:
        return str(Label(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def case_tag_labels(values) -> list[str]:
    """A test case's tags by their names ("typisch"); a tag of the tenant's own as written."""
    labels = dict(CaseTag.choices)
    return [str(labels.get(value, value)) for value in values or []]
