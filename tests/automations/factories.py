"""Small builders for registry state, all through the real services."""
from audit.actors import SYSTEM
from automations.choices import ChangeKind, Engine, Label, RiskTier
from automations.evaluation.services import evaluations, test_cases
from automations.registry.selectors import use_case_may
from automations.registry.services import changes, use_cases, versions
from portal.choices import Role

INVOICE_INPUTS = [{"name": "document", "type": "text", "required": True, "send_to_model": False}]
INVOICE_OUTPUTS = [
    {"name": "invoice_number", "type": "text", "required": True},
    {"name": "iban", "type": "iban", "personal_data": True, "category": "bank"},
]


def make_team(member) -> dict:
    """One person per approver role plus a second automation lead, as the quick start seeds them."""
    team = {str(role): member(role, username=str(role)) for role in Role.values}
    team["automation_lead_2"] = member(Role.AUTOMATION_LEAD, username="automation_lead_2")
    return team


def make_use_case(tenant, actor, key="demo", **documentation):
    # A department: its clerks' team works the use case's queues (tests.reviews.factories.join_team).
    values = {"department": "Buchhaltung", "risk_tier": RiskTier.MINIMAL,
              "input_fields": [{"name": "text", "type": "long_text"}],
              "output_fields": [{"name": "category", "type": "category", "choices": ["a", "b"]}]}
    values.update(documentation)
    return use_cases.use_case_create(actor=actor, tenant=tenant, key=key, title=key.title(),
                                     purpose="Sort incoming documents.", **values)


def make_release(use_case, actor, thresholds=None, engine=Engine.RULES):
    field = use_case.output_fields[0]["name"]
    threshold = versions.version_create(actor=actor, use_case=use_case, kind="threshold_set",
                                        content={"thresholds": thresholds or {field: {"auto": 0.9, "reject": 0.3}}})
    threshold = versions.version_submit(actor=actor, version=threshold)
    config = versions.version_create(actor=actor, use_case=use_case, kind="engine_config",
                                     content={"engine": engine, "parameters": {}, "fields": [field]})
    config = versions.version_submit(actor=actor, version=config)
    return versions.release_create(actor=actor, use_case=use_case, threshold_set=threshold, engine_configs=[config])


def approve_all(cr, team, skip=()):
    """Every open role approved by the team member named after it (the second lead stands in for the
    first when the first is the author). The team's department owner approves for their own department only:
    a use case that names no department owner and is not theirs yet is granted to them first, as the
    automation lead would on the grants page."""
    for role in list(cr.required_roles):
        if role in skip:
            continue
        person = team[role]
        if person == cr.author:
            person = team["automation_lead_2"]
        if (role == Role.DEPARTMENT_OWNER and cr.use_case is not None and cr.use_case.department_owner_id is None
                and not use_case_may(use_case=cr.use_case, user=person, action="department")):
            use_cases.use_case_owner_grant(actor=SYSTEM, use_case=cr.use_case, user=person)
        cr = changes.change_request_approve(actor=person, change_request=cr, role=role)
    return cr


SAMPLE_TEXT = "Rechnung Nr. 4711 vom 1. Dezember 2026"


def default_test_case(use_case) -> dict:
    """One test case for any use case: a sample text as its first text input (or as text) and a value of the
    right form for its first output field."""
    spec = use_case.output_fields[0]
    kind = spec.get("type", "text")
    value = ((spec.get("choices") or ["a"])[0] if kind == "category" else
             "1" if kind in ("decimal", "integer") else "2026-12-01" if kind == "date" else "4711")
    text_inputs = [f["name"] for f in use_case.input_fields if f.get("type", "text") in ("text", "long_text")]
    case = {"title": "Beispiel", "expected": {spec["name"]: value}}
    if text_inputs:
        case["payload"] = {text_inputs[0]: SAMPLE_TEXT}
    else:
        case["text"] = SAMPLE_TEXT
    return case


def evaluate_release(release, actor, cases=None):
    """Test cases for the release's use case (`cases`: keyword arguments of test_case_create; else one default
    case when it has none) and an evaluation of the release, carried out in this process by the services the
    worker runs. Returns the finished evaluation."""
    use_case = release.use_case
    if cases is None and not use_case.test_cases.filter(is_active=True).exists():
        cases = [default_test_case(use_case)]
    for case in cases or []:
        test_cases.test_case_create(actor=actor, use_case=use_case, **case)
    return evaluations.evaluation_run_now(actor=actor, release=release)


def put_live(use_case, team, release, status="production", description="live", test_cases=None):
    """The one way a test puts a use case live: label `release` with `status` and move the use case there,
    each through a change request approved by the team (approve_all). The production label needs a passing
    evaluation of the release: it is run first on `test_cases` (see evaluate_release). Returns the use case,
    refreshed."""
    lead = team["automation_lead"]
    if status == Label.PRODUCTION:
        evaluation = evaluate_release(release, lead, test_cases)
        assert evaluation.passed, evaluation.misses
    for kind, payload in ((ChangeKind.LABEL_MOVE, {"label": status, "release_id": release.pk}),
                          (ChangeKind.STATUS_CHANGE, {"to": status})):
        cr = changes.change_request_create(actor=lead, tenant=use_case.tenant, use_case=use_case, kind=kind,
                                           title=kind, description=description, payload=payload)
        approve_all(cr, team)
    use_case.refresh_from_db()
    return use_case


def go_live(use_case, team, status="production", engine=Engine.RULES):
    """Label a fresh release and move the use case to `status` through approved change requests."""
    release = make_release(use_case, team["automation_lead"], engine=engine)
    put_live(use_case, team, release, status=status, description="go live")
    return release


DOC_RULES = [
    {"category": "invoice", "name": "Rechnung", "keywords": ["rechnung", "rechnungsnummer"], "weight": 3},
    {"category": "reminder", "name": "Mahnung", "keywords": ["mahnung", "zahlungserinnerung"], "weight": 3},
    {"category": "delivery_note", "name": "Lieferschein", "keywords": ["lieferschein"], "weight": 3},
]


def make_rules_use_case(tenant, team, key="belege", status="production", auto=0.7, reject=0.3, parameters=None,
                        **documentation):
    """A document classification use case driven by the rules engine, live in `status`; `parameters` go to the
    engine's configuration besides its rules."""
    from automations.registry.services import versions

    lead = team["automation_lead"]
    values = {"input_fields": [{"name": "text", "type": "long_text", "required": False}],
              "output_fields": [{"name": "document_class", "type": "category", "required": True,
                                 "choices": ["invoice", "reminder", "delivery_note", "other"]}],
              "escalation_contact": team["department_owner"], "manual_fallback": "Beleg manuell ablegen."}
    values.update(documentation)
    use_case = make_use_case(tenant, lead, key=key, **values)
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set",
        content={"thresholds": {"document_class": {"auto": auto, "reject": reject}}}))
    config = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config",
        content={"engine": "rules", "fields": ["document_class"],
                 "parameters": {"field": "document_class", "default": "other", "rules": DOC_RULES,
                                **(parameters or {})}}))
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=[config])
    return put_live(use_case, team, release, status=status)
