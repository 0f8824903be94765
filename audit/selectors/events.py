"""Reads of the DSB area, always inside one tenant's chains.

The event search is built for millions of events: one chain, an optional time range, newest first, with
keyset pagination on (occurred_at, sequence) — the index `*_chain_time` serves it directly — and never an
exact count over everything (a page knows only whether there is a next one)."""
import base64
import json
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.choices import RequestStatus
from audit.models import DataSubjectRequest, Pseudonym, SubjectReference, VerificationRun
from audit.models import SubjectReference as Ref
from audit.registry import all_types
from audit.selectors.pseudonyms import KINDS, pseudonym_lookup
from audit.selectors.subjects import AmbiguousSubject, SubjectNotFound, subject_identify
from audit.streams import AUDIT, STREAMS, Stream
from automations.execution.models.work import WorkItem
from automations.registry.models.use_cases import UseCase

PAGE_SIZE = 50
User = get_user_model()


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class EventFilter:
    """What the DSB searches by; empty values do not filter. `subject` is a pseudonym (see
    subject_pseudonyms() for finding it from an identifier)."""

    stream: str = AUDIT.key
    actor: str = ""  # user name
    event_type: str = ""  # exact, or a prefix ending in "." ("work_item.")
    use_case: str = ""  # use case key
    object_type: str = ""  # "automations.workitem"
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    subjects: tuple[str, ...] = ()  # pseudonyms

    @property
    def stream_obj(self) -> Stream:
        return STREAMS.get(self.stream, AUDIT)

    def as_params(self) -> dict:
        """For links and exports (the subjects stay out: they are resolved from the identifier each time)."""
        params = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "subjects" or value in ("", None):
                continue
            params[spec.name] = value.isoformat() if isinstance(value, datetime) else value
        return params

    def without_subjects(self) -> "EventFilter":
        return replace(self, subjects=())


