"""Writes of quality: the circuit breaker (evaluated by beat and after decisions; switched back on only through
an approved change request), backtests attached to the change requests that move thresholds, and the periodic
reviews (due from the review interval, completed with a checklist, the period's figures and an outcome)."""
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from audit.services.events import audit_event_record
from automations.choices import ChangeKind, Label, UseCaseStatus
from automations.quality.backtest import current_thresholds, threshold_backtest
from automations.quality.choices import REVIEW_CHECKLIST, ReviewOutcome, ReviewState
from automations.quality.models import QualityBreaker, ThresholdBacktest, UseCaseReview
from automations.quality.selectors import OWNER_FIELDS, quality_figures, use_cases_for_breaker
from automations.registry.models.changes import ChangeRequest
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import Release, ReleaseLabel
from automations.registry.selectors import change_request_open_matching
from automations.registry.services.changes import change_request_create
from portal.choices import Role
from portal.history import stamp
from portal.permissions import actor_has_perm, require_perm
from portal.selectors import roles_of, users_with_role

BACKTEST_DAYS = 30


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _mail(subject: str, message: str, users) -> None:
    recipients = sorted({u.email for u in users if u is not None and u.email})
    if recipients:
        send_mail(subject=subject, message=message, from_email=settings.DEFAULT_FROM_EMAIL,
                  recipient_list=recipients, fail_silently=True)


# --- the circuit breaker ----------------------------------------------------------------------------------

def _setting(use_case: UseCase, key: str, default: int) -> int:
    """A breaker parameter: the use case's quality target of that name, else the installation's default."""
    try:
        return max(1, int((use_case.quality_targets or {}).get(key) or default))
    except (TypeError, ValueError):
        return default


def breaker_findings(use_case: UseCase, figures, window_days: int) -> list[str]:
    """Why the figures miss the use case's targets (empty when they don't, or when too few to judge)."""
    targets = use_case.quality_targets or {}
    findings = []
    max_rate, min_share = targets.get("max_correction_rate"), targets.get("min_automation_share")
    rate, share = figures.correction_rate, figures.automation_share
    if (max_rate is not None and rate is not None and rate > float(max_rate)
            and figures.checked >= _setting(use_case, "breaker_min_checked", settings.QUALITY_BREAKER_MIN_CHECKED)):
        findings.append(_("Correction rate %(rate)s is above the target of at most %(target)s (%(n)s of %(m)s "
                          "reviews and sample checks in %(days)s days).")
                        % {"rate": _percent(rate), "target": _percent(float(max_rate)), "n": figures.corrected,
                           "m": figures.checked, "days": window_days})
    if (min_share is not None and share is not None and share < float(min_share)
            and figures.routed >= _setting(use_case, "breaker_min_routed", settings.QUALITY_BREAKER_MIN_ROUTED)):
        findings.append(_("Automatic share %(share)s is below the target of at least %(target)s (%(n)s of %(m)s "
                          "items in %(days)s days).")
                        % {"share": _percent(share), "target": _percent(float(min_share)),
                           "n": figures.applied_automatically, "m": figures.routed, "days": window_days})
    return findings


def _notify_tripped(breaker: QualityBreaker) -> None:
    use_case = breaker.use_case
    _mail(_("Leitplanke: automatic application switched off — %(title)s") % {"title": use_case.title},
          _("The quality circuit breaker of “%(title)s” switched automatic application off: every item now goes "
            "to review.\n\n%(reason)s\n\nSwitching it back on is a change request (on the use case's page in "
            "Leitplanke).") % {"title": use_case.title, "reason": breaker.reason},
          [use_case.department_owner, use_case.escalation_contact])


def quality_breaker_evaluate(*, use_case: UseCase, now=None) -> QualityBreaker | None:
    """Compare the figures of the breaker's window (its days, but no further back than the production label's
    last move or the breaker's last reset) with the use case's targets; trip when they miss them. Only
    production use cases with a target are watched."""
    now = now or timezone.now()
    use_case = UseCase.objects.get(pk=use_case.pk)
    targets = use_case.quality_targets or {}
    if use_case.status != UseCaseStatus.PRODUCTION or not (
            "max_correction_rate" in targets or "min_automation_share" in targets):
        return None
    window_days = _setting(use_case, "breaker_window_days", settings.QUALITY_BREAKER_WINDOW_DAYS)
    with transaction.atomic():
        breaker, _created = QualityBreaker.objects.select_for_update().get_or_create(
            use_case=use_case, defaults={"tenant": use_case.tenant})
        if breaker.tripped:
            return breaker
        # The window covers the release in production now (a label move starts it afresh, as a reset does).
        label = ReleaseLabel.objects.filter(use_case=use_case, name=Label.PRODUCTION).first()
        start = max(t for t in (now - timedelta(days=window_days), breaker.reset_at,
                                label.moved_at if label else None) if t is not None)
        figures = quality_figures(use_case=use_case, start=start, end=now, label=Label.PRODUCTION)
        findings = breaker_findings(use_case, figures, window_days)
        breaker.evaluated_at, breaker.last_figures = now, figures.as_dict()
        if not findings:
            breaker.save(update_fields=["evaluated_at", "last_figures"])
            return breaker
        breaker.tripped, breaker.tripped_at = True, now
        breaker.reason, breaker.figures = " ".join(findings), figures.as_dict()
        breaker.save()
        audit_event_record(actor=SYSTEM, tenant=use_case.tenant, event_type="quality_breaker.tripped", obj=breaker,
                           details={"use_case": use_case.key, "figures": breaker.figures,
                                    "targets": {k: targets.get(k) for k in ("max_correction_rate",
                                                                            "min_automation_share")}})
        transaction.on_commit(lambda: _notify_tripped(breaker))
    return breaker


