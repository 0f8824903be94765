"""Human oversight: queues per use case, tasks from routing, claiming ("next task") with expiring
claims, decisions (four eyes for high risk), escalation and clarification from the queue, briefing and
training as the gate to claiming, and sample checks of automatically applied items."""
import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from audit.actors import SYSTEM, as_actor
from audit.selectors.pseudonyms import work_item_identifiers
from audit.services.events import access_event_record, audit_event_record
from audit.services.pseudonyms import pseudonym_for, pseudonyms_for_many
from automations.choices import ItemStatus, RiskTier
from automations.execution.services.escalations import escalation_create
from automations.execution.services.results import work_item_finalise
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import tenant_policy_get
from automations.registry.services.use_cases import use_case_owner_grant, use_case_owner_revoke
from automations.training.services import example_from_correction
from portal.jobs import task_send_on_commit
from portal.permissions import actor_has_perm, require_perm
from portal.selectors import membership_get, membership_list
from reviews.briefings import briefing_difference, briefing_hash, briefing_version
from reviews.choices import OPEN_TASK_STATES, DecisionAction, QueueKind, TaskState
from reviews.models import (
    BriefingChange,
    BriefingConfirmation,
    BriefingNotice,
    ReviewDecision,
    ReviewQueue,
    ReviewTask,
    ReviewTaskSkip,
    ReviewTeam,
    TrainingRecord,
)
from reviews.selectors import (
    cleared_use_case_ids,
    review_queue_for_use_case,
    review_task_bulk_approvable,
    review_task_open_for_item,
    review_team_get,
    review_team_names,
    user_in_team,
)

QUEUE_NAMES: dict[str, str] = {QueueKind.REVIEW: "Prüfung", QueueKind.CLARIFICATION: "Klärung",
                               QueueKind.SAMPLE_CHECK: "Stichprobe"}


def _claim_minutes() -> int:
    return getattr(settings, "REVIEW_CLAIM_MINUTES", 15)


def review_queue_ensure(*, use_case, kind: str = QueueKind.REVIEW) -> ReviewQueue:
    """The use case's queue of this kind, created on first need."""
    queue = review_queue_for_use_case(use_case=use_case, kind=kind)
    if queue is not None:
        return queue
    with transaction.atomic():
        queue = ReviewQueue.objects.create(tenant=use_case.tenant, kind=kind,
                                           name=f"{use_case.title} · {QUEUE_NAMES[kind]}", team=use_case.department,
                                           sla_hours=8 if kind == QueueKind.CLARIFICATION else 24)
        queue.use_cases.add(use_case)
        team = review_team_get(tenant=use_case.tenant, name=queue.team)
        if team is not None:  # the team's clerks work its new queue as they work the others
            assign_perm("reviews.work_reviewqueue", team.group, queue)
        audit_event_record(actor=SYSTEM, tenant=use_case.tenant, event_type="review_queue.created", obj=queue,
                           details={"kind": kind, "use_case": use_case.key, "team": queue.team,
                                    "granted_to_team": team is not None})
    return queue


def review_task_create(*, item, kind: str, reasons: list[str], priority: int = 3) -> ReviewTask:
    """Inside the routing transaction: one open task per item; a repeated routing updates it."""
    queue = review_queue_ensure(use_case=item.use_case, kind=kind)
    existing = review_task_open_for_item(item=item)
    if existing is not None and kind != QueueKind.SAMPLE_CHECK:
        existing.reasons, existing.queue = reasons, queue
        existing.save(update_fields=["reasons", "queue"])
        return existing
    task = ReviewTask.objects.create(tenant=item.tenant, item=item, queue=queue, use_case=item.use_case,
                                     reasons=reasons, priority=priority, state=TaskState.OPEN,
                                     due_at=timezone.now() + timedelta(hours=queue.sla_hours))
    audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="review_task.created", obj=task,
                       details={"item": str(item.pk), "queue": queue.pk, "kind": kind, "reasons": len(reasons)})
    return task


