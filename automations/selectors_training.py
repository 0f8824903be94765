"""Reads of labelled examples and classifier versions; every query is scoped to one tenant."""
from django.db.models import QuerySet

from automations.choices import ExampleSource
from automations.models import ClassifierVersion, LabelledExample, UseCase


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


def classifier_version_latest(*, use_case: UseCase) -> ClassifierVersion | None:
    return classifier_version_list(use_case=use_case).first()


def classifier_version_get(*, tenant, pk: int) -> ClassifierVersion:
    """One classifier version of the tenant; another tenant's raises DoesNotExist."""
    return ClassifierVersion.objects.for_tenant(tenant).select_related("use_case").get(pk=pk)


def training_progress_get(*, use_case: UseCase) -> dict | None:
    """The latest training run's progress as the worker recorded it (see training_progress_record)."""
    from django.core.cache import cache

    from automations.services.training import PROGRESS_KEY

    return cache.get(PROGRESS_KEY.format(tenant=use_case.tenant_id, use_case=use_case.pk))
