"""Reads of review queues and tasks, scoped to a tenant."""
import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from audit.models import AuditEvent
from automations.choices import RiskTier
from automations.execution.models.work import Run, StepRun, WorkItem, WorkItemFile
from automations.execution.selectors import work_item_identities
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import use_case_restrict
from portal.db.prepared import PreparedQuery
from portal.selectors import members_active, reads_all_work
from reviews.briefings import briefing_version
from reviews.choices import OPEN_TASK_STATES, QueueKind, TaskState
from reviews.models import (
    BriefingConfirmation,
    BriefingNotice,
    ReviewDecision,
    ReviewQueue,
    ReviewTask,
    ReviewTeam,
    TrainingRecord,
)

# What a user may do with review queues (NetBox's restrict(user, action)):
# view — see the queue, its figures and tasks: all for the tenant-wide readers of work
#        (portal.roles.TENANT_WIDE_WORK_READERS), else the queues they may work and those of the use cases
#        they own (a department owner's);
# work — claim and decide its tasks: the queues granted to the user, to them or to their team (django-guardian).
QUEUE_ACTIONS = ("view", "work")


def review_queue_restrict(qs, *, tenant, user, action: str = "view", workable=None) -> QuerySet[ReviewQueue]:
    """`workable`: _workable(tenant=, user=) when the caller has it already (guardian's query is costly to build)."""
    if action not in QUEUE_ACTIONS:
        raise ValueError(f"unknown action {action}")
    qs = qs.filter(tenant=tenant)
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    workable = _workable(tenant=tenant, user=user) if workable is None else workable
    if action == "work":
        return qs.filter(pk__in=workable.values("pk"))
    if reads_all_work(user=user, tenant=tenant):
        return qs
    owned = use_case_restrict(UseCase.objects.all(), tenant=tenant, user=user, action="own")
    of_owned = ReviewQueue.objects.filter(tenant=tenant, use_cases__in=owned.values("pk"))
    return qs.filter(Q(pk__in=workable.values("pk")) | Q(pk__in=of_owned.values("pk")))


def _workable(*, tenant, user) -> QuerySet[ReviewQueue]:
    """The queues granted to the user to work, to them or to their team (django-guardian's object permissions)."""
    return get_objects_for_user(user, "reviews.work_reviewqueue", klass=ReviewQueue.objects.for_tenant(tenant),
                                accept_global_perms=False)


def review_queue_list_for_figures(*, tenant) -> QuerySet[ReviewQueue]:
    """Every queue of the tenant, for figures aggregated per queue (oversight: the works council and the
    core team see what is measured, never an item or a task)."""
    return ReviewQueue.objects.for_tenant(tenant)


def review_queue_list(*, tenant, user, kind: str | None = None, action: str = "view") -> QuerySet[ReviewQueue]:
    """The tenant's queues the user may `action` (review_queue_restrict)."""
    qs = review_queue_restrict(ReviewQueue.objects.all(), tenant=tenant, user=user, action=action)
    return qs.filter(kind=kind) if kind else qs


def review_queue_for_use_case(*, use_case, kind: str = QueueKind.REVIEW) -> ReviewQueue | None:
    return ReviewQueue.objects.for_tenant(use_case.tenant).filter(kind=kind, use_cases=use_case).order_by("pk").first()


def review_task_open_for_item(*, item) -> ReviewTask | None:
    return ReviewTask.objects.for_tenant(item.tenant).filter(item=item, state__in=OPEN_TASK_STATES).first()


def cleared_use_case_ids(*, tenant, user) -> set[int]:
    """Use cases whose current briefing the user confirmed and for which a training is recorded."""
    trained = set(TrainingRecord.objects.for_tenant(tenant).filter(user=user).values_list("use_case_id", flat=True))
    confirmed: dict[int, set[str]] = {}
    for use_case_id, digest in (BriefingConfirmation.objects.for_tenant(tenant).filter(user=user)
                                .values_list("use_case_id", "briefing_hash")):
        confirmed.setdefault(use_case_id, set()).add(digest)
    cleared = set()
    for use_case in UseCase.objects.for_tenant(tenant).filter(pk__in=trained & set(confirmed)):
        if briefing_version(use_case) in confirmed[use_case.pk]:
            cleared.add(use_case.pk)
    return cleared