def quality_breakers_evaluate(*, now=None) -> int:
    """Beat: every watched use case; returns how many breakers tripped now."""
    tripped = 0
    for use_case in use_cases_for_breaker():
        was = QualityBreaker.objects.filter(use_case=use_case, tripped=True).exists()
        breaker = quality_breaker_evaluate(use_case=use_case, now=now)
        tripped += bool(breaker and breaker.tripped and not was)
    return tripped


def quality_breaker_reset_request(*, actor, use_case: UseCase, description: str) -> ChangeRequest:
    """Propose switching automatic application back on: a change request approved as the use case requires."""
    breaker = QualityBreaker.objects.for_tenant(use_case.tenant).filter(use_case=use_case, tripped=True).first()
    if breaker is None or breaker.tripped_at is None:
        raise ValidationError(_("Automatic application of this use case is not switched off."))
    payload = {"tripped_at": breaker.tripped_at.isoformat()}
    if change_request_open_matching(tenant=use_case.tenant, kind=ChangeKind.QUALITY_BREAKER_RESET,
                                    use_case=use_case, payload=payload):
        raise ValidationError(_("A change request to switch automatic application back on is already open."))
    return change_request_create(
        actor=actor, tenant=use_case.tenant, use_case=use_case, kind=ChangeKind.QUALITY_BREAKER_RESET,
        title=_("Switch automatic application of “%(title)s” back on") % {"title": use_case.title},
        description=description, payload=payload)


def quality_breaker_reset(*, actor, use_case: UseCase, change_request: ChangeRequest) -> QualityBreaker:
    """Inside the transaction of the change request's last approval: automatic application is on again; the
    breaker's window starts afresh."""
    breaker = QualityBreaker.objects.select_for_update().get(use_case=use_case)
    if not breaker.tripped:
        raise ValidationError(_("Automatic application of this use case is not switched off."))
    now = timezone.now()
    breaker.tripped, breaker.reset_at, breaker.reset_change_request = False, now, change_request
    breaker.save(update_fields=["tripped", "reset_at", "reset_change_request"])
    audit_event_record(actor=actor, tenant=use_case.tenant, event_type="quality_breaker.reset", obj=breaker,
                       details={"use_case": use_case.key, "change_request": change_request.pk,
                                "tripped_at": breaker.tripped_at.isoformat() if breaker.tripped_at else None})
    return breaker


# --- threshold backtests ----------------------------------------------------------------------------------

def threshold_backtest_attach(*, change_request_id: int, days: int = BACKTEST_DAYS) -> ThresholdBacktest | None:
    """After a label move was proposed: when the release it names routes with other thresholds than those in
    force, the new thresholds replayed on the past, kept with the request for its approvers."""
    cr = ChangeRequest.objects.select_related("use_case", "tenant").filter(pk=change_request_id).first()
    if cr is None or cr.kind != ChangeKind.LABEL_MOVE or cr.use_case is None:
        return None
    release = Release.objects.select_related("threshold_set").filter(pk=cr.payload.get("release_id")).first()
    if release is None or ThresholdBacktest.objects.filter(change_request=cr).exists():
        return None
    label = cr.payload.get("label")
    current = current_thresholds(use_case=cr.use_case, label=label)
    if current is not None and current.thresholds == release.threshold_set.thresholds:
        return None
    figures = threshold_backtest(use_case=cr.use_case, thresholds=release.threshold_set.thresholds, days=days,
                                 label=label)
    with transaction.atomic():
        backtest = ThresholdBacktest.objects.create(
            tenant=cr.tenant, use_case=cr.use_case, threshold_set=release.threshold_set, change_request=cr,
            thresholds=release.threshold_set.thresholds, days=days, figures=figures)
        audit_event_record(actor=SYSTEM, tenant=cr.tenant, event_type="threshold_backtest.attached", obj=backtest,
                           details={"change_request": cr.pk, "threshold_set": release.threshold_set.number,
                                    "items": figures["proposed"]["items"]})
    return backtest


# --- periodic reviews -------------------------------------------------------------------------------------

REVIEWED_STATUSES = (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION, UseCaseStatus.SUSPENDED)


def _owners(use_case: UseCase) -> list:
    owners = [getattr(use_case, name) for name in OWNER_FIELDS if getattr(use_case, name) is not None]
    return owners or users_with_role(tenant=use_case.tenant, role=Role.AUTOMATION_LEAD)


