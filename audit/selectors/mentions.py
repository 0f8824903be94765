"""Every stored text that mentions a data subject: any text column of any table the erasure may rewrite (history
tables included), scoped to the subject's tenant. Read by the subject search (is the person mentioned
anywhere?) and by the erasure, which counts and replaces what it finds."""
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from audit.selectors.text_search import annotate_text, contains_any, text_filter
from automations.execution.models.work import MasterRecord, Run, WorkItem
from automations.training.models import LabelledExample

# Never rewritten: the append-only audit tables (they hold pseudonyms, never identifiers), the pseudonym
# index and the requests themselves (hashes and encrypted values only), and Django's bookkeeping.
_SKIPPED_TABLES = {
    "audit_auditevent", "audit_accessevent", "audit_subjectreference", "audit_auditanchor", "audit_pseudonym",
    "audit_datasubjectrequest", "audit_verificationrun", "audit_auditchainhead", "audit_accesschainhead",
    "django_migrations", "django_content_type", "auth_permission", "django_session",
}

def _text_columns(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not f.primary_key and not f.choices and not isinstance(f, models.BinaryField)]


def _swept_models() -> Iterator[type]:
    seen = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in _SKIPPED_TABLES or meta.db_table in seen:
            continue
        seen.add(meta.db_table)
        yield model


@dataclass(frozen=True)
class Leaving:
    """Rows the placeholder sweep leaves alone: the restricted items with their records (they stay as they
    are: that is what the retention duty asks for) and, in a dry run, what is about to be deleted."""

    items: list = field(default_factory=list)
    examples: list = field(default_factory=list)
    master_records: list = field(default_factory=list)

    @classmethod
    def of(cls, subject) -> "Leaving":
        return cls(items=[item.pk for item in subject.items], examples=[e.pk for e in subject.examples],
                   master_records=[r.pk for r in subject.master_records])


def _scoped(model, subject, leaving: Leaving):
    """The model's rows that may be rewritten: the tenant's (for tenant-owned tables), without `leaving`."""
    queryset = model._base_manager.all()
    names = {f.name for f in model._meta.concrete_fields}
    if "tenant" in names:
        queryset = queryset.filter(tenant=subject.tenant)
    if leaving.items:
        if model is WorkItem:
            queryset = queryset.exclude(pk__in=leaving.items)
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is WorkItem:
                queryset = queryset.exclude(**{f"{f.name}__in": leaving.items})
            elif isinstance(f, models.ForeignKey) and f.related_model is Run:
                queryset = queryset.exclude(**{f"{f.name}__item__in": leaving.items})
    if leaving.examples and model is LabelledExample:
        queryset = queryset.exclude(pk__in=leaving.examples)
    if leaving.master_records and model in (MasterRecord, MasterRecord.history.model):
        queryset = queryset.exclude(id__in=leaving.master_records)
    return queryset


def mentions(subject, leaving: Leaving | None = None, limit: int | None = None) -> Iterator[tuple]:
    """(model, pk, column, value) of every stored text that mentions one of the person's identifiers."""
    needles = subject.needles()
    leaving = leaving or Leaving()
    found = 0
    for model in _swept_models():
        for column in _text_columns(model):
            queryset = annotate_text(_scoped(model, subject, leaving), [column])
            for pk, value in queryset.filter(text_filter([column], needles)).values_list("pk", column):
                if contains_any(value, needles):
                    yield model, pk, column, value
                    found += 1
                    if limit is not None and found >= limit:
                        return