# --- clerk pages and API: queues, figures, keyset pages, history -----------------------------------

# Counts stop here: a queue with a million open tasks shows "10,000+" instead of counting them all.
COUNT_CAP = 10_000
PAGE_SIZE = 50
# Task states a queue page lists, one at a time (each is one index range in keyset order).
LISTED_STATES = (TaskState.OPEN, TaskState.CLAIMED, TaskState.AWAITING_SECOND_REVIEW)


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool

    def __int__(self) -> int:
        return self.value


def _capped(qs, cap: int):
    # No ORDER BY (the model's default would make PostgreSQL walk the rows in that order) and only a
    # column every index of the table starts with, so the count can be an index-only scan.
    return qs.order_by().values("queue_id")[: cap + 1]


def capped_count(qs, cap: int | None = None) -> CappedCount:
    """COUNT over at most cap + 1 rows: cheap on any queue size, exact below the cap."""
    cap = COUNT_CAP if cap is None else cap
    n = _capped(qs, cap).count()
    return CappedCount(min(n, cap), n > cap)


def capped_counts(querysets: list, cap: int | None = None) -> list[CappedCount]:
    """Several capped counts in one round trip: SELECT (SELECT COUNT(*) FROM (…) AS c0), (…), …"""
    cap = COUNT_CAP if cap is None else cap
    parts, params = [], []
    for n, qs in enumerate(querysets):
        sql, part_params = _capped(qs, cap).query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS c{n})")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [CappedCount(min(n, cap), n > cap) for n in row]


@dataclass
class QueueFigures:
    open: CappedCount
    claimed: CappedCount
    awaiting_second_review: CappedCount
    overdue: CappedCount
    due_soon: CappedCount
    sla_status: str  # "ok", "at_risk", "breached", "empty"


def due_soon_window(queue) -> timedelta:
    """Tasks due within a quarter of the SLA (at least an hour) count as at risk."""
    return max(timedelta(hours=1), timedelta(hours=queue.sla_hours) / 4)


def review_queue_get(*, tenant, user, pk) -> ReviewQueue:
    """A queue the user may see; another team's raises DoesNotExist (a 404, like another tenant's)."""
    return review_queue_list(tenant=tenant, user=user).get(pk=pk)


def _object_granted(*, content_type_id, codename: str, object_pk, user_id) -> Q:
    """django-guardian's object permission `codename` on the object `object_pk` (an outer reference), granted to
    the user or to one of their groups — what get_objects_for_user(accept_global_perms=False) reads, as EXISTS
    with as few joins as it takes (the planner's time grows with each)."""
    of_object = {"content_type_id": content_type_id, "permission__content_type_id": content_type_id,
                 "permission__codename": codename, "object_pk": Cast(object_pk, CharField())}
    groups = get_user_model().groups.through.objects.filter(user_id=user_id).values("group_id")
    return Q(Exists(UserObjectPermission.objects.filter(user_id=user_id, **of_object))) | Q(
        Exists(GroupObjectPermission.objects.filter(group_id__in=groups, **of_object)))


def _queue_with_work_grant(tenant_id, pk, user_id, queue_type) -> QuerySet[ReviewQueue]:
    """The tenant's queue with `granted_work`: its work permission granted to the user or their team (_workable)."""
    granted = _object_granted(content_type_id=queue_type, codename="work_reviewqueue", object_pk=OuterRef("pk"),
                              user_id=user_id)
    return (ReviewQueue.objects.filter(tenant_id=tenant_id, pk=pk)
            .annotate(granted_work=ExpressionWrapper(granted, output_field=BooleanField())).order_by()[:1])


