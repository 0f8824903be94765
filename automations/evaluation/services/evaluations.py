"""Evaluation runs: a release (a draft one too) against the use case's active test cases, in the worker, with
its progress on the row. Each case goes through the release's steps as a dry run takes an item
(automations.execution.services.dry_run.release_trial): no work item, no delivery, no review task. The figures
come from automations.evaluation.metrics; the verdict is against the use case's quality targets."""
import logging
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from audit.services.events import audit_event_record
from automations.engines.base import InputFile
from automations.evaluation.choices import EvaluationStatus
from automations.evaluation.metrics import CaseOutcome, evaluate, field_results, verdict
from automations.evaluation.models import EvaluationResult, EvaluationRun, QualityTestCase
from automations.evaluation.selectors import evaluation_list, quality_test_case_list
from automations.execution.services.dry_run import release_trial
from automations.fields import labels_by_name
from portal.files import sniff
from portal.jobs import task_send_on_commit
from portal.permissions import require_perm

logger = logging.getLogger(__name__)


def evaluation_start(*, actor, release, send: bool = True) -> EvaluationRun:
    """Queue an evaluation of `release` on the use case's active test cases (sent to the worker after commit;
    with `send` False the caller carries it out itself, see evaluation_run_now)."""
    actor = as_actor(actor)
    use_case = release.use_case
    require_perm(actor, use_case.tenant, "automations.add_evaluationrun")
    with transaction.atomic():
        total = quality_test_case_list(use_case=use_case).count()
        if not total:
            raise ValidationError(_("%(uc)s has no active test case yet: create or import some first.")
                                  % {"uc": use_case.key})
        if evaluation_list(release=release).filter(status__in=(EvaluationStatus.QUEUED,
                                                               EvaluationStatus.RUNNING)).exists():
            raise ValidationError(_("An evaluation of R%(n)s is already queued or running.") % {"n": release.number})
        evaluation = EvaluationRun.objects.create(tenant=use_case.tenant, use_case=use_case, release=release,
                                                  total=total, created_by=actor.user)
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="evaluation.started", obj=evaluation,
                           details={"use_case": use_case.key, "release": release.number, "test_cases": total})
        if send:
            task_send_on_commit("automations.run_evaluation", evaluation.pk)
    return evaluation


def _take(evaluation_id: int, task_id: str) -> EvaluationRun | None:
    with transaction.atomic():
        evaluation = (EvaluationRun.objects.select_for_update(of=("self",))
                      .select_related("use_case", "use_case__tenant", "release", "created_by")
                      .filter(pk=evaluation_id).first())
        if evaluation is None or evaluation.status != EvaluationStatus.QUEUED:
            return None  # finished, failed, or taken by another worker
        evaluation.status, evaluation.started_at, evaluation.task_id = EvaluationStatus.RUNNING, timezone.now(), task_id
        evaluation.save(update_fields=["status", "started_at", "task_id"])
    return evaluation


def _input_files(case: QualityTestCase, folder: Path) -> list[InputFile]:
    files = []
    if case.file:
        path = Path(case.file.path)
        with case.file.open("rb") as fh:
            head = fh.read(8192)
        files.append(InputFile(name=case.file_name or path.name, content_type=sniff(head), path=path))
    if case.text.strip():
        # A text is given to the steps as a plain-text file is: the document stage fills the text input fields.
        path = folder / f"case-{case.pk}.txt"
        path.write_text(case.text, encoding="utf-8")
        files.append(InputFile(name="text.txt", content_type="text/plain", path=path))
    return files


def _history_id(case: QualityTestCase) -> int | None:
    return case.history.order_by("-history_id").values_list("history_id", flat=True).first()


def _run_case(evaluation: EvaluationRun, case: QualityTestCase, actor, folder: Path) -> tuple[CaseOutcome, list]:
    try:
        trial = release_trial(release=evaluation.release, payload=case.payload, files=_input_files(case, folder),
                              actor=actor)
    except Exception as exc:  # a defect on one case is a failed case, never a lost evaluation
        logger.exception("Evaluation %s: test case %s failed.", evaluation.pk, case.pk)
        return CaseOutcome(expected=dict(case.expected), outcome="failed", error=str(exc)[:2000] or repr(exc)), []
    predicted = {name: (s.value, float(s.confidence), s.engine) for name, s in trial.chosen.items()}
    return CaseOutcome(expected=dict(case.expected), predicted=predicted, outcome=trial.outcome,
                       error=trial.error), trial.reasons


