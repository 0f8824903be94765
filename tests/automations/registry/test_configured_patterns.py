"""Patterns people configure — guardrails, rules, the validation of a field — run on every item's text: they are
stored only when RE2 can match them in linear time, and one stored before that check is a reason on the item,
never a stalled worker."""
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from automations.engines import validation
from automations.engines.base import EngineInput
from automations.engines.rules import RulesEngine
from automations.execution.pipeline.steps import ValidateStep, guardrail_findings
from automations.registry.services import versions
from tests.automations.factories import make_team, make_use_case

pytestmark = pytest.mark.django_db

LOOK_BEHIND = r"(?<!nicht )garantiert"


@pytest.fixture
def lead(member):
    return make_team(member)["automation_lead"]


def test_a_guardrail_pattern_with_look_around_is_refused_on_saving(tenant, lead):
    use_case = make_use_case(tenant, lead)
    with pytest.raises(ValidationError, match="look-around"):
        versions.version_create(actor=lead, use_case=use_case, kind="guardrail_set",
                                content={"forbidden_patterns": [LOOK_BEHIND]})
    version = versions.version_create(actor=lead, use_case=use_case, kind="guardrail_set",
                                      content={"forbidden_patterns": [r"\bgarantiert\b"]})
    assert version.forbidden_patterns == [r"\bgarantiert\b"]


def test_a_rules_pattern_with_look_around_is_refused_on_saving(tenant, lead):
    use_case = make_use_case(tenant, lead)
    rules = [{"category": "a", "keywords": [], "patterns": [LOOK_BEHIND]}]
    with pytest.raises(ValidationError, match="look-around"):
        versions.version_create(actor=lead, use_case=use_case, kind="engine_config",
                                content={"engine": "rules", "parameters": {"rules": rules}, "fields": ["category"]})


def test_a_field_validation_pattern_with_look_around_is_refused_on_saving(tenant, lead):
    fields = [{"name": "number", "type": "text", "validation": {"pattern": LOOK_BEHIND}}]
    with pytest.raises(ValidationError, match="number"):
        make_use_case(tenant, lead, input_fields=fields)


def test_a_pattern_stored_before_the_check_is_a_reason_and_the_text_is_never_taken_as_checked():
    guardrails = SimpleNamespace(forbidden_phrases=[], forbidden_patterns=[LOOK_BEHIND], personal_data_patterns=[],
                                 required_disclaimers=[], max_length=None)
    findings = guardrail_findings(guardrails, "Das ist garantiert richtig.")
    assert len(findings) == 1 and "cannot be checked" in findings[0].message

    problems = ValidateStep.field_problems({"name": "n", "type": "text", "validation": {"pattern": LOOK_BEHIND}},
                                           "garantiert", validation)
    assert len(problems) == 1 and "look-around" in problems[0]

    item = EngineInput(tenant_id=1, use_case_key="x", payload={"text": "Rechnung garantiert"}, files=[],
                       output_fields=[{"name": "category"}])
    rules = [{"category": "invoice", "keywords": ["rechnung"], "patterns": [LOOK_BEHIND]}]
    result = RulesEngine().suggest(item, parameters={"field": "category", "rules": rules})
    assert result.suggestions[0].value == "invoice"  # the keyword still counts
    assert any("look-around" in reason for reason in result.reasons)
