"""Reads of labelled examples and classifier versions; every query is scoped to one tenant."""
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from automations.choices import ExampleSource, FieldType
from automations.registry.models.use_cases import UseCase
from automations.training.models import ClassifierVersion, LabelledExample


def example_list(*, use_case: UseCase, source: str | None = None) -> QuerySet[LabelledExample]:
    qs = LabelledExample.objects.for_tenant(use_case.tenant).filter(use_case=use_case)
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("pk")


def example_counts(*, use_case: UseCase) -> dict[str, int]:
    """Examples per source, e.g. {"import": 560, "correction": 12}."""
    counts: dict[str, int] = {}
    for source in example_list(use_case=use_case).values_list("source", flat=True):
        counts[source] = counts.get(source, 0) + 1
    return counts


def training_examples(*, use_case: UseCase) -> QuerySet[LabelledExample]:
    """What a model is trained on: the use case's own examples (imported and clerks' corrections). The
    demo examples seeded by the quick start count only while there are no others, so that a customer's
    model never learns from invented texts."""
    qs = example_list(use_case=use_case)
    real = qs.exclude(source=ExampleSource.DEMO)
    return real if real.exists() else qs


def example_hashes(*, use_case: UseCase) -> dict[str, list[dict]]:
    """content hash -> the label sets stored for it (for duplicate and conflict checks)."""
    seen: dict[str, list[dict]] = {}
    for content_hash, labels in example_list(use_case=use_case).values_list("content_hash", "labels"):
        seen.setdefault(content_hash, []).append(labels)
    return seen


def classifier_version_list(*, use_case: UseCase) -> QuerySet[ClassifierVersion]:
    return (ClassifierVersion.objects.for_tenant(use_case.tenant).filter(use_case=use_case)
            .select_related("author").order_by("-number"))


def classifier_version_list_for_tenant(*, tenant) -> QuerySet[ClassifierVersion]:
    """Every classifier version of the tenant, by use case, newest first (the API's list)."""
    return (ClassifierVersion.objects.for_tenant(tenant).select_related("use_case", "author")
            .order_by("use_case__key", "-number"))


def classifier_version_latest(*, use_case: UseCase) -> ClassifierVersion | None:
    return classifier_version_list(use_case=use_case).first()


def classifier_version_get(*, tenant, pk: int) -> ClassifierVersion:
    """One classifier version of the tenant; another tenant's raises DoesNotExist."""
    return ClassifierVersion.objects.for_tenant(tenant).select_related("use_case").get(pk=pk)


def classifier_version_get_by_number(*, use_case: UseCase, number: int) -> ClassifierVersion:
    """A use case's version by its number; DoesNotExist for another use case's or tenant's."""
    return classifier_version_list(use_case=use_case).get(number=number)


# Where the training task reports its progress (cache key; written by training_progress_record).
PROGRESS_KEY = "classifier-training:{tenant}:{use_case}"


def training_progress_get(*, use_case: UseCase) -> dict | None:
    """The latest training run's progress as the worker recorded it (see training_progress_record), with
    `active` (queued or running) and `stale`: a run that reported nothing for longer than a task may last
    was interrupted or never picked up (a worker that died leaves its last report behind); it may be
    started again."""
    progress = cache.get(PROGRESS_KEY.format(tenant=use_case.tenant_id, use_case=use_case.pk))
    if not progress:
        return None
    updated = parse_datetime(progress.get("updated_at") or "")
    stale = (progress.get("state") in ("queued", "running") and updated is not None
             and timezone.now() - updated > timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT))
    return {**progress, "stale": stale, "active": progress.get("state") in ("queued", "running") and not stale}


def example_statistics(*, use_case: UseCase, limit: int = 50) -> dict:
    """What the core team checks before training: examples per source, per category field the count of
    each value (and of examples without one), and the texts stored more than once — with the same labels
    (repeats, counted as often as they occur) or with different ones (conflicts: training takes a clerk's
    newest correction, else the most frequent label). Ids, sources and labels only, never the texts."""
    fields = [f["name"] for f in use_case.output_fields if f.get("type") == FieldType.CATEGORY]
    total = 0
    sources: dict[str, int] = {}
    values: dict[str, dict[str, int]] = {name: {} for name in fields}
    missing: dict[str, int] = dict.fromkeys(fields, 0)
    groups: dict[str, list[tuple[int, str, dict]]] = {}
    rows = example_list(use_case=use_case).values_list("pk", "content_hash", "source", "labels")
    for pk, content_hash, source, labels in rows.iterator(chunk_size=2000):
        total += 1
        sources[source] = sources.get(source, 0) + 1
        for name in fields:
            value = str((labels or {}).get(name) or "").strip()
            if value:
                values[name][value] = values[name].get(value, 0) + 1
            else:
                missing[name] += 1
        groups.setdefault(content_hash, []).append((pk, source, labels or {}))
    duplicates: list[dict] = []
    conflicts: list[dict] = []
    for content_hash, members in groups.items():
        if len(members) < 2:
            continue
        entry = {"hash": content_hash[:12],
                 "members": [{"id": pk, "source": source, "labels": labels} for pk, source, labels in members]}
        distinct = {tuple(sorted(m[2].items())) for m in members}
        (conflicts if len(distinct) > 1 else duplicates).append(entry)
    demo = sources.get(ExampleSource.DEMO, 0)
    return {
        "total": total,
        "sources": dict(sorted(sources.items())),
        # Demo examples count for training only while there are no others (training_examples).
        "demo_excluded": bool(demo) and total > demo,
        "fields": {name: {"values": dict(sorted(values[name].items(), key=lambda kv: (-kv[1], kv[0]))),
                          "missing": missing[name]} for name in fields},
        "duplicate_count": len(duplicates), "conflict_count": len(conflicts),
        "duplicates": duplicates[:limit], "conflicts": conflicts[:limit],
    }


# Fewer labelled examples than this give a model whose figures say little: training still runs, with a warning.
FEW_EXAMPLES = 30


def few_examples_warning(count: int) -> str:
    """The warning for a training set (or a trained version) of `count` examples, empty when there are enough."""
    if count >= FEW_EXAMPLES:
        return ""
    return gettext("Only %(n)s labelled examples: a model trained on so few learns little and its figures are "
                   "unreliable. Import at least %(min)s, better several hundred, before proposing it.") % {
        "n": count, "min": FEW_EXAMPLES}
