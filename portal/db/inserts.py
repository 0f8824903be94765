"""Several new rows of different tables written in one statement: each row's INSERT as Django compiles it
(field conversions, `auto_now_add`, defaults), joined as data-modifying CTEs, so a change of several rows costs
one round trip. A single statement is atomic by itself: outside a transaction it commits on its own, and no
BEGIN and COMMIT are needed. Foreign keys between the rows are checked at the end of the statement (or at
commit, where deferred), so a row may name one inserted in the same statement.

No model signals are sent (as with bulk_create); a model whose saving does more than its INSERT (history
records, signal receivers) is written the ordinary way."""
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import connections, models, router
from django.db.models import Model
from django.db.models.sql import InsertQuery

# The INSERT's text per model, column list and database vendor: it never changes, only the values do. A row whose
# values are plain (no expressions) and whose fields need no placeholder of their own takes it from here and only
# converts its values (Field.get_db_prep_save, as the compiler does), with the types each column passes as they are.
_STATEMENTS: dict[tuple, tuple[str, tuple, list, tuple]] = {}

# The value types that Django's own fields of these classes (exactly these, no subclass: a subclass may convert)
# take without converting them: get_db_prep_save returns such a value as it is (a text as text, a UUID as UUID —
# PostgreSQL has the type — an aware datetime as it is, an automatic key as its number) or only hands a number to
# the backend's adapt_integerfield_value. None passes as None in all of them. Any other value (a lazy text, a choice
# member, a number for a text column, a naive datetime that Django warns about) is converted by the field as before.
_UNCHANGED: dict[type, tuple[type, ...]] = {
    models.CharField: (str,), models.TextField: (str,), models.SlugField: (str,), models.BooleanField: (bool,),
    models.UUIDField: (uuid.UUID,), models.DateTimeField: (datetime,), models.AutoField: (int,),
    models.BigAutoField: (int,),
}
_INTEGERS = (models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
             models.PositiveSmallIntegerField)


def _passes(field) -> tuple[tuple[type, ...], str | None]:
    """(the value types the field takes as they are, the integer type they are adapted as or None); no types:
    the field converts every value."""
    if type(field) is models.ForeignKey:
        return _passes(field.target_field)
    if type(field) in _INTEGERS:
        return (int,), field.get_internal_type()
    return _UNCHANGED.get(type(field), ()), None


def _converted(fields: list, passes: tuple, values: list, connection) -> tuple | None:
    """The values as the database takes them, or None when one is an expression (compiled as Django does)."""
    out: list = []
    for field, (kinds, integer), value in zip(fields, passes, values, strict=True):
        if value is None and kinds:
            out.append(None)
        elif type(value) in kinds and (kinds[0] is not datetime or value.tzinfo is not None):
            out.append(value if integer is None else connection.ops.adapt_integerfield_value(value, integer))
        elif hasattr(value, "resolve_expression"):
            return None
        else:
            out.append(field.get_db_prep_save(value, connection=connection))
    return tuple(out)


def _insert_sql(obj: Model, connection) -> tuple[str, tuple, list]:
    """The row's INSERT as Model.save() would send it (Model._save_table): every local column but an auto
    primary key not set yet, returning what the database fills in."""
    meta = obj._meta
    fields = list(meta.local_concrete_fields)
    if obj.pk is None:
        fields = [f for f in fields if f is not meta.auto_field]
    key = (type(obj), tuple(f.attname for f in fields), connection.vendor)
    known = _STATEMENTS.get(key)
    if known is not None:
        sql, tail, returning, passes = known
        converted = _converted(fields, passes, [field.pre_save(obj, add=True) for field in fields], connection)
        if converted is not None:
            return sql, converted + tail, returning
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = list(meta.db_returning_fields)
    ((sql, params),) = compiler.as_sql()
    tail = tuple(getattr(compiler, "returning_params", ()) or ())
    plain = (len(params) == len(fields) + len(tail)
             and not any(getattr(field, "get_placeholder", None) for field in fields)
             and not any(hasattr(getattr(obj, field.attname), "resolve_expression") for field in fields))
    if plain:
        _STATEMENTS[key] = (sql, tail, compiler.returning_fields, tuple(_passes(f) for f in fields))
    return sql, tuple(params), compiler.returning_fields


def insert_together(objs: Sequence[Model], *, using: str | None = None) -> None:
    """Insert these unsaved rows, in this order, in one statement (PostgreSQL; elsewhere one INSERT each), and
    set what the database returns (the primary key of an auto field) on each."""
    if not objs:
        return
    using = using or router.db_for_write(type(objs[0]))
    connection = connections[using]
    if connection.vendor != "postgresql":
        for obj in objs:
            obj.save(force_insert=True, using=using)
        return
    parts: list[str] = []
    params: list = []
    columns: list[str] = []
    returned: list[list] = []
    for n, obj in enumerate(objs):
        sql, values, returning = _insert_sql(obj, connection)
        parts.append(f"i{n} AS ({sql})")
        params.extend(values)
        returned.append(returning)
        columns.extend(f"(SELECT {connection.ops.quote_name(f.column)} FROM i{n})" for f in returning)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {', '.join(columns) or 'NULL'}", params)
        row = list(cursor.fetchone())
    for obj, returning in zip(objs, returned, strict=True):
        for field in returning:
            setattr(obj, field.attname, row.pop(0))
        obj._state.adding, obj._state.db = False, using