def sample_check_maybe(*, item, share: float | None = None, draw=random.random) -> ReviewTask | None:
    """A configured share of automatically applied items goes to a sample check, so quality in
    production is measured, not assumed. The item stays applied."""
    share = float(tenant_policy_get(tenant=item.tenant).sample_check_share) if share is None else share
    if share <= 0 or draw() >= share:
        return None
    return review_task_create(item=item, kind=QueueKind.SAMPLE_CHECK,
                              reasons=[_("Sample check of an automatically applied item.")], priority=4)


# --- briefing and training -------------------------------------------------------------------------

def briefing_confirm(*, actor, use_case) -> BriefingConfirmation:
    actor = as_actor(actor)
    if not actor.is_person:
        raise PermissionDenied(_("A briefing is confirmed by the person who read it."))

    use_case = UseCase.objects.for_tenant(use_case.tenant).get(pk=use_case.pk)  # the stored documentation
    if not briefing_may_confirm(actor=actor, use_case=use_case):
        # Reading the briefing is open to every registry reader; confirming it is the gate to deciding tasks
        # (EU AI Act Art. 4), so read-only roles (auditor, works council) record nothing here.
        raise PermissionDenied(_("Only people who work this use case's review queues confirm its briefing."))
    digest = briefing_version(use_case)
    with transaction.atomic():
        confirmation, created = BriefingConfirmation.objects.get_or_create(
            tenant=use_case.tenant, use_case=use_case, user=actor.user, briefing_hash=digest)
        if created:
            audit_event_record(actor=actor, tenant=use_case.tenant, event_type="briefing.confirmed",
                               obj=confirmation, details={"use_case": use_case.key, "briefing_hash": digest})
        # Confirming the briefing as it is now answers every notice of a change to it.
        BriefingNotice.objects.for_tenant(use_case.tenant).filter(
            user=actor.user, change__use_case=use_case, read_at__isnull=True).update(read_at=timezone.now())
    return confirmation


def briefing_change_record(*, actor, use_case, change_request, before: dict, after: dict,
                           reconfirm: bool) -> BriefingChange | None:
    """A change request took the use case's briefing live in another version (inside its approving
    transaction). Every clerk who confirmed a briefing of this use case, and not yet this version, is told on
    their home page and by e-mail (after commit). Unless the automation lead asked for a new confirmation, a
    clerk whose confirmation was valid just before keeps it for the new version and works on without a stop."""
    old, new = briefing_hash(use_case, before), briefing_hash(use_case, after)
    confirmations = BriefingConfirmation.objects.for_tenant(use_case.tenant).filter(use_case=use_case)
    done = set(confirmations.filter(briefing_hash=new).values_list("user_id", flat=True))
    valid_before = set(confirmations.filter(briefing_hash=old).values_list("user_id", flat=True))
    members = set(membership_list(tenant=use_case.tenant).filter(is_active=True).values_list("user_id", flat=True))
    affected = sorted((set(confirmations.values_list("user_id", flat=True)) - done) & members)
    if not affected:
        return None
    change = BriefingChange.objects.create(tenant=use_case.tenant, use_case=use_case, change_request=change_request,
                                           before=before, after=after, reconfirm_required=reconfirm)
    BriefingNotice.objects.bulk_create([BriefingNotice(tenant=use_case.tenant, change=change, user_id=user_id)
                                        for user_id in affected])
    carried = [] if reconfirm else [user_id for user_id in affected if user_id in valid_before]
    BriefingConfirmation.objects.bulk_create([
        BriefingConfirmation(tenant=use_case.tenant, use_case=use_case, user_id=user_id, briefing_hash=new,
                             carried_by=change) for user_id in carried])
    audit_event_record(actor=actor, tenant=use_case.tenant, event_type="briefing.changed", obj=change,
                       details={"use_case": use_case.key,
                                "change_request": change_request.pk if change_request else None,
                                "briefing_hash": new, "reconfirm": reconfirm, "told": len(affected),
                                "carried_over": len(carried)})
    transaction.on_commit(lambda: _briefing_change_mail(change))
    return change


