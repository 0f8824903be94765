"""Versions and releases: drafts may be revised by their author; a submitted version and a release
never change again."""
import re

import jsonschema
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.choices import Engine
from automations.engines import patterns
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import VERSION_MODELS, EngineConfigVersion, Release, content_hash
from portal.permissions import require_perm

_VARIABLE = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}")


def template_variables(template: str) -> set[str]:
    return set(_VARIABLE.findall(template))


def _validate(kind: str, use_case: UseCase, content: dict) -> None:
    inputs = {f["name"] for f in use_case.input_fields}
    outputs = {f["name"] for f in use_case.output_fields}
    if kind == "prompt_template":
        declared = set(content.get("declared_fields") or [])
        if not declared <= inputs:
            raise ValidationError(_("A prompt may only declare the use case's input fields; unknown: %(f)s")
                                  % {"f": ", ".join(sorted(declared - inputs))})
        blocked = {f["name"] for f in use_case.input_fields
                   if f["name"] in declared and f.get("send_to_model") is False}
        if blocked:
            raise ValidationError(_("These fields may not be sent to a model: %(f)s")
                                  % {"f": ", ".join(sorted(blocked))})
        used = template_variables(content.get("template", "")) | template_variables(content.get("system_prompt", ""))
        if not used <= declared:
            raise ValidationError(_("The template uses fields it does not declare: %(f)s")
                                  % {"f": ", ".join(sorted(used - declared))})
        if content.get("output_schema"):
            try:
                jsonschema.Draft202012Validator.check_schema(content["output_schema"])
            except jsonschema.SchemaError as exc:
                raise ValidationError(_("The output schema is not valid JSON Schema: %(e)s")
                                      % {"e": exc.message}) from exc
        if not 0 <= float(content.get("fixed_confidence", 0.5)) <= 1:
            raise ValidationError(_("A confidence lies between 0 and 1."))
    elif kind == "threshold_set":
        for name, pair in (content.get("thresholds") or {}).items():
            if name not in outputs:
                raise ValidationError(_("%(f)s is not an output field of this use case.") % {"f": name})
            auto, reject = float(pair.get("auto", 1)), float(pair.get("reject", 0))
            if not (0 <= reject <= auto <= 1):
                raise ValidationError(_("%(f)s: thresholds need 0 ≤ reject ≤ auto ≤ 1.") % {"f": name})
    elif kind == "guardrail_set":
        _check_patterns(content.get("forbidden_patterns") or [])
    elif kind == "engine_config":
        if content.get("engine") not in Engine.values:
            raise ValidationError(_("Unknown engine."))
        if content.get("engine") == Engine.RULES:
            rules = (content.get("parameters") or {}).get("rules") or []
            _check_patterns([p for rule in rules if isinstance(rule, dict) for p in rule.get("patterns") or []])
        unknown = set(content.get("fields") or []) - outputs
        if unknown:
            raise ValidationError(_("Not output fields of this use case: %(f)s") % {"f": ", ".join(sorted(unknown))})


def _check_patterns(values) -> None:
    """Configured patterns run on every item's text: only those RE2 matches in linear time are stored."""
    for pattern in values:
        try:
            patterns.check_user_pattern(pattern)
        except patterns.UnsafePattern as exc:
            raise ValidationError(str(exc)) from None


def version_create(*, actor, use_case: UseCase, kind: str, content: dict, change_note: str = ""):
    model = VERSION_MODELS[kind]
    require_perm(actor, use_case.tenant, f"automations.add_{model._meta.model_name}")
    unknown = set(content) - set(model.CONTENT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    _validate(kind, use_case, content)
    with transaction.atomic():
        UseCase.objects.select_for_update().get(pk=use_case.pk)  # numbers versions without gaps or twins
        last = model.objects.filter(use_case=use_case).aggregate(n=Max("number"))["n"] or 0
        version = model(tenant=use_case.tenant, use_case=use_case, number=last + 1, author=as_actor(actor).user,
                        change_note=change_note, **content)
        version.refresh_content_hash()
        version.full_clean()
        version.save()
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="version.created", obj=version,
                           details={"kind": kind, "number": version.number, "content_hash": version.content_hash})
    return version


def _lock_draft(actor, version):
    model = type(version)
    version = model.objects.select_for_update().get(pk=version.pk)
    if version.is_frozen:
        raise ValidationError(_("This version was submitted and can no longer change; create a new version."))
    if as_actor(actor).user != version.author:
        raise PermissionDenied(_("Only the author revises a draft version."))
    return version


def version_revise(*, actor, version, content: dict, change_note: str | None = None):
    _validate(type(version).KIND, version.use_case, {**version.content(), **content})
    with transaction.atomic():
        version = _lock_draft(actor, version)
        for name, value in content.items():
            if name not in type(version).CONTENT_FIELDS:
                raise ValidationError(_("Unknown field %(f)s.") % {"f": name})
            setattr(version, name, value)
        if change_note is not None:
            version.change_note = change_note
        version.refresh_content_hash()
        version.save()
        audit_event_record(actor=actor, tenant=version.tenant, event_type="version.revised", obj=version,
                           details={"content_hash": version.content_hash})
    return version


def version_submit(*, actor, version):
    with transaction.atomic():
        version = _lock_draft(actor, version)
        version.submitted_at = timezone.now()
        version.save(update_fields=["submitted_at"])
        audit_event_record(actor=actor, tenant=version.tenant, event_type="version.submitted", obj=version,
                           details={"content_hash": version.content_hash})
    return version


def release_create(*, actor, use_case: UseCase, threshold_set, engine_configs: list[EngineConfigVersion],
                   prompt_template=None, guardrail_set=None, note: str = "") -> Release:
    require_perm(actor, use_case.tenant, "automations.add_release")
    parts = [threshold_set, prompt_template, guardrail_set, *engine_configs]
    for part in filter(None, parts):
        if part.use_case_id != use_case.pk:
            raise ValidationError(_("A release bundles versions of its own use case only."))
        if not part.is_frozen:
            raise ValidationError(_("%(v)s is still a draft: submit it first.") % {"v": part})
    if not engine_configs:
        raise ValidationError(_("A release needs at least one engine configuration."))
    with transaction.atomic():
        UseCase.objects.select_for_update().get(pk=use_case.pk)
        last = Release.objects.filter(use_case=use_case).aggregate(n=Max("number"))["n"] or 0
        release = Release(tenant=use_case.tenant, use_case=use_case, number=last + 1, threshold_set=threshold_set,
                          prompt_template=prompt_template, guardrail_set=guardrail_set,
                          author=as_actor(actor).user, note=note)
        release.content_hash = content_hash({
            "threshold_set": threshold_set.content_hash,
            "prompt_template": prompt_template.content_hash if prompt_template else None,
            "guardrail_set": guardrail_set.content_hash if guardrail_set else None,
            "engine_configs": sorted(e.content_hash for e in engine_configs),
        })
        release.save()
        release.engine_configs.set(engine_configs)
        audit_event_record(actor=actor, tenant=use_case.tenant, event_type="release.created", obj=release,
                           details={"number": release.number, "manifest": release.manifest(),
                                    "content_hash": release.content_hash})
    return release
