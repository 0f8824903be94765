"""Template tags of quality (library `quality_tags`, registered in settings.TEMPLATES): the breaker's state and the
due review on a use case's page, the backtests kept with a change request, and the home page's quality panel."""
from django import template
from django.utils.formats import number_format

from automations.fields import engine_label
from automations.quality import selectors

register = template.Library()


@register.inclusion_tag("automations/quality/_use_case_quality.html", takes_context=True)
def use_case_quality(context, use_case):
    """Why automatic application is off (and the way to switch it back on); the due periodic review."""
    user = context["request"].user
    breaker = selectors.quality_breaker_get(use_case=use_case) if user.has_perm(
        "automations.view_qualitybreaker") else None
    return {"use_case": use_case, "breaker": breaker if breaker and breaker.tripped else None,
            "can_request_reset": user.has_perm("automations.add_changerequest"),
            "due_review": selectors.use_case_review_due_for(use_case=use_case)
            if user.has_perm("automations.view_usecasereview") else None,
            "can_view_reviews": user.has_perm("automations.view_usecasereview")}


@register.inclusion_tag("automations/quality/_backtests.html", takes_context=True)
def change_request_backtests(context, change_request):
    user = context["request"].user
    backtests = (list(selectors.threshold_backtest_list(tenant=change_request.tenant, change_request=change_request))
                 if user.has_perm("automations.view_thresholdbacktest") else [])
    return {"backtests": backtests}


@register.inclusion_tag("automations/quality/_home_panel.html", takes_context=True)
def quality_home_panel(context):
    """Switched-off automation and due reviews of the use cases this person owns (all for the automation lead)."""
    request = context["request"]
    if request.tenant is None:
        return {"breakers": [], "reviews": []}
    user = request.user
    return {
        # The escalation contact may be any member (a clerk too): whoever may read the use case is told.
        "breakers": selectors.quality_breakers_tripped_for_user(tenant=request.tenant, user=user)
        if user.has_perm("automations.view_usecase") else [],
        "reviews": selectors.use_case_reviews_due_for_user(tenant=request.tenant, user=user)
        if user.has_perm("automations.view_usecasereview") else [],
    }


@register.filter
def percent(value) -> str:
    """A share (0.123) as a percentage for people ("12,3 %" in German); "—" when there is none."""
    if value is None or value == "":
        return "—"
    return f"{number_format(round(float(value) * 100, 1), 1)} %"


@register.filter(name="engine_label")
def engine_label_filter(key: str) -> str:
    """An engine's name for people (its key if unknown)."""
    return engine_label(key)


@register.inclusion_tag("automations/quality/_breakers_notice.html", takes_context=True)
def quality_breakers_notice(context):
    """Every use case of the tenant whose automatic application is switched off, and why (the Leitstand)."""
    request = context["request"]
    user = request.user
    breakers = (list(selectors.quality_breaker_list(tenant=request.tenant, tripped_only=True)[:20])
                if request.tenant is not None and user.has_perm("automations.view_qualitybreaker") else [])
    return {"breakers": breakers}