def _briefing_change_mail(change: BriefingChange) -> None:
    users = get_user_model().objects.filter(pk__in=change.notices.values("user_id")).exclude(email="")
    recipients = sorted({user.email for user in users})
    if not recipients:
        return
    use_case = change.use_case
    lines = [f"{row['item']}:\n  " + _("before: %(before)s") % {"before": row["before"]} + "\n  "
             + _("now: %(after)s") % {"after": row["after"]}
             for row in briefing_difference(use_case, change.before, change.after)]
    what_now = (_("Please read the briefing and confirm it again in Leitplanke before your next task of this use case.")
                if change.reconfirm_required else
                _("You keep working as before; please read what changed (your home page in Leitplanke shows it)."))
    send_mail(
        subject=_("Leitplanke: briefing changed — %(use_case)s") % {"use_case": use_case.title},
        message=_("The briefing of “%(use_case)s” changed with %(change)s.\n\n%(lines)s\n\n%(what_now)s")
        % {"use_case": use_case.title, "change": change.change_request or "-", "lines": "\n".join(lines),
           "what_now": what_now},
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients, fail_silently=True)


def briefing_notice_read(*, actor, notice: BriefingNotice) -> BriefingNotice:
    """The clerk read what changed in a briefing they need not confirm again."""
    actor = as_actor(actor)
    if actor.user is None or notice.user_id != actor.user.pk:
        raise PermissionDenied(_("Only the clerk who was told marks the notice as read."))
    if notice.change.reconfirm_required:
        raise ValidationError(_("This change needs your confirmation of the briefing."))
    with transaction.atomic():
        notice = BriefingNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.read_at is None:
            notice.read_at = timezone.now()
            notice.save(update_fields=["read_at"])
            audit_event_record(actor=actor, tenant=notice.tenant, event_type="briefing.acknowledged",
                               obj=notice.change, details={"use_case": notice.change.use_case.key})
    return notice


def briefing_may_confirm(*, actor, use_case) -> bool:
    """Whoever may work one of the use case's review queues (granted on the queue, or to their team), or
    belongs to the team of the use case's department (whose queues they will work once they exist)."""
    if actor_has_perm(actor, use_case.tenant, "reviews.work_reviewqueue"):
        return True
    user = as_actor(actor).user
    if user is not None and use_case.department and user_in_team(user=user, tenant=use_case.tenant,
                                                                  name=use_case.department):
        return True
    return any(_may_work(actor, queue) for queue in ReviewQueue.objects.for_tenant(use_case.tenant)
               .filter(use_cases=use_case))


def training_record(*, actor, use_case, user, topic: str, held_on) -> TrainingRecord:
    require_perm(actor, use_case.tenant, "reviews.add_trainingrecord")
    if not topic.strip():
        raise ValidationError(_("Name the training's topic."))
    with transaction.atomic():
        record = TrainingRecord.objects.create(tenant=use_case.tenant, use_case=use_case, user=user, topic=topic,
                                               held_on=held_on, confirmed_by=as_actor(actor).user)
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="training.recorded", obj=record,
                           details={"use_case": use_case.key, "user_id": user.pk})
    return record


# --- claiming ------------------------------------------------------------------------------------

def _may_work(actor, queue) -> bool:
    user = as_actor(actor).user
    return user is not None and (actor_has_perm(actor, queue.tenant, "reviews.work_reviewqueue")
                                 or user.has_perm("reviews.work_reviewqueue", queue))


def review_task_claim_next(*, actor, queue: ReviewQueue) -> ReviewTask | None:
    """Hand the caller the most urgent task they may work (priority, then due time): each task to one
    clerk at a time — locked rows are skipped on PostgreSQL; SQLite's immediate transactions serialise
    the claim. Only use cases whose briefing and training the clerk has count."""
    actor = as_actor(actor)
    if not _may_work(actor, queue):
        raise PermissionDenied(_("You may not work this queue."))
    user = actor.user
    cleared = cleared_use_case_ids(tenant=queue.tenant, user=user)
    now = timezone.now()
    claimable = (Q(claimed_by__isnull=True) | Q(claim_expires_at__lt=now)) & (
        Q(state__in=(TaskState.OPEN, TaskState.CLAIMED))
        | (Q(state=TaskState.AWAITING_SECOND_REVIEW) & ~Q(first_reviewer=user)))
    # Tasks this clerk skipped wait at the back for them, the earliest skipped first (a handful of ids).
    skipped = list(ReviewTaskSkip.objects.filter(user=user, task__queue=queue, task__state__in=OPEN_TASK_STATES)
                   .order_by("skipped_at").values_list("task_id", flat=True)[:500])
    with transaction.atomic():
        # The plain state__in lets PostgreSQL match the partial index reviewtask_claimable (it cannot
        # prove that from the OR below): the claim walks the index in order instead of sorting the queue.
        candidates = (ReviewTask.objects.select_for_update(skip_locked=True, of=("self",))
                      .filter(queue=queue, use_case_id__in=cleared, state__in=OPEN_TASK_STATES).filter(claimable)
                      .exclude(item__restricted=True))  # Art. 18: a restricted item is processed by nobody
        task = candidates.exclude(pk__in=skipped).order_by("priority", "due_at", "id").first()
        if task is None and skipped:
            found = {t.pk: t for t in candidates.filter(pk__in=skipped)}
            task = next((found[pk] for pk in skipped if pk in found), None)
        if task is None:
            return None
        _take(actor, task, now)
    return task


