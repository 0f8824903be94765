"""Reads of the DSB area, always inside one tenant's chains.

The event search is built for millions of events: one chain, an optional time range, newest first, with
keyset pagination on (occurred_at, sequence) — the index `*_chain_time` serves it directly — and never an
exact count over everything (a page knows only whether there is a next one)."""
import base64
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce

from audit.choices import RequestStatus
from audit.models import DataSubjectRequest, Pseudonym, SubjectReference, VerificationRun
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
    """The tenant's events of one stream matching the filter, unordered: the one filter behind the DSB area's
    list, the API and the export. One statement whatever the filter (names are looked up in subqueries), on
    the chain's indexes; Django writes each database's JSON access."""
    return _matching(tenant, filters)


def _matching(tenant, filters: EventFilter, *more: Q) -> QuerySet:
    # The conditions go into one filter() call: each call copies the query, which the hot path of the
    # DSB area would feel (bench/audit_search.py).
    stream = filters.stream_obj
    where = [Q(tenant=tenant, chain=stream.chain_key(tenant))]
    if filters.actor:
        where.append(Q(actor_user_id=Subquery(User.objects.filter(username=filters.actor).values("pk")[:1])))
    if filters.event_type.endswith("."):
        where.append(Q(event_type__startswith=filters.event_type))
    elif filters.event_type:
        where.append(Q(event_type=filters.event_type))
    if filters.use_case:
        use_case_id = UseCase.objects.filter(tenant=tenant, key=filters.use_case).values(
            text=Cast("pk", CharField()))[:1]
        where.append(Q(details__use_case=filters.use_case)
                     | Q(object_type="automations.usecase", object_id=Subquery(use_case_id)))
    if filters.object_type:
        where.append(Q(object_type=filters.object_type))
    if filters.object_id:
        where.append(Q(object_id=filters.object_id))
    if filters.since:
        where.append(Q(occurred_at__gte=filters.since))
    if filters.until:
        where.append(Q(occurred_at__lt=filters.until))
    if filters.subjects:
        where.append(Q(sequence__in=SubjectReference.objects.filter(
            tenant=tenant, stream=stream.key, pseudonym__in=filters.subjects).values("sequence")))
    return stream.event_model.objects.filter(*where, *more)


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


def event_search(*, tenant, filters: EventFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> EventPage:
    """One page of events, newest first, with the actors' user names, and the cursor of the next page (None
    on the last): one indexed query, the filter of event_queryset() ordered and cut."""
    keyset = []
    if cursor:
        moment, sequence = _decode_cursor(cursor)
        # (occurred_at, sequence) < (moment, sequence), with the time as the index's range bound.
        keyset.append(Q(occurred_at__lte=moment) & (Q(occurred_at__lt=moment) | Q(sequence__lt=sequence)))
    actor_name = Coalesce(Subquery(User.objects.filter(pk=OuterRef("actor_user_id")).values("username")[:1]),
                          Value(""))
    rows = [EventRow(*values) for values in _matching(tenant, filters, *keyset).order_by(
        "-occurred_at", "-sequence").values_list(*_ROW_COLUMNS, actor_name)[:limit + 1]]
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