def _notify_due(review: UseCaseReview) -> None:
    use_case = review.use_case
    _mail(_("Leitplanke: periodic review due — %(title)s") % {"title": use_case.title},
          _("The periodic review of “%(title)s” is due since %(due)s (every %(days)s days). Open it on your home "
            "page in Leitplanke: check its benefit, rework, process and lawfulness against the figures of the "
            "period, and record the outcome.")
          % {"title": use_case.title, "due": review.due_on.isoformat(), "days": use_case.review_interval_days},
          _owners(use_case))


def use_case_reviews_schedule(*, now=None) -> int:
    """Beat: a review record for every running use case whose review is due, once per due date; its owners
    are told by e-mail and find it on their home page. Returns how many became due."""
    now = now or timezone.now()
    created = 0
    for use_case in UseCase.objects.filter(status__in=REVIEWED_STATUSES).select_related(
            "tenant", *OWNER_FIELDS):
        due = use_case.review_due_at
        if due > now:
            continue
        with transaction.atomic():
            review, made = UseCaseReview.objects.get_or_create(
                use_case=use_case, due_on=timezone.localdate(due),
                defaults={"tenant": use_case.tenant, "period_start": use_case.last_reviewed_at or use_case.created_at})
            if not made:
                continue
            audit_event_record(actor=SYSTEM, tenant=use_case.tenant, event_type="use_case_review.due", obj=review,
                               details={"use_case": use_case.key, "due_on": review.due_on.isoformat()})
            transaction.on_commit(partial(_notify_due, review))
            created += 1
    return created


def may_complete_review(*, actor, review: UseCaseReview) -> bool:
    """An owner of the use case (department, IT, ISB, DSB) or an automation lead, with the permission."""
    user = as_actor(actor).user
    if user is None or not actor_has_perm(actor, review.tenant, "automations.change_usecasereview"):
        return False
    use_case = review.use_case
    return (user.pk in {getattr(use_case, f"{name}_id") for name in OWNER_FIELDS}
            or Role.AUTOMATION_LEAD in roles_of(user=user, tenant=review.tenant))


def use_case_review_complete(*, actor, review: UseCaseReview, checklist: dict, notes: str, outcome: str,
                             change_request: ChangeRequest | None = None) -> UseCaseReview:
    """Record the review: every checklist question answered, the figures of the period since the last review
    attached, the outcome (continue; adjust with a change request of the use case; retire, which proposes the
    retirement as a change request). The use case's `last_reviewed_at` becomes now, so the next one is due an
    interval later."""
    actor = as_actor(actor)
    require_perm(actor, review.tenant, "automations.change_usecasereview")
    if not may_complete_review(actor=actor, review=review):
        raise PermissionDenied(_("An owner of the use case or an automation lead completes its review."))
    missing = [str(question) for key, question in REVIEW_CHECKLIST if not isinstance(checklist.get(key), bool)]
    if missing:
        raise ValidationError(_("Answer every question of the checklist: %(q)s") % {"q": " ".join(missing)})
    if outcome not in ReviewOutcome.values:
        raise ValidationError(_("Choose the outcome: continue, adjust or retire."))
    use_case = review.use_case
    if outcome == ReviewOutcome.ADJUST:
        if change_request is None or change_request.use_case_id != use_case.pk:
            raise ValidationError(_("An adjustment names the change request of this use case that makes it."))
    elif change_request is not None and outcome == ReviewOutcome.CONTINUE:
        raise ValidationError(_("Continuing unchanged names no change request."))
    now = timezone.now()
    with transaction.atomic():
        review = UseCaseReview.objects.select_for_update().get(pk=review.pk)
        if review.state != ReviewState.DUE:
            raise ValidationError(_("This review is already completed."))
        if outcome == ReviewOutcome.RETIRE:  # proposed with the review, or neither
            change_request = change_request_create(
                actor=actor, tenant=review.tenant, use_case=use_case, kind=ChangeKind.STATUS_CHANGE,
                title=_("Retire “%(title)s” (periodic review)") % {"title": use_case.title},
                description=notes.strip() or _("The periodic review decided to retire the use case."),
                payload={"to": UseCaseStatus.RETIRED})
        figures = quality_figures(use_case=use_case, start=review.period_start, end=now)
        review.checklist = {key: checklist[key] for key, _question in REVIEW_CHECKLIST}
        review.notes, review.outcome, review.change_request = notes, outcome, change_request
        review.figures, review.period_end = figures.as_dict(), now
        review.state, review.completed_by, review.completed_at = ReviewState.COMPLETED, actor.user, now
        review.save()
        locked = UseCase.objects.select_for_update().get(pk=use_case.pk)
        locked.last_reviewed_at = now
        stamp(locked, actor=actor, reason=_("Periodic review of %(due)s: %(outcome)s")
              % {"due": review.due_on.isoformat(), "outcome": review.get_outcome_display()})
        locked.save(update_fields=["last_reviewed_at"])
        audit_event_record(actor=actor, tenant=review.tenant, event_type="use_case_review.completed", obj=review,
                           details={"use_case": use_case.key, "outcome": outcome, "checklist": review.checklist,
                                    "change_request": change_request.pk if change_request else None,
                                    "figures": review.figures})
    return review