def review_task_claim(*, actor, task: ReviewTask) -> ReviewTask:
    """Claim one particular task (from the list), if nobody holds it."""
    actor = as_actor(actor)
    if not _may_work(actor, task.queue):
        raise PermissionDenied(_("You may not work this queue."))
    if task.use_case_id not in cleared_use_case_ids(tenant=task.tenant, user=actor.user):
        raise PermissionDenied(_("Confirm the briefing and complete the training of this use case first."))
    now = timezone.now()
    with transaction.atomic():
        task = ReviewTask.objects.select_for_update().get(pk=task.pk)
        if task.state not in OPEN_TASK_STATES:
            raise ValidationError(_("This task is already decided."))
        if task.item.restricted:
            raise PermissionDenied(_("Processing of this item is restricted (Art. 18 GDPR)."))
        if task.claimed_by_id not in (None, actor.user.pk) and task.claim_expires_at and task.claim_expires_at >= now:
            raise ValidationError(_("Another clerk is working on this task."))
        if task.state == TaskState.AWAITING_SECOND_REVIEW and task.first_reviewer_id == actor.user.pk:
            raise PermissionDenied(_("The second review needs another person."))
        _take(actor, task, now)
    return task


def _take(actor, task: ReviewTask, now) -> None:
    task.claimed_by, task.claimed_at = actor.user, now
    task.claim_expires_at = now + timedelta(minutes=_claim_minutes())
    if task.state == TaskState.OPEN or task.state == TaskState.CLAIMED:
        task.state = TaskState.CLAIMED
    task.save(update_fields=["claimed_by", "claimed_at", "claim_expires_at", "state"])
    audit_event_record(actor=actor, tenant=task.tenant, event_type="review_task.claimed", obj=task,
                       details={"item": str(task.item_id), "queue": task.queue_id})


def review_task_release(*, actor, task: ReviewTask) -> ReviewTask:
    actor = as_actor(actor)
    with transaction.atomic():
        task = ReviewTask.objects.select_for_update().get(pk=task.pk)
        if task.claimed_by_id != actor.user.pk:
            raise PermissionDenied(_("You do not hold this task."))
        task.claimed_by, task.claimed_at, task.claim_expires_at = None, None, None
        if task.state == TaskState.CLAIMED:
            task.state = TaskState.OPEN
        task.save(update_fields=["claimed_by", "claimed_at", "claim_expires_at", "state"])
        # Given back means "not now for me": the next task for this clerk is another one.
        ReviewTaskSkip.objects.update_or_create(task=task, user=actor.user,
                                                defaults={"tenant": task.tenant, "skipped_at": timezone.now()})
        audit_event_record(actor=actor, tenant=task.tenant, event_type="review_task.released", obj=task)
    return task


def review_claims_expire(*, now=None) -> int:
    """Beat: expired claims return their tasks to the queue."""
    now = now or timezone.now()
    expired = ReviewTask.objects.filter(claimed_by__isnull=False, claim_expires_at__lt=now,
                                        state__in=OPEN_TASK_STATES)
    count = 0
    for task in expired:
        with transaction.atomic():
            task = ReviewTask.objects.select_for_update().get(pk=task.pk)
            if task.claimed_by_id is None or task.claim_expires_at >= now:
                continue
            task.claimed_by, task.claimed_at, task.claim_expires_at = None, None, None
            if task.state == TaskState.CLAIMED:
                task.state = TaskState.OPEN
            task.save(update_fields=["claimed_by", "claimed_at", "claim_expires_at", "state"])
            audit_event_record(actor=SYSTEM, tenant=task.tenant, event_type="review_task.claim_expired", obj=task)
            count += 1
    return count


