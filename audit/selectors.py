"""Reads of the DSB area, always inside one tenant's chains.

The event search is built for millions of events: one chain, an optional time range, newest first, with
keyset pagination on (occurred_at, sequence) — the index `*_chain_time` serves it directly — and never an
exact count over everything (a page knows only whether there is a next one)."""
import base64
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from audit.choices import RequestStatus
from audit.models import DataSubjectRequest, Pseudonym, SubjectReference, VerificationRun
from audit.pseudonyms import pseudonym_lookup
from audit.streams import AUDIT, STREAMS, Stream

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
        from automations.models import UseCase

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


def event_search(*, tenant, filters: EventFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> EventPage:
    """One page of events, newest first, and the cursor of the next page (None on the last)."""
    queryset = event_queryset(tenant=tenant, filters=filters)
    if cursor:
        moment, sequence = _decode_cursor(cursor)
        queryset = queryset.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, sequence__lt=sequence))
    rows = list(queryset.order_by("-occurred_at", "-sequence")[: limit + 1])
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = _encode_cursor(rows[-1].occurred_at, rows[-1].sequence)
    return EventPage(events=rows, next_cursor=following)


def actor_names(events) -> dict[int, str]:
    ids = {event.actor_user_id for event in events if event.actor_user_id}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}


def event_page_with_actors(page: EventPage) -> EventPage:
    page.actors = actor_names(page.events)
    for event in page.events:
        event.actor_name = page.actors.get(event.actor_user_id, "")
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
    from audit.registry import all_types

    access = {"personal_data.viewed", "pseudonym.revealed", "data_subject.searched", "data_subject.exported"}
    return [t.key for t in all_types() if (t.key in access) == (stream == "access")]


def subject_pseudonyms(*, tenant, identifier: str) -> list[str]:
    """Every pseudonym of the person the identifier names, under any of their identifiers (an e-mail address
    finds the events that name their customer number, through master data)."""
    from audit.pseudonyms import KINDS
    from audit.subjects import AmbiguousSubject, SubjectNotFound, subject_identify

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
    from automations.models import WorkItem

    return WorkItem.objects.for_tenant(tenant).filter(restricted=True).select_related("use_case").order_by(
        "-created_at")
