"""A change of several rows written in one statement: new rows (their INSERTs as Django compiles them,
portal.db.inserts) and fields of saved rows (their UPDATEs as `save(update_fields=...)` sends them,
portal.db.updates), joined as data-modifying CTEs, so that a transaction's writes cost one round trip instead of
one each. A run of new rows of one model with the same columns is one multi-row INSERT.

    write_together([Update(run, ["status", "finished_at"]), *steps, event])

PostgreSQL runs every data-modifying CTE exactly once and to completion, all on the statement's one snapshot:
the parts cannot see one another's rows (a row may name one inserted beside it; foreign keys are checked at the
end of the statement, or at commit where deferred), and one row must not be updated twice. Each UPDATE must hit
its row, as `save(update_fields=...)` must: otherwise DatabaseError is raised after the statement — call it
inside a transaction, which then rolls back. Elsewhere (SQLite) the writes go one after the other: each run of new
rows of one model as one bulk INSERT, each update as its own UPDATE.

No model signals are sent (as with bulk_create); a model whose saving does more than its INSERT or UPDATE (history
records, signal receivers) is written the ordinary way (portal.db.updates refuses such a model)."""
from collections.abc import Sequence
from typing import NamedTuple

from django.db import DatabaseError, connections, router
from django.db.models import Model

from portal.db.inserts import insert_sql
from portal.db.prepared import prepared_cursor
from portal.db.updates import update_fields, update_sql


class Update(NamedTuple):
    """These fields of the saved row `obj`, written as `obj.save(update_fields=fields)` writes them."""

    obj: Model
    fields: Sequence[str]


def _runs(writes: Sequence[Model | Update]) -> list[Update | list[Model]]:
    """The writes in order, consecutive new rows of one model gathered."""
    runs: list[Update | list[Model]] = []
    for write in writes:
        if isinstance(write, Update):
            runs.append(write)
        elif runs and isinstance(runs[-1], list) and type(runs[-1][0]) is type(write):
            runs[-1].append(write)
        else:
            runs.append([write])
    return runs


def write_together(writes: Sequence[Model | Update], *, using: str | None = None) -> None:
    """Write these new rows and updated fields, in this order, in one statement (PostgreSQL), and set what the
    database returns (the primary key of an auto field) on each new row."""
    if not writes:
        return
    first = writes[0]
    using = using or router.db_for_write(type(first.obj if isinstance(first, Update) else first))
    connection = connections[using]
    runs = _runs(writes)
    if connection.vendor != "postgresql":
        for run in runs:
            if isinstance(run, Update):
                update_fields(run.obj, run.fields, using=using)
            else:
                type(run[0])._base_manager.using(using).bulk_create(run)
        return
    parts: list[str] = []
    params: list = []
    selected: list[str] = []
    # What the final SELECT reads, in order: an update's count, or the fields the database returns for new rows.
    reads: list[Update | tuple[list[Model], list]] = []
    quote = connection.ops.quote_name
    for run in runs:
        if isinstance(run, Update):
            name = f"w{len(parts)}"
            sql, values = update_sql(run.obj, run.fields, connection=connection)
            parts.append(f"{name} AS ({sql} RETURNING 1)")
            params.extend(values)
            selected.append(f"(SELECT count(*) FROM {name})")
            reads.append(run)
            continue
        for rows, insert, row_values, returning in insert_sql(run, connection):
            name = f"w{len(parts)}"
            parts.append(f"{name} AS ({insert})")
            params.extend(row_values)
            selected.extend(f"(SELECT array_agg({quote(f.column)}) FROM {name})" for f in returning)
            reads.append((rows, returning))
    with prepared_cursor(using) as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {', '.join(selected) or 'NULL'}", params)
        found = iter(cursor.fetchone())
    for read in reads:
        if isinstance(read, Update):
            count = next(found)
            if count != 1:
                raise DatabaseError(f"{type(read.obj).__name__} {read.obj.pk}: the update affected {count} rows.")
            read.obj._state.db, read.obj._state.adding = using, False
            continue
        rows, returning = read
        columns = [next(found) for _field in returning]
        for n, row in enumerate(rows):
            # The rows of a multi-row INSERT come back in the order of its VALUES (bulk_create relies on it too).
            for field, column in zip(returning, columns, strict=True):
                setattr(row, field.attname, column[n])
            row._state.adding, row._state.db = False, using
