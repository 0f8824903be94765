"""Reads of test cases and evaluations, tenant-scoped, and the gate's question: which finished evaluation of a
release meets its use case's quality targets as they stand now?"""
from django.utils.translation import gettext as _

from automations.evaluation.choices import EvaluationStatus
from automations.evaluation.metrics import verdict
from automations.evaluation.models import EvaluationResult, EvaluationRun, QualityTestCase
from automations.fields import labels_by_name


def quality_test_case_list(*, use_case, active: bool | None = True):
    cases = QualityTestCase.objects.for_tenant(use_case.tenant_id).filter(use_case=use_case)
    if active is not None:
        cases = cases.filter(is_active=active)
    return cases.order_by("pk")


def quality_test_case_list_for_tenant(*, tenant):
    """Every test case of the tenant, active and retired, by use case (the API's list)."""
    return (QualityTestCase.objects.for_tenant(tenant).select_related("use_case", "created_by")
            .order_by("use_case__key", "pk"))


def quality_test_case_get(*, use_case, pk: int) -> QualityTestCase:
    return QualityTestCase.objects.for_tenant(use_case.tenant_id).select_related("use_case").get(
        use_case=use_case, pk=pk)


def quality_test_case_of_item(*, item) -> QualityTestCase | None:
    """The active test case already taken from a work item, if any."""
    return QualityTestCase.objects.for_tenant(item.tenant_id).filter(item_id=item.pk, is_active=True).first()


def evaluation_list(*, use_case=None, release=None, tenant=None):
    tenant_id = tenant.pk if tenant is not None else (use_case or release).tenant_id
    runs = EvaluationRun.objects.for_tenant(tenant_id).select_related("release", "use_case", "created_by")
    if use_case is not None:
        runs = runs.filter(use_case=use_case)
    if release is not None:
        runs = runs.filter(release=release)
    return runs.order_by("-created_at", "-pk")


def evaluation_get(*, use_case, pk: int) -> EvaluationRun:
    return evaluation_list(use_case=use_case).get(pk=pk)


def evaluation_results(*, evaluation, failing_only: bool = False):
    results = EvaluationResult.objects.for_tenant(evaluation.tenant_id).filter(evaluation=evaluation)
    if failing_only:
        results = results.filter(correct=False)
    return results.order_by("pk")


def evaluation_misses(*, evaluation, use_case=None) -> list[str]:
    """The quality targets a finished evaluation misses against the use case's current targets (empty: it
    passes); an unfinished or failed run has nothing to show for."""
    if evaluation.status != EvaluationStatus.SUCCEEDED:
        return [_("The evaluation has not finished (%(status)s).") % {"status": evaluation.get_status_display()}]
    use_case = use_case or evaluation.use_case
    return verdict(evaluation.metrics, use_case.quality_targets or {}, labels_by_name(use_case.output_fields))


def evaluation_passing(*, release) -> EvaluationRun | None:
    """The newest finished evaluation of exactly this release, if it meets the use case's current targets. An
    older one that passed does not count once a newer one (e.g. on more test cases) misses them."""
    latest = evaluation_list(release=release).filter(status=EvaluationStatus.SUCCEEDED).first()
    if latest is not None and not evaluation_misses(evaluation=latest, use_case=release.use_case):
        return latest
    return None
