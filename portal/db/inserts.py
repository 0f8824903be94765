"""The INSERT of new rows as Model.save() would send each (field conversions, `auto_now_add`, defaults), its text
built once per model and columns: portal.db.writes joins such INSERTs (and UPDATEs) into one statement. Rows of
one model whose values are plain become one multi-row INSERT.

No model signals are sent (as with bulk_create); a model whose saving does more than its INSERT (history
records, signal receivers) is written the ordinary way."""
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import models
from django.db.models import Field, Model
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


def _fields(obj: Model) -> list[Field]:
    """The columns a new row's INSERT writes: every local one but an auto primary key not set yet."""
    meta = obj._meta
    fields = list(meta.local_concrete_fields)
    if obj.pk is None:
        fields = [f for f in fields if f is not meta.auto_field]
    return fields


def _insert_sql(obj: Model, connection) -> tuple[str, tuple, list]:
    """The row's INSERT as Model.save() would send it (Model._save_table): every local column but an auto
    primary key not set yet, returning what the database fills in."""
    meta = obj._meta
    fields = _fields(obj)
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


# The multi-row INSERT's parts per model, column list and vendor (once its single-row INSERT proved plain).
_ROWS: dict[tuple, tuple[str, str, str]] = {}


def insert_sql(objs: Sequence[Model], connection) -> list[tuple[list[Model], str, tuple, list]]:
    """INSERTs of these new rows of one model, in order: (the rows, SQL, parameters, the fields it returns) each —
    one multi-row INSERT for the rows whose values are plain and whose columns are the same, one of its own for
    every other row."""
    first = objs[0]
    fields = _fields(first)
    key = (type(first), tuple(f.attname for f in fields), connection.vendor)
    known = _STATEMENTS.get(key)
    if len(objs) == 1 or known is None or known[1]:
        # The first row tells (and remembers) whether this model's INSERT takes plain values.
        sql, values, returning = _insert_sql(first, connection)
        return [([first], sql, values, returning), *(insert_sql(objs[1:], connection) if len(objs) > 1 else [])]
    passes = known[3]
    meta = first._meta
    parts = _ROWS.get(key)
    if parts is None:
        quote = connection.ops.quote_name
        table = quote(meta.db_table)
        head = f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) VALUES "
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        returning = meta.db_returning_fields
        tail = f" RETURNING {', '.join(f'{table}.{quote(f.column)}' for f in returning)}" if returning else ""
        parts = _ROWS[key] = (head, row, tail)
    head, row, tail = parts
    done: list[tuple[list[Model], str, tuple, list]] = []
    plain: list[Model] = []
    params: list = []

    def flush() -> None:
        if plain:
            done.append((plain.copy(), head + ", ".join([row] * len(plain)) + tail, tuple(params),
                         list(meta.db_returning_fields)))
            plain.clear()
            params.clear()

    for obj in objs:
        converted = _converted(fields, passes, [field.pre_save(obj, add=True) for field in fields], connection) \
            if _fields(obj) == fields else None
        if converted is None:  # compiled by Django, in its place among the others
            flush()
            sql, values, returning = _insert_sql(obj, connection)
            done.append(([obj], sql, values, returning))
            continue
        plain.append(obj)
        params.extend(converted)
    flush()
    return done