# --- deciding ------------------------------------------------------------------------------------

def field_diff(suggested: dict, final: dict) -> dict:
    diff = {}
    for name in sorted(set(final)):
        before = (suggested.get(name) or {}).get("value")
        if str(before) != str(final[name]):
            diff[name] = {"suggested": before, "final": final[name],
                          "confidence": (suggested.get(name) or {}).get("confidence")}
    return diff


def _finalise(actor, task, item, action, final_values, first=None) -> None:
    if task.queue.kind == QueueKind.SAMPLE_CHECK:
        return  # the item stays as it was applied; the decision measures quality
    # In a second review, a value the first reviewer chose and the second left as it was is theirs.
    authors = ({spec["name"]: first.actor.username for spec in item.use_case.output_fields
                if str(final_values.get(spec["name"])) == str(first.final_fields.get(spec["name"]))}
               if first is not None else None)
    work_item_finalise(actor=actor, item=item, approved=action != DecisionAction.REJECT, final_values=final_values,
                       value_authors=authors)
    if action == DecisionAction.CORRECT and item.use_case.training_reuse_allowed:
        example_from_correction(item=item, final_fields=final_values, actor=actor)


def review_task_decide(*, actor, task: ReviewTask, action: str, final_values: dict | None = None,
                       comment: str = "", time_on_task_ms: int | None = None) -> ReviewDecision:
    """A person decides the task they hold. High-risk use cases need four eyes: the first decision
    waits for a different clerk to confirm or override it before it takes effect."""
    actor = as_actor(actor)
    if not actor.is_person:
        raise PermissionDenied(_("Review tasks are decided by a person in a browser session."))
    if action not in DecisionAction.values:
        raise ValidationError(_("Unknown decision."))
    final_values = dict(final_values or {})
    now = timezone.now()
    with transaction.atomic():
        task = ReviewTask.objects.select_for_update().get(pk=task.pk)
        if task.state not in OPEN_TASK_STATES:
            raise ValidationError(_("This task is already decided."))
        if task.claimed_by_id != actor.user.pk:
            raise PermissionDenied(_("Take the task first; another clerk may hold it."))
        item = task.item
        outputs = {f["name"] for f in item.use_case.output_fields}
        if set(final_values) - outputs:
            raise ValidationError(_("Not output fields of this use case: %(f)s")
                                  % {"f": ", ".join(sorted(set(final_values) - outputs))})
        if action in (DecisionAction.ESCALATE, DecisionAction.CLARIFY, DecisionAction.REJECT) and not comment.strip():
            raise ValidationError(_("Give a reason."))
        if time_on_task_ms is None:
            time_on_task_ms = int((now - (task.claimed_at or now)).total_seconds() * 1000)
        second = task.state == TaskState.AWAITING_SECOND_REVIEW
        if second and task.first_reviewer_id == actor.user.pk:
            raise PermissionDenied(_("The second review needs another person."))
        first = task.decisions.select_related("actor").order_by("-created_at").first() if second else None
        if action == DecisionAction.CONFIRM:
            if not second or first is None:
                raise ValidationError(_("Only a second review confirms."))
            action, final_values = first.action, dict(first.final_fields)
        diff = (field_diff(item.fields, final_values)
                if action in (DecisionAction.APPROVE, DecisionAction.CORRECT) else {})
        if action == DecisionAction.CORRECT and not diff:
            action = DecisionAction.APPROVE
        decision = ReviewDecision.objects.create(
            tenant=task.tenant, task=task, item=item, actor=actor.user, action=action, final_fields=final_values,
            diff=diff, comment=comment, time_on_task_ms=max(0, time_on_task_ms))
        task.claimed_by, task.claimed_at, task.claim_expires_at = None, None, None
        four_eyes = item.use_case.risk_tier == RiskTier.HIGH and task.queue.kind != QueueKind.SAMPLE_CHECK
        if action == DecisionAction.ESCALATE:
            task.state = TaskState.ESCALATED
            escalation_create(item=item, reason=comment, actor=actor)
            if task.queue.kind != QueueKind.SAMPLE_CHECK:
                item.status = ItemStatus.ESCALATED
                item.save(update_fields=["status"])
        elif action == DecisionAction.CLARIFY:
            task.state = TaskState.CLARIFICATION
            # Saved first: otherwise review_task_create would find this task still open and move it
            # (state and all) into the clarification queue instead of opening a new task there.
            task.save(update_fields=["state"])
            item.status, item.reasons = ItemStatus.CLARIFICATION, [*item.reasons, comment]
            item.save(update_fields=["status", "reasons"])
            review_task_create(item=item, kind=QueueKind.CLARIFICATION, reasons=[comment], priority=2)
        elif four_eyes and not second:
            task.state, task.first_reviewer = TaskState.AWAITING_SECOND_REVIEW, actor.user
        else:
            task.state, task.done_at = TaskState.DONE, now
            _finalise(actor, task, item, action, final_values, first=first)
            if task.queue.kind != QueueKind.CLARIFICATION and task.use_case_id:
                # The correction rate moved: the use case's quality circuit breaker is evaluated after commit.
                task_send_on_commit("automations.quality_breaker_evaluate", task.use_case_id)
        task.save(update_fields=["state", "done_at", "claimed_by", "claimed_at", "claim_expires_at",
                                 "first_reviewer"])
        audit_event_record(actor=actor, tenant=task.tenant, event_type="review_task.decided", obj=task,
                           details={"action": action, "item": str(item.pk), "changed_fields": sorted(diff),
                                    "state": task.state, "second_review": second})
    return decision