def _queue_of_owned_use_case(tenant_id, pk, user_id, use_case_type) -> QuerySet[ReviewQueue]:
    """The tenant's queue if one of its use cases is the user's (use_case_restrict "own": named as its owner or a
    contact, or granted change_usecase, to them or their team)."""
    owned = UseCase.objects.filter(tenant_id=tenant_id, review_queues=OuterRef("pk")).filter(
        Q(department_owner_id=user_id) | Q(it_contact_id=user_id) | Q(security_officer_id=user_id)
        | Q(data_protection_officer_id=user_id)
        | _object_granted(content_type_id=use_case_type, codename="change_usecase", object_pk=OuterRef("pk"),
                          user_id=user_id))
    return ReviewQueue.objects.filter(tenant_id=tenant_id, pk=pk).filter(Exists(owned)).only("id").order_by()[:1]


# The queue page's reads of its queue, built once per process: the guardian querysets they replace cost more to
# build than the database takes to answer them.
_QUEUE_WITH_WORK_GRANT = PreparedQuery(ReviewQueue, _queue_with_work_grant, tenant_id=int, pk=int, user_id=int,
                                       queue_type=int)
_QUEUE_OF_OWNED_USE_CASE = PreparedQuery(ReviewQueue, _queue_of_owned_use_case, tenant_id=int, pk=int, user_id=int,
                                         use_case_type=int)


