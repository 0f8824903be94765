"""Registry state the integration tests share, built through the real services (also in subprocesses)."""
from automations.choices import ChangeKind
from automations.registry.services import changes, versions
from tests.automations.factories import DOC_RULES, approve_all, make_use_case


def live_use_case(tenant, team, *, key="belege", delay=0.0, status="production"):
    """A document classification use case on the rules engine, live through approved change requests;
    its engine takes `delay` seconds per item in the test worker (worker_hooks.py)."""
    lead = team["automation_lead"]
    use_case = make_use_case(
        tenant, lead, key=key,
        input_fields=[{"name": "text", "type": "long_text", "required": False}],
        output_fields=[{"name": "document_class", "type": "category", "required": True,
                        "choices": ["invoice", "reminder", "delivery_note", "other"]}],
        escalation_contact=team["department_owner"], manual_fallback="Beleg manuell ablegen.")
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set",
        content={"thresholds": {"document_class": {"auto": 0.7, "reject": 0.3}}}))
    config = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config",
        content={"engine": "rules", "fields": ["document_class"],
                 "parameters": {"field": "document_class", "default": "other", "rules": DOC_RULES,
                                "test_delay_seconds": delay}}))
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=[config])
    for kind, payload in ((ChangeKind.LABEL_MOVE, {"label": status, "release_id": release.pk}),
                          (ChangeKind.STATUS_CHANGE, {"to": status})):
        cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=kind, title=kind,
                                           description="live", payload=payload)
        approve_all(cr, team)
    use_case.refresh_from_db()
    return use_case