# --- bulk approval, queue assignment, document views ------------------------------------------------

BULK_COMMENT = "Sammelfreigabe"  # marks bulk decisions, so oversight figures can tell them apart


def review_tasks_bulk_approve(*, actor, queue: ReviewQueue, tasks) -> tuple[list[ReviewDecision], list[ReviewTask]]:
    """Approve low-risk tasks as suggested, where both the queue and the tenant policy allow it: each
    task is claimed and decided through review_task_decide (one transaction each, audited each). Returns
    (decisions, skipped): a task someone else holds, or that is not low risk, is skipped."""
    actor = as_actor(actor)
    if not (queue.bulk_approval_allowed and tenant_policy_get(tenant=queue.tenant).bulk_approval_allowed):
        raise PermissionDenied(_("Bulk approval is not allowed for this queue."))
    decisions, skipped = [], []
    for task in tasks:
        task = ReviewTask.objects.select_related("queue", "item", "use_case").get(pk=task.pk, queue=queue)
        if not review_task_bulk_approvable(task=task, queue=queue, item=task.item, use_case=task.use_case,
                                           user=actor.user):
            skipped.append(task)
            continue
        try:
            with transaction.atomic():
                task = review_task_claim(actor=actor, task=task)
                decisions.append(review_task_decide(actor=actor, task=task, action=DecisionAction.APPROVE,
                                                    comment=BULK_COMMENT))
        except (ValidationError, PermissionDenied):
            skipped.append(task)
    return decisions, skipped


def _grantee_check(actor, tenant, user) -> None:
    """Queues are granted by the automation lead, to active members of the tenant."""
    require_perm(actor, tenant, "portal.change_membership")
    if membership_get(user=user, tenant=tenant) is None:
        raise ValidationError(_("Only active members of this tenant are granted queues."))


def _personal_data(queues) -> bool:
    """Whether the queues' use cases process personal data: granting them widens access to it."""
    return any(use_case.processes_personal_data for queue in queues for use_case in queue.use_cases.all())


def review_queue_assign(*, actor, queue: ReviewQueue, user) -> bool:
    """Grant one person the work permission on one queue (an object permission), audited. False when
    they had it already."""
    _grantee_check(actor, queue.tenant, user)
    if queue in _own_grants(user, queue.tenant):
        return False
    with transaction.atomic():
        assign_perm("reviews.work_reviewqueue", user, queue)
        audit_event_record(actor=actor, tenant=queue.tenant, event_type="review_queue.assigned", obj=queue,
                           details={"user_id": user.pk, "personal_data": _personal_data([queue])})
    return True


