"""Dry runs: any release (a draft one too) on uploaded sample items, results shown, nothing applied, no review
task, no escalation — development and test kept apart from production. A dry run's result reaches no production
target: the use case's delivery connectors send it to their sandbox target or only record what they would
have sent (test deliveries, automations.connectors.services.deliveries)."""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from audit.services.events import audit_event_record
from automations.choices import ItemSource, RunTrigger
from automations.engines.base import InputFile
from automations.execution.models.work import WorkItem
from automations.execution.pipeline.context import PipelineContext, StepError, StopPipeline
from automations.execution.pipeline.steps import PREPARE_STEPS
from automations.execution.services.intake import check_payload_size, content_hash_of, read_uploads, store_files
from automations.execution.services.runs import engine_input_for, route_outcome, route_prepare, run_dispatch
from automations.registry.models.versions import Release
from automations.registry.selectors import file_types_accepted
from portal.permissions import require_perm


def dry_run_create(*, actor, release: Release, files=None, payload: dict | None = None) -> list[WorkItem]:
    """One dry-run item per file (or one for the payload), each run through the given release."""
    actor = as_actor(actor)
    use_case = release.use_case
    require_perm(actor, use_case.tenant, "automations.add_release")
    check_payload_size(use_case, payload or {})
    data = read_uploads(files, accepted=file_types_accepted(release=release), use_case_key=use_case.key)
    if not data and not payload:
        raise ValidationError(_("Upload sample files or give input fields."))
    # Hashed before the transaction: nothing of the input is read while it is open.
    samples: list[tuple[list, dict, str]] = [([f], {}, content_hash_of(use_case, {}, [f])) for f in data] \
        or [([], payload or {}, content_hash_of(use_case, payload or {}, []))]
    items = []
    with transaction.atomic():
        for sample_files, sample_payload, digest in samples:
            item = WorkItem.objects.create(
                tenant=use_case.tenant, use_case=use_case, source=ItemSource.DRY_RUN, is_dry_run=True,
                content_hash=digest, payload=sample_payload, created_by=actor.user)
            store_files(item, sample_files)
            run_dispatch(item=item, trigger=RunTrigger.DRY_RUN, release=release)
            items.append(item)
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="dry_run.started", obj=release,
                           details={"use_case": use_case.key, "release": release.number, "items": len(items)})
    return items


# --- a release tried on one input with no work item (automations.evaluation's evaluations) -----------------------

@dataclass
class Trial:
    """The chosen value per field (FieldSuggestion), the reasons, and where routing would send the input
    (`applied`, `review`, `clarification`), or `failed` with the error."""

    outcome: str
    chosen: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    error: str = ""


def release_trial(*, release: Release, payload: dict, files: list[InputFile], actor=SYSTEM) -> Trial:
    """One input through the release's steps as a dry run takes an item — the same steps, engines and routing
    rules, as if the release were in production — but with no work item, run, delivery or review task, and one
    attempt. Engines run outside any transaction; provider calls are recorded (without an item) like the
    playground's. The caller has checked the permission."""
    use_case = release.use_case
    prefetch_related_objects([release], "engine_configs")
    payload = dict(payload or {})
    ctx = PipelineContext(item=None, run=None, use_case=use_case, release=release,
                          engine_input=engine_input_for(use_case=use_case, payload=payload, files=files,
                                                        actor=actor, tenant=use_case.tenant),
                          tenant=use_case.tenant, payload=payload, dry_run=True)
    for step in PREPARE_STEPS:
        try:
            step.run(ctx)
        except StepError as exc:
            return Trial(outcome="failed", chosen=dict(ctx.chosen), reasons=list(ctx.reasons),
                         error=f"{step.name}: {exc}")
        except StopPipeline:
            break
    all_auto = route_prepare(ctx)
    return Trial(outcome=route_outcome(ctx, all_auto=all_auto, may_apply=True), chosen=dict(ctx.chosen),
                 reasons=list(ctx.reasons))
