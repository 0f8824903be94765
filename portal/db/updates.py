"""`Model.save(update_fields=...)` for a hot path that saves the same fields of the same model again and again (a
pipeline run's run and item): the UPDATE is written once per thread, database and set of fields, and
each call sends it with the row's values as `save()` prepares them (`pre_save`, `get_db_prep_save`). Django
compiles the UPDATE anew for every save.

Like `save(update_fields=...)`: only the fields named are written, a row that is gone raises DatabaseError. Unlike
it, no `pre_save`/`post_save` signals are sent: only for models that have no receivers of them (history
records, signal handlers) and no `save()` of their own."""
import threading
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Field, Model, signals

_local = threading.local()


def _compiled(model: type[Model], names: tuple[str, ...], using: str) -> tuple[str, list, list]:
    cache = _local.__dict__.setdefault("updates", {})
    connection = connections[using]
    key = (model, names, using, connection.vendor)
    entry = cache.get(key)
    if entry is None:
        meta = model._meta
        if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
            raise ValueError(f"{model.__name__} has save receivers (history records?): save() it instead.")
        fields: list[Field] = []
        for name in names:
            field = meta.get_field(name)
            if not isinstance(field, Field) or field.primary_key or not field.concrete \
                    or hasattr(field, "get_placeholder"):
                raise ValueError(f"{model.__name__}.{name} cannot be updated this way.")
            fields.append(field)
        quote = connection.ops.quote_name
        table, key_column = quote(meta.db_table), quote(str(meta.pk.column))
        # The statement Django's UpdateQuery compiles for plain values, one placeholder per field.
        sql = (f"UPDATE {table} SET {', '.join(f'{quote(str(f.column))} = %s' for f in fields)} "
               f"WHERE {table}.{key_column} = %s")
        entry = cache[key] = (sql, fields, [meta.pk])
    return entry


def update_sql(obj: Model, names: Sequence[str], *, connection) -> tuple[str, list]:
    """The UPDATE of these fields of the saved row `obj` and its parameters (portal.db.writes joins it with others)."""
    sql, fields, (pk,) = _compiled(type(obj), tuple(names), connection.alias)
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection=connection) for field in fields]
    params.append(pk.get_db_prep_value(obj.pk, connection))
    return sql, params


def update_fields(obj: Model, names: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Write these fields of the saved row `obj` (as `obj.save(update_fields=names)` would)."""
    connection = connections[using]
    sql, params = update_sql(obj, names, connection=connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.db, obj._state.adding = using, False