def _own_grants(user, tenant) -> set:
    """The queues granted to the user on their own (not through a team)."""
    return set(get_objects_for_user(user, "reviews.work_reviewqueue", klass=ReviewQueue.objects.for_tenant(tenant),
                                    use_groups=False, accept_global_perms=False, with_superuser=False))


def review_queue_unassign(*, actor, queue: ReviewQueue, user) -> bool:
    """Take one person's own work permission on one queue away, audited (a team's grant stays). False when
    they had none of their own."""
    require_perm(actor, queue.tenant, "portal.change_membership")
    if queue not in _own_grants(user, queue.tenant):
        return False
    with transaction.atomic():
        remove_perm("reviews.work_reviewqueue", user, queue)
        audit_event_record(actor=actor, tenant=queue.tenant, event_type="review_queue.unassigned", obj=queue,
                           details={"user_id": user.pk})
    return True


def review_team_ensure(*, tenant, name: str) -> ReviewTeam:
    """The team of this name, created with its group on first need; its group is granted every queue of
    the tenant whose team is the name."""
    name = name.strip()
    if not name:
        raise ValidationError(_("Name the team."))
    team = review_team_get(tenant=tenant, name=name)
    if team is not None:
        return team
    with transaction.atomic():
        group = Group.objects.create(name=f"review-team:{tenant.pk}:{name}"[:150])
        team = ReviewTeam.objects.create(tenant=tenant, name=name, group=group)
        for queue in ReviewQueue.objects.for_tenant(tenant).filter(team=name):
            assign_perm("reviews.work_reviewqueue", group, queue)
    return team


def review_team_grant(*, actor, tenant, name: str, user) -> bool:
    """Add a person to a team: they work every queue of the team, those created later included. Audited
    (with whether the team's queues hold personal data). False when they were in it already."""
    _grantee_check(actor, tenant, user)
    with transaction.atomic():
        team = review_team_ensure(tenant=tenant, name=name)
        if team.group.user_set.filter(pk=user.pk).exists():
            return False
        user.groups.add(team.group)
        queues = list(ReviewQueue.objects.for_tenant(tenant).filter(team=team.name).prefetch_related("use_cases"))
        department = UseCase.objects.for_tenant(tenant).filter(department=team.name)
        personal = _personal_data(queues) or any(u.processes_personal_data for u in department)
        audit_event_record(actor=actor, tenant=tenant, event_type="review_team.granted", obj=team,
                           details={"team": team.name, "user_id": user.pk, "queues": [q.pk for q in queues],
                                    "personal_data": personal})
    return True


def review_team_revoke(*, actor, tenant, name: str, user) -> bool:
    """Take a person out of a team: they no longer work its queues (their own queue grants stay). Audited.
    False when they were not in it."""
    require_perm(actor, tenant, "portal.change_membership")
    team = review_team_get(tenant=tenant, name=name)
    if team is None or not team.group.user_set.filter(pk=user.pk).exists():
        return False
    with transaction.atomic():
        user.groups.remove(team.group)
        audit_event_record(actor=actor, tenant=tenant, event_type="review_team.revoked", obj=team,
                           details={"team": team.name, "user_id": user.pk})
    return True


GRANT_KINDS = ("team", "queue", "use_case", "department")


def grant_change(*, actor, tenant, kind: str, target: str, user, revoke: bool = False) -> int:
    """One change on the grants page or API: add `user` to (or take them out of) a team, a queue, a use case
    (its owners), or every use case of a department. Returns how many grants changed (0: nothing to do).
    An unknown target is a ValidationError naming it."""
    if kind not in GRANT_KINDS:
        raise ValidationError(_("Unknown kind of grant: %(kind)s") % {"kind": kind})
    target = str(target or "").strip()
    if kind == "team":
        if target not in review_team_names(tenant=tenant):
            raise ValidationError(_("No team or department named “%(name)s”.") % {"name": target})
        team_change = review_team_revoke if revoke else review_team_grant
        return int(team_change(actor=actor, tenant=tenant, name=target, user=user))
    if kind == "queue":
        queue = ReviewQueue.objects.for_tenant(tenant).filter(pk=int(target)).first() if target.isdigit() else None
        if queue is None:
            raise ValidationError(_("No review queue %(id)s in this tenant.") % {"id": target})
        queue_change = review_queue_unassign if revoke else review_queue_assign
        return int(queue_change(actor=actor, queue=queue, user=user))
    use_cases = list(UseCase.objects.for_tenant(tenant).filter(
        **({"key": target} if kind == "use_case" else {"department": target})).order_by("key")) if target else []
    if not use_cases:
        raise ValidationError(_("No use case or department “%(name)s” in this tenant.") % {"name": target})
    owner_change = use_case_owner_revoke if revoke else use_case_owner_grant
    with transaction.atomic():
        return sum(int(owner_change(actor=actor, use_case=use_case, user=user)) for use_case in use_cases)