def evaluation_execute(*, evaluation_id: int, task_id: str = "") -> EvaluationRun | None:
    """The worker's part: every active test case through the release, one result row each (the progress), then
    the figures and the verdict. Engines run outside any transaction."""
    evaluation = _take(evaluation_id, task_id)
    if evaluation is None:
        return None
    actor = evaluation.created_by or SYSTEM
    use_case = evaluation.use_case
    specs = {f["name"]: f for f in use_case.output_fields}
    outcomes: list[CaseOutcome] = []
    try:
        cases = list(quality_test_case_list(use_case=use_case))
        EvaluationRun.objects.filter(pk=evaluation.pk).update(total=len(cases))
        with tempfile.TemporaryDirectory(prefix="evaluation-") as folder:
            for case in cases:
                outcome, reasons = _run_case(evaluation, case, actor, Path(folder))
                outcomes.append(outcome)
                right = field_results(outcome, specs)
                EvaluationResult.objects.create(
                    tenant=evaluation.tenant, evaluation=evaluation, test_case=case, case_version=_history_id(case),
                    title=case.title, tags=list(case.tags), expected=dict(case.expected),
                    predicted={name: {"value": v, "confidence": round(c, 4), "engine": e}
                               for name, (v, c, e) in outcome.predicted.items()},
                    outcome=outcome.outcome, correct=not outcome.error and all(right.values()), field_correct=right,
                    reasons=reasons[:50], error=outcome.error)
                EvaluationRun.objects.filter(pk=evaluation.pk).update(done=F("done") + 1)
        metrics = evaluate([CaseOutcome(expected=o.expected, predicted={k: v[:2] for k, v in o.predicted.items()},
                                        outcome=o.outcome, error=o.error) for o in outcomes],
                           list(use_case.output_fields))
    except Exception as exc:
        logger.exception("Evaluation %s failed.", evaluation.pk)
        with transaction.atomic():
            EvaluationRun.objects.filter(pk=evaluation.pk).update(
                status=EvaluationStatus.FAILED, error=str(exc)[:4000] or repr(exc), finished_at=timezone.now())
            audit_event_record(actor=SYSTEM, tenant=evaluation.tenant, event_type="evaluation.failed", obj=evaluation,
                               details={"use_case": use_case.key, "release": evaluation.release.number})
        raise
    with transaction.atomic():
        evaluation = EvaluationRun.objects.select_for_update().get(pk=evaluation.pk)
        targets = dict(use_case.quality_targets or {})
        misses = verdict(metrics, targets, labels_by_name(use_case.output_fields))
        evaluation.status, evaluation.finished_at = EvaluationStatus.SUCCEEDED, timezone.now()
        evaluation.metrics, evaluation.targets, evaluation.misses = metrics, targets, misses
        evaluation.passed = not misses
        evaluation.save(update_fields=["status", "finished_at", "metrics", "targets", "misses", "passed"])
        audit_event_record(actor=SYSTEM, tenant=evaluation.tenant, event_type="evaluation.finished", obj=evaluation,
                           details={"use_case": use_case.key, "release": evaluation.release.number,
                                    "cases": metrics["cases"], "passed": evaluation.passed,
                                    "correction_rate": metrics["correction_rate"],
                                    "automatic_share": metrics["automation"]["share"], "misses": len(misses)})
    return evaluation


def evaluation_run_now(*, actor, release) -> EvaluationRun:
    """Start an evaluation and carry it out in this process, sending nothing to a worker (the quick start's
    seeding, where no worker runs yet, and tests): the same service the worker calls."""
    evaluation = evaluation_start(actor=actor, release=release, send=False)
    return evaluation_execute(evaluation_id=evaluation.pk) or evaluation
