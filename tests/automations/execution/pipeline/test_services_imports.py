import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from audit.models import AuditEvent
from automations.choices import ItemSource, ItemStatus, RunStatus
from automations.execution.services import imports
from automations.execution.services.intake import UseCaseNotAccepting
from automations.models import Run, WorkItem
from automations.registry.services import use_cases
from portal.problems import MAX_JSON_DEPTH
from reviews.choices import QueueKind
from reviews.models import ReviewTask
from tests.audit.conftest import run_verify
from tests.automations.factories import make_rules_use_case, make_use_case

pytestmark = pytest.mark.django_db

GOOD = [json.dumps({"payload": {"text": f"Rechnung Nr. {n}, Rechnungsnummer steht oben"}, "external_id": f"R-{n}"})
        for n in range(5)]
BAD = ['{"payload": {"text": "abgeschnitten', '["keine", "Zeile"]', json.dumps({"payload": {}, "queue": "x"})]


def test_lines_become_items_in_batches_with_one_audit_event_each_and_run_through_the_pipeline(
        tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    lines = [GOOD[0], GOOD[1], BAD[0], "", GOOD[2], BAD[1], GOOD[3], BAD[2], GOOD[4]]
    report = run_on_commit(imports.work_items_import, actor=team["it_operator"], tenant=tenant,
                           use_case_key="belege", lines=lines, batch_size=3)
    assert (report.created, report.clarification, report.held, report.batches) == (8, 3, 0, 3)
    assert [p.split(":")[0] for p in report.problems] == ["Line 3 of the import", "Line 6 of the import",
                                                          "Line 8 of the import"]
    items = WorkItem.objects.filter(use_case__key="belege")
    assert set(items.values_list("source", flat=True)) == {ItemSource.IMPORT}
    applied = items.filter(status=ItemStatus.APPLIED)
    assert sorted(applied.values_list("external_id", flat=True)) == [f"R-{n}" for n in range(5)]
    assert set(Run.objects.filter(item__in=applied).values_list("status", flat=True)) == {RunStatus.SUCCEEDED}

    unclear = items.filter(status=ItemStatus.CLARIFICATION)
    assert not Run.objects.filter(item__in=unclear).exists()
    kept = unclear.get(reasons__0__startswith="Line 3 of the import")
    assert kept.payload == {"unreadable_line": BAD[0]} and "not a JSON line" in kept.reasons[0]
    assert "unknown keys: queue" in unclear.get(reasons__0__startswith="Line 8").reasons[0]
    assert ReviewTask.objects.filter(item__in=unclear, queue__kind=QueueKind.CLARIFICATION).count() == 3

    events = list(AuditEvent.objects.filter(event_type="work_items.imported").order_by("pk"))
    assert [e.details["lines"] for e in events] == [[1, 3], [5, 7], [8, 9]]
    assert sorted(i for e in events for i in e.details["items"]) == sorted(str(pk) for pk in
                                                                          items.values_list("pk", flat=True))
    assert [e.details["clarification"] for e in events] == [1, 1, 1]
    assert run_verify()[0] == 0


def test_a_suspended_use_case_holds_what_is_imported(tenant, team, run_on_commit):
    use_case = make_rules_use_case(tenant, team)
    use_cases.use_case_suspend(actor=team["automation_lead"], use_case=use_case, reason="Prüfung")
    report = run_on_commit(imports.work_items_import, actor=team["it_operator"], tenant=tenant,
                           use_case_key="belege", lines=GOOD[:2])
    assert (report.created, report.held) == (2, 2)
    assert set(WorkItem.objects.values_list("status", flat=True)) == {ItemStatus.HELD}
    assert not Run.objects.exists()


def test_a_draft_and_an_auditor_are_refused(tenant, team):
    make_use_case(tenant, team["automation_lead"], key="entwurf")
    with pytest.raises(UseCaseNotAccepting):
        imports.work_items_import(actor=team["it_operator"], tenant=tenant, use_case_key="entwurf", lines=GOOD)
    make_rules_use_case(tenant, team)
    with pytest.raises(PermissionDenied):
        imports.work_items_import(actor=team["auditor"], tenant=tenant, use_case_key="belege", lines=GOOD)
    assert not WorkItem.objects.exists()


def test_the_command_reads_a_file_and_reports_the_lines_to_clarify(tenant, team, tmp_path, run_on_commit):
    make_rules_use_case(tenant, team)
    path = tmp_path / "rueckstand.jsonl"
    path.write_text("\ufeff" + "\n".join([GOOD[0], BAD[1], GOOD[1]]) + "\n", encoding="utf-8")
    out = StringIO()
    run_on_commit(call_command, "import_work_items", "belege", str(path), "--tenant", tenant.slug,
                  "--actor", "it_operator", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"belege in {tenant.slug}: 3 work items imported in 1 batches, 0 held, 1 for clarification."
    assert lines[1].startswith("Line 2 of the import: a line must be an object")
    assert WorkItem.objects.filter(status=ItemStatus.APPLIED).count() == 2


def test_lines_too_deep_or_with_a_nul_key_go_to_clarification_and_many_shallow_brackets_do_not(
        tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    deep = {"payload": {"text": "Rechnung"}}
    inner = deep["payload"]
    for _ in range(MAX_JSON_DEPTH):
        inner["x"] = {}
        inner = inner["x"]
    lines = [json.dumps(deep), json.dumps({"payload": {"te\u0000xt": "Rechnung"}}),
             json.dumps({"payload": {"text": "Rechnung", "rows": [[] for _ in range(2 * MAX_JSON_DEPTH)]}})]
    report = run_on_commit(imports.work_items_import, actor=team["it_operator"], tenant=tenant,
                           use_case_key="belege", lines=lines)
    assert (report.created, report.clarification) == (3, 2)
    assert "nested deeper" in report.problems[0] and "NUL" in report.problems[1]
    assert WorkItem.objects.get(payload__rows__isnull=False).status != ItemStatus.CLARIFICATION


def test_the_tables_an_import_writes_keep_only_the_indexes_their_reads_use():
    """Every index costs each imported item and run; an index on a column nothing looks up by (the item's
    release and creator, the run's release) was dropped, those the pages, the reaper and the duplicate check
    read remain."""
    from django.db import connection

    def indexed(table: str) -> set[tuple[str, ...]]:
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        return {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"]}

    items, runs = indexed(WorkItem._meta.db_table), indexed(Run._meta.db_table)
    assert not {("release_id",), ("created_by_id",), ("tenant_id",)} & items
    assert {("id",), ("use_case_id",), ("tenant_id", "content_hash"), ("tenant_id", "external_id"),
            ("tenant_id", "status", "updated_at"), ("tenant_id", "use_case_id", "status", "finalised_at")} <= items
    assert ("release_id",) not in runs
    assert {("id",), ("item_id",), ("tenant_id",), ("status", "lease_expires_at")} <= runs


def test_what_copy_writes_comes_back_exactly_with_backslashes_tabs_line_breaks_and_umlauts(tenant, team):
    """The import writes COPY's text format itself: every value that holds one of its special characters is
    stored as it came, and so is a line sent to clarification with them."""
    make_rules_use_case(tenant, team)
    texts = ["Pfad C:\\Belege\\2026\tSpalte", "Zeile eins\nZeile zwei\r\nDrei", "\\N", "Größe: 5 µm — «ok» 😀",
             "Rückstrich am Ende \\"]
    lines = [json.dumps({"payload": {"text": text}, "external_id": f"ext\t{n}\\{text[:3]}"})
             for n, text in enumerate(texts)]
    broken = '{"payload": {"text": "C:\\\\Belege\\tabgeschnitten'
    report = imports.work_items_import(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                       lines=[*lines, broken])
    assert (report.created, report.clarification) == (6, 1)
    stored = {item.external_id: item for item in WorkItem.objects.filter(status=ItemStatus.RECEIVED)}
    assert {key: item.payload["text"] for key, item in stored.items()} == {
        f"ext\t{n}\\{text[:3]}": text for n, text in enumerate(texts)}
    unclear = WorkItem.objects.get(status=ItemStatus.CLARIFICATION)
    assert unclear.payload == {"unreadable_line": broken} and unclear.external_id == ""
    assert Run.objects.filter(item__in=stored.values(), status=RunStatus.QUEUED).count() == 5
    assert all(item.created_by_id == team["it_operator"].pk and item.reasons == [] for item in stored.values())