def review_queue_get_for_page(*, tenant, user, pk) -> ReviewQueue:
    """review_queue_get, with `may_work` (may_work_queue) read in the same query: the queue's page asks both.
    The rule is review_queue_restrict's ("view") and _workable's: a queue the user may not see raises
    DoesNotExist (a 404, like another tenant's)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise ReviewQueue.DoesNotExist
    types = ContentType.objects.get_for_models(ReviewQueue, UseCase)  # cached per process, as guardian does
    queue: Any = _QUEUE_WITH_WORK_GRANT.first(tenant_id=tenant.pk, pk=int(pk), user_id=user.pk,
                                              queue_type=types[ReviewQueue].pk)
    if queue is None:
        raise ReviewQueue.DoesNotExist
    granted = user.is_superuser or queue.granted_work  # get_objects_for_user gives a superuser every queue
    if not (granted or reads_all_work(user=user, tenant=tenant)
            or _QUEUE_OF_OWNED_USE_CASE.first(tenant_id=tenant.pk, pk=queue.pk, user_id=user.pk,
                                              use_case_type=types[UseCase].pk)):
        raise ReviewQueue.DoesNotExist
    queue.may_work = user.has_perm("reviews.work_reviewqueue") or granted
    return queue


def review_queue_figures(*, queue, now=None) -> QueueFigures:
    """Open, claimed, second-review, overdue and due-soon figures of one queue: five capped counts in
    one query."""
    now = now or timezone.now()
    tasks = ReviewTask.objects.filter(queue=queue)
    waiting = [TaskState.OPEN, TaskState.CLAIMED, TaskState.AWAITING_SECOND_REVIEW]
    counts = capped_counts([
        tasks.filter(state=TaskState.OPEN), tasks.filter(state=TaskState.CLAIMED),
        tasks.filter(state=TaskState.AWAITING_SECOND_REVIEW), tasks.filter(state__in=waiting, due_at__lt=now),
        tasks.filter(state__in=waiting, due_at__gte=now, due_at__lt=now + due_soon_window(queue))])
    figures = QueueFigures(open=counts[0], claimed=counts[1], awaiting_second_review=counts[2], overdue=counts[3],
                           due_soon=counts[4], sla_status="ok")
    if figures.overdue.value:
        figures.sla_status = "breached"
    elif figures.due_soon.value:
        figures.sla_status = "at_risk"
    elif not (figures.open.value or figures.claimed.value or figures.awaiting_second_review.value):
        figures.sla_status = "empty"
    return figures


# The tenant and the escalation contact with them: the clerk's clearance reads each use case's briefing.
_QUEUE_USE_CASES = PreparedQuery(UseCase, lambda queue_id: (
    UseCase.objects.filter(review_queues=queue_id).select_related("tenant", "escalation_contact").order_by("title")),
    queue_id=int)


def review_queue_use_cases(*, queue) -> list:
    return _QUEUE_USE_CASES.all(queue_id=queue.pk)


# Keyset cursors: "<priority>|<due_at ISO>|<id>", URL-safe base64. A bad cursor starts from the top.

def cursor_encode(task: ReviewTask) -> str:
    raw = f"{task.priority}|{task.due_at.isoformat()}|{task.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> tuple[int, datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        priority, due, pk = raw.split("|")
        due_at = parse_datetime(due)
        if due_at is None:
            return None
        if timezone.is_naive(due_at):  # as the ORM reads a naive moment (cursor_encode writes aware ones)
            due_at = timezone.make_aware(due_at)
        return int(priority), due_at, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass
class TaskFilters:
    state: str = TaskState.OPEN
    use_case_id: int | None = None
    search: str = ""
    priority: int | None = None
    overdue: bool = False

    @property
    def active(self) -> bool:
        return bool(self.use_case_id or self.search or self.priority or self.overdue)


@dataclass
class TaskPage:
    tasks: list = field(default_factory=list)
    next_cursor: str | None = None
    first: bool = True


def review_task_page(*, queue, filters: TaskFilters | None = None, after: str | None = None,
                     limit: int = PAGE_SIZE, now=None) -> TaskPage:
    """One page of a queue's tasks in (priority, due time, id) order, after a keyset cursor: one query
    however deep the page, never OFFSET. Each task has `claimed_by` loaded (username only)."""
    filters = filters or TaskFilters()
    now = now or timezone.now()
    state = filters.state if filters.state in LISTED_STATES else TaskState.OPEN
    position = cursor_decode(after)
    if not filters.active and limit == PAGE_SIZE:  # the page as most clerks see it: built once per process
        if position is None:
            rows = _TASK_PAGE_FIRST.all(tenant_id=queue.tenant_id, queue_id=queue.pk, state=state)
        else:
            rows = _TASK_PAGE_AFTER.all(tenant_id=queue.tenant_id, queue_id=queue.pk, state=state,
                                        priority=position[0], due_at=position[1], pk=position[2])
        return _task_page(rows, limit=limit, first=position is None)
    qs = _task_page_tasks(queue.tenant_id, queue.pk, state)
    if filters.use_case_id:
        qs = qs.filter(use_case_id=filters.use_case_id)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.overdue:
        qs = qs.filter(due_at__lt=now)
    if filters.search.strip():
        qs = qs.annotate(reasons_text=Cast("reasons", TextField())).filter(
            reasons_text__icontains=filters.search.strip())
    if position is not None:
        qs = _after(qs, *position)
    return _task_page(list(qs.order_by("priority", "due_at", "id")[: limit + 1]), limit=limit, first=position is None)


def _task_page_tasks(tenant_id, queue_id, state) -> QuerySet[ReviewTask]:
    # Art. 18 GDPR: a restricted item's task is processed by nobody and listed to nobody.
    return (ReviewTask.objects.filter(tenant_id=tenant_id, queue_id=queue_id, state=state, item__restricted=False)
            .select_related("claimed_by", "first_reviewer").only(
                "id", "tenant_id", "item_id", "queue_id", "use_case_id", "reasons", "priority", "due_at", "state",
                "claimed_by__id", "claimed_by__username", "claim_expires_at", "first_reviewer__id",
                "first_reviewer__username", "created_at"))


def _after(qs, priority, due_at, pk) -> QuerySet[ReviewTask]:
    return qs.filter(TupleGreaterThan(Tuple(F("priority"), F("due_at"), F("id")), (priority, due_at, pk)))


def _task_page(rows: list, *, limit: int, first: bool) -> TaskPage:
    page = TaskPage(tasks=rows[:limit], first=first)
    if len(rows) > limit:
        page.next_cursor = cursor_encode(rows[limit - 1])
    return page


_TASK_PAGE_FIRST = PreparedQuery(ReviewTask, lambda tenant_id, queue_id, state: (
    _task_page_tasks(tenant_id, queue_id, state).order_by("priority", "due_at", "id")[:PAGE_SIZE + 1]),
    tenant_id=int, queue_id=int, state=str)
_TASK_PAGE_AFTER = PreparedQuery(ReviewTask, lambda tenant_id, queue_id, state, priority, due_at, pk: (
    _after(_task_page_tasks(tenant_id, queue_id, state), priority, due_at, pk)
    .order_by("priority", "due_at", "id")[:PAGE_SIZE + 1]),
    tenant_id=int, queue_id=int, state=str, priority=int, due_at=datetime, pk=int)


def review_task_restrict(qs, *, tenant, user) -> QuerySet[ReviewTask]:
    """The tasks of `qs` in queues the user may see (review_queue_restrict, action "view")."""
    qs = qs.filter(tenant=tenant)
    if reads_all_work(user=user, tenant=tenant):
        return qs
    return qs.filter(queue__in=review_queue_restrict(ReviewQueue.objects.all(), tenant=tenant, user=user).values("pk"))


def review_task_get(*, tenant, user, pk) -> ReviewTask:
    """A task in a queue the user may see; another team's raises DoesNotExist."""
    return (review_task_restrict(ReviewTask.objects.all(), tenant=tenant, user=user)
            .select_related("queue", "item", "item__use_case", "item__use_case__escalation_contact", "use_case",
                            "item__release__threshold_set", "claimed_by", "first_reviewer")
            .get(pk=pk))


