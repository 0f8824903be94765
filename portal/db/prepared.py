"""Reads whose shape never changes, compiled once per process: the query is built and compiled by the ORM the
first time (joins, annotations, field conversions exactly as a QuerySet would have them), and each later call
only puts its values in and turns the row into model instances as the QuerySet's own iterator does. A request
that looks up its token and its use case then spends its time on the database's answer, not on building the
same SQL again (Django builds a query's SQL anew on every evaluation).

    token_by_prefix = PreparedQuery(ApiToken, lambda prefix: ApiToken.objects.select_related("user")
                                    .filter(prefix=prefix).order_by()[:1], prefix=str)
    token = token_by_prefix.first(prefix="abc")

The builder is called once per database alias with a placeholder for each argument; every placeholder must
reach the SQL as a parameter of its own (a filter's value), and nothing else may depend on the arguments. The
statement goes through `prepared_cursor` (below): Django's cursor wrapper as any ORM query (query logging, execute
wrappers), and on PostgreSQL prepared on the server once per connection. Only reads of model instances
(ModelIterable) are supported; no prefetch_related.

`prepared_cursor(using)` is the same idea one level down, for any statement of a fixed text sent very often (these
reads, the audit log's pending INSERT, portal.db.writes' statements): on PostgreSQL the statement is bound and
prepared on the server, so each execution sends only its values (no quoting into the SQL text in Python, no
parsing and planning on the server)."""
import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

M = TypeVar("M", bound=Model)


@dataclass(slots=True)
class _Compiled:
    sql: str
    params: list
    slots: dict[int, str]  # parameter position -> argument name
    adapted: dict[int, Callable[[Any], Any]]  # parameter position -> what turns a value into the driver's
    model: type[Model]
    start: int  # the model's own columns in the row
    end: int
    init_list: list[str]
    populators: list  # select_related's instances
    annotations: list[tuple[str, int]]
    converters: list[tuple[int, list, Any]]  # (position, functions, expression)


class PreparedQuery(Generic[M]):
    def __init__(self, model: type[M], build: Callable[..., QuerySet[M]], **placeholders: type) -> None:
        """`model`: what the query reads (for the database router); `placeholders`: each argument's type (str, int
        or datetime), to make a value no real argument could equal."""
        self.model, self.build = model, build
        self.placeholders = placeholders
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _placeholder_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for n, (name, kind) in enumerate(self.placeholders.items()):
            if kind is int:
                values[name] = -(2**62) + 7919 * n - 104729  # no primary key or count is this negative
            elif kind is str:
                values[name] = f"\x1fprepared-{name}-{uuid.uuid4().hex}"
            elif kind is datetime:
                # A moment no stored row has (the year 1000), different for each placeholder.
                values[name] = datetime(1000 + n, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
            else:
                raise TypeError(f"PreparedQuery placeholders are str, int or datetime, not {kind!r}")
        return values

    def _compile(self, using: str) -> _Compiled:
        values = self._placeholder_values()
        queryset = self.build(**values)
        if queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups:  # type: ignore[attr-defined]
            raise TypeError("PreparedQuery reads model instances without prefetch_related")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots: dict[int, str] = {}
        adapted: dict[int, Callable[[Any], Any]] = {}
        ops = connections[using].ops
        for position, param in enumerate(params):
            for name, value in values.items():
                if type(param) is type(value) and param == value:
                    slots[position] = name
                elif type(value) is int and isinstance(param, int) and param == value:
                    # A typed integer of the driver (psycopg's Int2 in a tuple comparison): the same type per call.
                    slots[position] = name
                    adapted[position] = type(param)
                elif isinstance(value, datetime) and param == ops.adapt_datetimefield_value(value):
                    # A backend that passes moments as text (SQLite): the value is adapted the same way per call.
                    slots[position] = name
                    adapted[position] = ops.adapt_datetimefield_value
        missing = set(values) - set(slots.values())
        if missing:
            raise ValueError(f"PreparedQuery: {sorted(missing)} did not reach the SQL as parameters")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        expressions = [s[0] for s in select[0:compiler.col_count]]
        return _Compiled(
            sql=sql, params=list(params), slots=slots, adapted=adapted, model=klass_info["model"],
            start=start, end=end,
            init_list=[f[0].target.attname for f in select[start:end]],
            populators=get_related_populators(klass_info, select, using),  # type: ignore[call-arg]  # Django 5.2
            annotations=list((compiler.annotation_col_map or {}).items()),
            converters=[(position, functions, expression) for position, (functions, expression)
                        in compiler.get_converters(expressions).items()])

    def _for(self, using: str) -> _Compiled:
        key = (using, connections[using].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        return compiled

    def all(self, *, using: str | None = None, **values: Any) -> list[M]:
        if set(values) != set(self.placeholders):
            raise TypeError(f"PreparedQuery needs exactly {sorted(self.placeholders)}")
        using = using or router.db_for_read(self.model)
        compiled = self._for(using)
        params = compiled.params.copy()
        connection = connections[using]
        for position, name in compiled.slots.items():
            adapt = compiled.adapted.get(position)
            params[position] = values[name] if adapt is None else adapt(values[name])
        with prepared_cursor(using) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        found: list[M] = []
        for raw in rows:
            row = list(raw)
            for position, functions, expression in compiled.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            obj: Any = compiled.model.from_db(using, compiled.init_list, row[compiled.start:compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def first(self, *, using: str | None = None, **values: Any) -> M | None:
        """The first row's instance, or None (the builder should order and slice, e.g. `[:1]`)."""
        return next(itertools.chain(self.all(using=using, **values), [None]))


def prepared_cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor of the connection `using` (the caller's transaction, if any) whose statements are bound and
    prepared on the server (PostgreSQL, portal.db.postgresql; elsewhere the ordinary cursor). It goes through
    Django's cursor wrapper as every statement does: query logging, execute wrappers, database errors. Django's
    connection itself binds on the client and prepares nothing (connection poolers in transaction mode, ad-hoc
    statements): only the statements sent through this cursor are prepared, one per text and connection."""
    connection: Any = connections[using]
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()
