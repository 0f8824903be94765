"""Quality's handlers of the registry's announcements (portal.dispatch), connected in AutomationsConfig.ready:
an approved change request of the kind `quality_breaker_reset` switches automatic application back on, in the
approving transaction."""
from automations.quality.services import quality_breaker_reset
from portal import dispatch


def on_quality_breaker_reset_approved(*, actor, use_case, change_request) -> None:
    quality_breaker_reset(actor=actor, use_case=use_case, change_request=change_request)


def connect() -> None:
    dispatch.connect("quality_breaker.reset_approved", on_quality_breaker_reset_approved)