def review_task_list_for_api(*, tenant, user, queue=None, state: str | None = None) -> QuerySet[ReviewTask]:
    qs = review_task_restrict(ReviewTask.objects.all(), tenant=tenant, user=user).select_related(
        "queue", "use_case", "claimed_by")
    if queue is not None:
        qs = qs.filter(queue=queue)
    if state:
        qs = qs.filter(state=state)
    return qs


def review_task_held(*, user, queue=None, tenant=None, now=None) -> ReviewTask | None:
    """The task the user holds (an unexpired claim), in this queue or anywhere in the tenant."""
    now = now or timezone.now()
    if queue is not None:
        return _HELD_IN_QUEUE.first(user_id=user.pk, queue_id=queue.pk, now=now)
    return _held(user.pk, now).filter(tenant=tenant).select_related("queue").order_by("claimed_at").first()


def _held(user_id, now) -> QuerySet[ReviewTask]:
    return ReviewTask.objects.filter(claimed_by=user_id, state__in=OPEN_TASK_STATES, claim_expires_at__gte=now,
                                     item__restricted=False)


# Asked by every queue page: built once per process.
_HELD_IN_QUEUE = PreparedQuery(ReviewTask, lambda user_id, queue_id, now: (
    _held(user_id, now).filter(queue=queue_id).select_related("queue").order_by("claimed_at", "pk")[:1]),
    user_id=int, queue_id=int, now=datetime)


def review_tasks_held_list(*, tenant, user, now=None) -> list[ReviewTask]:
    now = now or timezone.now()
    return list(ReviewTask.objects.for_tenant(tenant)
                .filter(claimed_by=user, state__in=OPEN_TASK_STATES, claim_expires_at__gte=now, item__restricted=False)
                .select_related("queue", "use_case").order_by("claimed_at")[:20])