def work_item_view_record(*, actor, item, file=None, purpose: str = "review") -> None:
    """A person opened an item (its payload, fields or a file) with personal data: an AccessEvent on the
    tenant's access chain. Items without personal data record nothing; a look at an item whose
    processing is restricted (Art. 18 GDPR, the DSB's alone) is always recorded."""
    if not item.use_case.processes_personal_data and not item.restricted:
        return
    details = {"use_case": item.use_case.key}
    if item.restricted:
        details["restricted"] = True
    if file is not None:
        details["file"] = file.pk
    subjects = _subject_pseudonyms(item)
    event_type = "work_item.file_viewed" if file is not None else "work_item.viewed"
    access_event_record(actor=actor, tenant=item.tenant, purpose=purpose, obj=item, event_type=event_type,
                        subject_pseudonym=subjects[0] if subjects else "",
                        details={**details, "subjects": subjects[1:]} if len(subjects) > 1 else details)


def work_items_view_record(*, actor, tenant, items, purpose: str) -> None:
    """A person saw a page or list of items (work item list, API list, admin): one AccessEvent for the
    whole page, naming the items and the people they concern (pseudonyms found or created together). Items
    without personal data are left out; nothing is recorded when none remains."""
    shown = [item for item in items if item.restricted or item.use_case.processes_personal_data]
    if not shown:
        return
    pairs = {item.pk: work_item_identifiers(item) for item in shown}
    pseudonyms = pseudonyms_for_many(tenant=tenant, identifiers={p for found in pairs.values() for p in found})
    subjects = sorted({pseudonyms[p] for found in pairs.values() for p in found if p in pseudonyms})
    details = {"items": [str(item.pk) for item in shown],
               "use_cases": sorted({item.use_case.key for item in shown})}
    if any(item.restricted for item in shown):
        details["restricted"] = [str(item.pk) for item in shown if item.restricted]
    if len(subjects) > 1:
        details["subjects"] = subjects[1:]
    access_event_record(actor=actor, tenant=tenant, purpose=purpose, event_type="work_items.listed",
                        object_type="automations.workitem", subject_pseudonym=subjects[0] if subjects else "",
                        details=details)


def people_figures_view_record(*, actor, tenant, usernames, purpose: str = "oversight") -> None:
    """Someone saw review figures per person (shown under a works agreement only): personal data of the
    clerks. One access event for the page, naming them by pseudonym (their e-mail address, else their user
    name), so each of them learns from their own access answer who looked."""
    people = list(get_user_model().objects.filter(username__in=set(usernames)).order_by("username"))
    if not people:
        return
    pairs = {("email", person.email.lower()) if person.email else ("name", person.get_username()) for person in people}
    subjects = sorted(set(pseudonyms_for_many(tenant=tenant, identifiers=pairs).values()))
    details: dict = {"people": len(people)}
    if len(subjects) > 1:
        details["subjects"] = subjects[1:]
    access_event_record(actor=actor, tenant=tenant, purpose=purpose, event_type="personal_data.viewed",
                        object_type="reviews.reviewdecision", subject_pseudonym=subjects[0] if subjects else "",
                        details=details)


def _subject_pseudonyms(item) -> list[str]:
    """Pseudonyms of the people an item names, created on first use."""
    return sorted({pseudonym_for(tenant=item.tenant, kind=kind, identifier=value)
                   for kind, value in work_item_identifiers(item)})