@dataclass
class EventPage:
    events: list
    next_cursor: str | None = None
    actors: dict = field(default_factory=dict)  # user id -> user name, filled by event_page_with_actors()

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def _encode_cursor(moment: datetime, sequence: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{sequence}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, sequence = text.rsplit("|", 1)
        return datetime.fromisoformat(moment), int(sequence)
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("This page link is not valid (any more).") from None


def event_queryset(*, tenant, filters: EventFilter) -> QuerySet:
    """The tenant's events of one stream matching the filter, unordered."""
    stream = filters.stream_obj
    queryset = stream.event_model.objects.filter(tenant=tenant, chain=stream.chain_key(tenant))
    if filters.actor:
        user_id = User.objects.filter(username=filters.actor).values_list("pk", flat=True).first()
        queryset = queryset.filter(actor_user_id=user_id) if user_id else queryset.none()
    if filters.event_type:
        if filters.event_type.endswith("."):
            queryset = queryset.filter(event_type__startswith=filters.event_type)
        else:
            queryset = queryset.filter(event_type=filters.event_type)
    if filters.use_case:
        use_case_id = UseCase.objects.for_tenant(tenant).filter(key=filters.use_case).values_list(
            "pk", flat=True).first()
        by_details = Q(details__use_case=filters.use_case)
        queryset = queryset.filter(
            by_details | Q(object_type="automations.usecase", object_id=str(use_case_id)) if use_case_id
            else by_details)
    if filters.object_type:
        queryset = queryset.filter(object_type=filters.object_type)
    if filters.object_id:
        queryset = queryset.filter(object_id=filters.object_id)
    if filters.since:
        queryset = queryset.filter(occurred_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(occurred_at__lt=filters.until)
    if filters.subjects:
        sequences = SubjectReference.objects.filter(
            tenant=tenant, stream=stream.key, pseudonym__in=filters.subjects).values("sequence")
        queryset = queryset.filter(sequence__in=sequences)
    return queryset


@dataclass(slots=True)
class EventRow:
    """One event as the search shows it: the hashed columns, the hash and the actor's user name."""

    chain: str
    sequence: int
    occurred_at: datetime
    actor_kind: str
    actor_user_id: int | None
    actor_token_id: int | None
    event_type: str
    object_type: str
    object_id: str
    details: dict
    prev_hash: str
    hash: str
    actor_name: str


_ROW_COLUMNS = ("chain", "sequence", "occurred_at", "actor_kind", "actor_user_id", "actor_token_id", "event_type",
                "object_type", "object_id", "details", "prev_hash", "hash")


def _search_sql(*, tenant, filters: EventFilter, cursor: tuple[datetime, int] | None, limit: int):
    """The search as one parameterised statement: the hot path of the DSB area, kept free of ORM query
    building (which costs more than the indexed query itself, bench/audit_search.py). Every value is a
    parameter; table and column names are the models' own."""
    stream = filters.stream_obj
    connection = connections[router.db_for_read(stream.event_model)]
    ops = connection.ops
    table = connection.ops.quote_name(stream.event_model._meta.db_table)
    users = connection.ops.quote_name(User._meta.db_table)
    when = ops.adapt_datetimefield_value
    where, params = ["e.tenant_id = %s", "e.chain = %s"], [tenant.pk, stream.chain_key(tenant)]
    if filters.actor:
        where.append(f"e.actor_user_id = (SELECT id FROM {users} WHERE username = %s)")
        params.append(filters.actor)
    if filters.event_type.endswith("."):
        where.append("e.event_type LIKE %s ESCAPE '\\'")
        params.append(filters.event_type.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    elif filters.event_type:
        where.append("e.event_type = %s")
        params.append(filters.event_type)
    if filters.use_case:
        details = ("e.details ->> 'use_case'" if connection.vendor == "postgresql"
                   else "json_extract(e.details, '$.use_case')")
        use_cases = connection.ops.quote_name(UseCase._meta.db_table)
        where.append(f"({details} = %s OR (e.object_type = 'automations.usecase' AND e.object_id = "
                     f"(SELECT CAST(id AS TEXT) FROM {use_cases} WHERE tenant_id = %s AND key = %s)))")
        params += [filters.use_case, tenant.pk, filters.use_case]
    if filters.object_type:
        where.append("e.object_type = %s")
        params.append(filters.object_type)
    if filters.object_id:
        where.append("e.object_id = %s")
        params.append(filters.object_id)
    if filters.since:
        where.append("e.occurred_at >= %s")
        params.append(when(filters.since))
    if filters.until:
        where.append("e.occurred_at < %s")
        params.append(when(filters.until))
    if filters.subjects:
        refs = connection.ops.quote_name(Ref._meta.db_table)
        marks = ", ".join(["%s"] * len(filters.subjects))
        where.append(f"e.sequence IN (SELECT sequence FROM {refs} WHERE tenant_id = %s AND stream = %s "
                     f"AND pseudonym IN ({marks}))")
        params += [tenant.pk, stream.key, *filters.subjects]
    if cursor is not None:
        where.append("(e.occurred_at, e.sequence) < (%s, %s)")
        params += [when(cursor[0]), cursor[1]]
    columns = ", ".join(f"e.{name}" for name in _ROW_COLUMNS)
    sql = (f"SELECT {columns}, u.username FROM {table} e LEFT JOIN {users} u ON u.id = e.actor_user_id "
           f"WHERE {' AND '.join(where)} ORDER BY e.occurred_at DESC, e.sequence DESC LIMIT %s")
    return connection, sql, [*params, limit]


def _row(values: tuple, connection) -> EventRow:
    values = list(values)
    occurred_at, details = values[2], values[9]
    if isinstance(occurred_at, str):  # SQLite hands back text
        occurred_at = parse_datetime(occurred_at)
    if occurred_at is not None and timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, UTC)
    values[2] = occurred_at
    values[9] = json.loads(details) if isinstance(details, str) else details
    values[12] = values[12] or ""
    return EventRow(*values)


def event_search(*, tenant, filters: EventFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> EventPage:
    """One page of events, newest first, with the actors' user names, and the cursor of the next page (None
    on the last): one indexed query."""
    position = _decode_cursor(cursor) if cursor else None
    connection, sql, params = _search_sql(tenant=tenant, filters=filters, cursor=position, limit=limit + 1)
    with connection.cursor() as db:
        db.execute(sql, params)
        rows = [_row(values, connection) for values in db.fetchall()]
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = _encode_cursor(rows[-1].occurred_at, rows[-1].sequence)
    return EventPage(events=rows, next_cursor=following)


def actor_names(events) -> dict[int, str]:
    ids = {event.actor_user_id for event in events if event.actor_user_id}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}


def event_page_with_actors(page: EventPage) -> EventPage:
    """The page's actor names by user id (the rows carry theirs already)."""
    page.actors = {event.actor_user_id: event.actor_name for event in page.events if event.actor_user_id}
    return page


def event_get(*, tenant, stream: str, sequence: int):
    """One event of the tenant's chain; another tenant's raises DoesNotExist."""
    chosen = STREAMS[stream]
    event = chosen.event_model.objects.get(tenant=tenant, chain=chosen.chain_key(tenant), sequence=sequence)
    event.actor_name = actor_names([event]).get(event.actor_user_id, "")
    return event


def event_type_list(*, tenant, stream: str) -> list[str]:
    """Registered event types (the search's choices); reading the distinct types of millions of rows
    would be a full scan."""
    access = {"personal_data.viewed", "pseudonym.revealed", "data_subject.searched", "data_subject.exported"}
    return [t.key for t in all_types() if (t.key in access) == (stream == "access")]


def subject_pseudonyms(*, tenant, identifier: str) -> list[str]:
    """Every pseudonym of the person the identifier names, under any of their identifiers (an e-mail address
    finds the events that name their customer number, through master data)."""
    found = {p.pseudonym for kind in KINDS if (p := pseudonym_lookup(tenant=tenant, kind=kind, identifier=identifier))}
    try:
        found |= {p.pseudonym for p in subject_identify(tenant=tenant, identifier=identifier).pseudonyms}
    except (AmbiguousSubject, SubjectNotFound, ValueError):
        pass  # a name of several people: only what the identifier itself was recorded as
    return sorted(found)


def pseudonym_get(*, tenant, pseudonym: str) -> Pseudonym:
    return Pseudonym.objects.get(tenant=tenant, pseudonym=pseudonym)


def verification_run_latest(*, tenant) -> VerificationRun | None:
    """The newest finished run that covered this tenant's chains (a run of all chains, or of this one)."""
    return (VerificationRun.objects.filter(Q(tenant__isnull=True) | Q(tenant=tenant), finished_at__isnull=False)
            .order_by("-started_at").first())


def verification_results_for(*, run: VerificationRun, tenant) -> list[dict]:
    keys = {str(tenant.pk), f"{tenant.pk}/access"}
    return [result for result in run.results if result["chain"] in keys]


def request_list(*, tenant, status: str | None = None) -> QuerySet[DataSubjectRequest]:
    queryset = DataSubjectRequest.objects.filter(tenant=tenant).select_related("actor")
    return queryset.filter(status=status) if status else queryset


def request_get(*, tenant, pk: int) -> DataSubjectRequest:
    return request_list(tenant=tenant).get(pk=pk)


def requests_open_by_due_date(*, tenant, limit: int = 10) -> list[DataSubjectRequest]:
    return list(request_list(tenant=tenant, status=RequestStatus.OPEN).order_by("due_at")[:limit])


def restricted_item_list(*, tenant):
    """Items whose processing is restricted (Art. 18 GDPR): only the DSB sees them."""
    return WorkItem.objects.for_tenant(tenant).filter(restricted=True).select_related("use_case").order_by(
        "-created_at")