def review_work_today(*, tenant, user, now=None) -> dict:
    """The user's own decisions since midnight (local time): per queue and in total."""
    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (ReviewDecision.objects.for_tenant(tenant).filter(actor=user, created_at__gte=start)
            .values("task__queue_id").annotate(n=Count("id")))
    per_queue = {row["task__queue_id"]: row["n"] for row in rows}
    return {"per_queue": per_queue, "total": sum(per_queue.values())}


@dataclass
class Clearance:
    use_case: UseCase
    briefing_confirmed: bool
    trained: bool

    @property
    def cleared(self) -> bool:
        return self.briefing_confirmed and self.trained


def review_clearance(*, tenant, user, use_cases) -> list[Clearance]:
    """Per use case: has the user confirmed its current briefing, and is a training recorded?"""
    ids = [u.pk for u in use_cases]
    trained = set(TrainingRecord.objects.for_tenant(tenant).filter(user=user, use_case_id__in=ids)
                  .values_list("use_case_id", flat=True))
    confirmed: dict[int, set[str]] = {}
    for use_case_id, digest in (BriefingConfirmation.objects.for_tenant(tenant)
                                .filter(user=user, use_case_id__in=ids).values_list("use_case_id", "briefing_hash")):
        confirmed.setdefault(use_case_id, set()).add(digest)
    return _clearances(use_cases, trained, confirmed)


def _clearances(use_cases, trained: set[int], confirmed: dict[int, set[str]]) -> list[Clearance]:
    return [Clearance(use_case=u, briefing_confirmed=briefing_version(u) in confirmed.get(u.pk, set()),
                      trained=u.pk in trained) for u in use_cases]


# A queue page's clearance: its two reads built once per process.
_TRAINED_FOR_QUEUE = PreparedQuery(TrainingRecord, lambda tenant_id, user_id, queue_id: (
    TrainingRecord.objects.filter(tenant_id=tenant_id, user_id=user_id, use_case__review_queues=queue_id)
    .only("id", "use_case_id").order_by()), tenant_id=int, user_id=int, queue_id=int)
_CONFIRMED_FOR_QUEUE = PreparedQuery(BriefingConfirmation, lambda tenant_id, user_id, queue_id: (
    BriefingConfirmation.objects.filter(tenant_id=tenant_id, user_id=user_id, use_case__review_queues=queue_id)
    .only("id", "use_case_id", "briefing_hash").order_by()), tenant_id=int, user_id=int, queue_id=int)


def review_queue_clearance(*, tenant, user, queue, use_cases) -> list[Clearance]:
    """review_clearance for the queue's own use cases (`use_cases`: review_queue_use_cases of the queue)."""
    values = {"tenant_id": tenant.pk, "user_id": user.pk, "queue_id": queue.pk}
    trained = {record.use_case_id for record in _TRAINED_FOR_QUEUE.all(**values)}
    confirmed: dict[int, set[str]] = {}
    for confirmation in _CONFIRMED_FOR_QUEUE.all(**values):
        confirmed.setdefault(confirmation.use_case_id, set()).add(confirmation.briefing_hash)
    return _clearances(use_cases, trained, confirmed)


def may_work_queue(*, user, queue) -> bool:
    """The queue's work permission, granted on this queue to the user or to their team (no role grants it)."""
    return user.has_perm("reviews.work_reviewqueue") or user.has_perm("reviews.work_reviewqueue", queue)


# --- grants: teams, queues, members -------------------------------------------------------------------

def review_team_get(*, tenant, name: str) -> ReviewTeam | None:
    return ReviewTeam.objects.for_tenant(tenant).filter(name=name).select_related("group").first()


def review_team_names(*, tenant) -> list[str]:
    """The teams a queue may be granted by: the existing teams, the queues' teams and the use cases'
    departments (a department's queues take its name when they are created)."""
    names = set(ReviewTeam.objects.for_tenant(tenant).values_list("name", flat=True))
    names |= set(ReviewQueue.objects.for_tenant(tenant).values_list("team", flat=True))
    names |= set(UseCase.objects.for_tenant(tenant).values_list("department", flat=True))
    return sorted(name for name in names if name)


