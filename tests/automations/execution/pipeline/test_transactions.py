"""No database transaction stays open while an item's input is checked, serialised, parsed or masked, nor while
an engine runs (DESIGN.md: engine and model calls run outside transactions). On the embedded default a
transaction holds SQLite's write lock, and a worker thread busy in a long regular expression keeps the other
threads — and their open transactions — from running: every login and API call would wait for it.

These tests commit for real (transaction=True), so `in_atomic_block` tells whether a transaction is open."""
import pytest
from django.db import connection

from automations.choices import ItemStatus
from automations.engines import limits, rules
from automations.engines.classifier import text as classifier_text
from automations.execution.services import intake
from automations.execution.services import runs as pipeline
from tests.automations.factories import make_rules_use_case
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db(transaction=True)


class Spy:
    """Wraps a function and notes, per call, whether a transaction was open."""

    def __init__(self, fn, *, only=lambda *args, **kwargs: True):
        self.fn, self.only, self.in_transaction = fn, only, []

    def __call__(self, *args, **kwargs):
        if self.only(*args, **kwargs):
            self.in_transaction.append(connection.in_atomic_block)
        return self.fn(*args, **kwargs)


def test_engines_masking_and_input_checks_run_outside_any_transaction(tenant, team, eager_tasks, monkeypatch):
    use_case = make_rules_use_case(tenant, team)
    join_team(team["clerk"], use_case, team["automation_lead"])  # the clerk sends work for their department
    engine = Spy(rules.RulesEngine.suggest)
    text = Spy(rules.item_text)
    checks = Spy(limits.payload_problems)
    hashes = Spy(pipeline._hash, only=lambda value: isinstance(value, dict) and "payload" in value)
    masking = Spy(classifier_text.mask_identifiers)
    monkeypatch.setattr(rules, "item_text", text)
    monkeypatch.setattr(limits, "payload_problems", checks)
    monkeypatch.setattr(pipeline, "_hash", hashes)
    monkeypatch.setattr(classifier_text, "mask_identifiers", masking)

    def engine_that_masks(self, item, **kwargs):
        classifier_text.normalise(item.payload.get("text", ""))  # as the classifier engine does
        return engine(self, item, **kwargs)

    monkeypatch.setattr(rules.RulesEngine, "suggest", engine_that_masks)
    assert not connection.in_atomic_block
    item, _created = intake.work_item_create(actor=team["clerk"], tenant=tenant, use_case_key="belege",
                                             payload={"text": "Rechnung, Rechnungsnummer 4711, info@kunde.de"})
    item.refresh_from_db()
    assert item.status == ItemStatus.APPLIED, item.reasons  # the run happened, after the intake's commit
    assert engine.in_transaction == [False]
    assert text.in_transaction == [False]
    assert masking.in_transaction == [False]
    assert checks.in_transaction == [False, False]  # at intake and before the engines
    assert hashes.in_transaction == [False]


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_runs_start_commits_asynchronously_and_its_routing_durably(tenant, team, eager_tasks, monkeypatch):
    """The start's transaction alone turns synchronous commit off (runs._start says why nothing that matters can
    be lost); routing's outbox rows, review tasks and final status commit durably, and flush the start with them."""
    use_case = make_rules_use_case(tenant, team)
    join_team(team["clerk"], use_case, team["automation_lead"])
    seen: dict[str, str] = {}
    release_get, finish_steps = pipeline._releases.get, pipeline._finish_steps

    def in_start(*args):
        seen["start"] = _synchronous_commit()
        return release_get(*args)

    def in_routing(*args, **kwargs):
        seen["routing"] = _synchronous_commit()
        return finish_steps(*args, **kwargs)

    monkeypatch.setattr(pipeline._releases, "get", in_start)
    monkeypatch.setattr(pipeline, "_finish_steps", in_routing)
    item, _created = intake.work_item_create(actor=team["clerk"], tenant=tenant, use_case_key="belege",
                                             payload={"text": "Rechnung, Rechnungsnummer 4712"})
    item.refresh_from_db()
    assert item.status == ItemStatus.APPLIED, item.reasons
    assert seen == {"start": "off", "routing": "on"}
    assert _synchronous_commit() == "on"  # the session's own setting is untouched