def review_team_members(*, tenant) -> dict[str, list]:
    """{team name: [active members of the tenant in its group]}, by user name."""
    members = {m.user_id: m.user for m in members_active(tenant=tenant)}
    out: dict[str, list] = {}
    for team in ReviewTeam.objects.for_tenant(tenant).prefetch_related("group__user_set"):
        out[team.name] = sorted((u for u in team.group.user_set.all() if u.pk in members),
                                key=lambda u: u.username)
    return out


def review_queue_grants(*, tenant) -> list[tuple[ReviewQueue, list]]:
    """Each queue of the tenant with the active members granted it on their own (not through a team)."""
    members = {m.user_id for m in members_active(tenant=tenant)}
    out = []
    for queue in ReviewQueue.objects.for_tenant(tenant).order_by("team", "name"):
        # guardian annotates its result `Any | list[str]`; without attach_perms it is a query set of users.
        users = cast("QuerySet[User]", get_users_with_perms(queue, only_with_perms_in=["work_reviewqueue"],
                                                            with_group_users=False, with_superusers=False))
        out.append((queue, sorted((u for u in users if u.pk in members), key=lambda u: u.username)))
    return out


def user_in_team(*, user, tenant, name: str) -> bool:
    return ReviewTeam.objects.for_tenant(tenant).filter(name=name, group__user=user).exists()


def review_task_items(*, tasks, use_cases) -> list[WorkItem]:
    """The work items of a page of tasks, with what their identities and the page's access record read, in
    one query whatever the page's length (the use cases are the queue's, loaded already)."""
    by_id = {u.pk: u for u in use_cases}
    ids = {t.item_id for t in tasks}
    if not ids:
        return []
    items = list(WorkItem.objects.filter(pk__in=ids).only("id", "tenant_id", "use_case_id", "fields", "payload",
                                                            "restricted"))
    items = [item for item in items if item.use_case_id in by_id]
    for item in items:
        item.use_case = by_id[item.use_case_id]
    return items


def review_task_identities(*, tasks, use_cases, items: list[WorkItem] | None = None) -> dict:
    """{item_id: ItemIdentity} for a page of tasks: file names and title fields of their items, in two or
    three queries whatever the page's length (`items`: review_task_items of the page, when loaded already)."""
    if items is None:
        items = review_task_items(tasks=tasks, use_cases=use_cases)
    return work_item_identities(items=items) if items else {}


def review_items_for_tasks(*, tasks) -> dict:
    """The tasks' work items with their fields only (no payload), in one query: {item_id: item}."""
    ids = {t.item_id for t in tasks}
    if not ids:
        return {}
    return {i.pk: i for i in WorkItem.objects.filter(pk__in=ids).only("id", "tenant_id", "fields", "reasons")}


def review_task_bulk_approvable(*, task, queue, item, use_case, user=None) -> bool:
    """Low risk: a review (not clarification) task of a minimal or limited risk use case, nobody else
    holds it, and no field carries a validation or guardrail message."""
    if queue.kind != QueueKind.REVIEW or use_case is None:
        return False
    if use_case.risk_tier not in (RiskTier.MINIMAL, RiskTier.LIMITED):
        return False
    if task.state not in (TaskState.OPEN, TaskState.CLAIMED):
        return False
    if task.state == TaskState.CLAIMED and task.claimed_by_id not in (None, getattr(user, "pk", None)) \
            and task.claim_expires_at and task.claim_expires_at >= timezone.now():
        return False
    fields = item.fields if item is not None else {}
    return bool(fields) and not any((spec or {}).get("reasons") for spec in fields.values())


def review_task_timeline(*, task) -> list[dict]:
    """The item's processing history, oldest first: runs with their steps, review tasks and decisions,
    and the audit events about the item, its runs and tasks (actor names in one query)."""
    item = task.item
    runs = list(Run.objects.filter(item=item).select_related("release").order_by("created_at", "pk"))
    steps: dict[int, list] = {}
    for step in StepRun.objects.filter(run__in=runs).order_by("run_id", "started_at", "pk"):
        steps.setdefault(step.run_id, []).append(step)
    tasks = list(ReviewTask.objects.filter(item=item).select_related("queue").order_by("created_at", "pk"))
    decisions = list(ReviewDecision.objects.filter(item=item).select_related("actor").order_by("created_at", "pk"))
    refs = (Q(object_type="automations.workitem", object_id=str(item.pk))
            | Q(object_type="automations.run", object_id__in=[str(r.pk) for r in runs])
            | Q(object_type="reviews.reviewtask", object_id__in=[str(t.pk) for t in tasks]))
    events = list(AuditEvent.objects.filter(tenant_id=item.tenant_id).filter(refs)
                  .order_by("occurred_at", "sequence")[:300])
    names = dict(get_user_model().objects.filter(pk__in={e.actor_user_id for e in events if e.actor_user_id})
                 .values_list("pk", "username"))
    entries: list[dict[str, Any]] = []
    for run in runs:
        entries.append({"kind": "run", "at": run.created_at, "run": run, "steps": steps.get(run.pk, [])})
    for other in tasks:
        entries.append({"kind": "task", "at": other.created_at, "task": other, "current": other.pk == task.pk})
    for decision in decisions:
        entries.append({"kind": "decision", "at": decision.created_at, "decision": decision})
    for event in events:
        entries.append({"kind": "event", "at": event.occurred_at, "event": event,
                        "actor": names.get(event.actor_user_id) or event.actor_kind})
    order = {"run": 0, "task": 1, "decision": 2, "event": 3}
    entries.sort(key=lambda e: (e["at"], order[e["kind"]]))
    return entries


def review_decisions_for_item(*, item) -> list:
    return list(ReviewDecision.objects.filter(item=item).select_related("actor").order_by("created_at", "pk"))


def training_record_list(*, tenant, use_case=None, user=None):
    qs = TrainingRecord.objects.for_tenant(tenant).select_related("use_case", "user", "confirmed_by")
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if user is not None:
        qs = qs.filter(user=user)
    return qs.order_by("-held_on", "-pk")


def briefing_notices_unread(*, tenant, user, use_case=None) -> QuerySet[BriefingNotice]:
    """Briefing changes this clerk was told of and has not read (or answered by confirming) yet, newest first."""
    qs = (BriefingNotice.objects.for_tenant(tenant).filter(user=user, read_at__isnull=True)
          .select_related("change__use_case", "change__change_request").order_by("-change__created_at", "-pk"))
    return qs.filter(change__use_case=use_case) if use_case is not None else qs


def briefing_notice_get(*, tenant, user, pk: int) -> BriefingNotice:
    """One of this clerk's own notices; another person's raises DoesNotExist."""
    return BriefingNotice.objects.for_tenant(tenant).select_related("change__use_case").get(user=user, pk=pk)


def briefing_confirmation_latest(*, tenant, use_case, user):
    return (BriefingConfirmation.objects.for_tenant(tenant).filter(use_case=use_case, user=user)
            .order_by("-confirmed_at").first())


def review_task_list_in_queue(*, queue, pks) -> list[ReviewTask]:
    return list(ReviewTask.objects.filter(tenant_id=queue.tenant_id, queue=queue, pk__in=list(pks))
                .order_by("priority", "due_at", "id"))


def review_task_file_get(*, task, pk):
    """A file of the task's item; another item's file raises DoesNotExist."""
    return WorkItemFile.objects.filter(tenant_id=task.tenant_id, item_id=task.item_id).get(pk=pk)


def review_task_files(*, task) -> list:
    return list(WorkItemFile.objects.filter(tenant_id=task.tenant_id, item_id=task.item_id).order_by("pk"))
