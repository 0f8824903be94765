"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is healthy, and
cursors whose statements are prepared on the server (`prepared_cursor`).

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first statement of every request on a persistent
connection, so that a connection the server closed (a restart, `pg_terminate_backend`, an idle timeout, a
proxy's restart) is replaced instead of failing the request. An idle connection in good order has nothing to
read; a server that ends a session sends its reason and closes the socket, which makes it readable. So the
socket is polled first (no wait, no round trip) and the `SELECT 1` is sent only when the server has said
something since the last statement: on a readable socket, a connection in a bad state, or one psycopg knows
to be closed. A server that vanished without closing the socket is missed by both checks alike: the `SELECT 1`
would wait for the same network timeout as the request's first statement.

Django binds parameters on the client and never prepares (its default, for connection poolers): every statement is
sent as text with its values quoted in, and the server parses and plans it anew. For the few statements a hot path
sends again and again with other values (portal.db.prepared, portal.db.writes), `prepared_cursor()` binds on the
server and prepares each statement on the connection the first time it is sent: later calls send only the values
and the server reuses its parse and plan. Every other statement is sent as before. PgBouncer in transaction mode
keeps such statements from 1.21 on (`max_prepared_statements`); where a pooler cannot, DATABASE_PREPARED_STATEMENTS
turns it off."""
import select

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base, operations
from psycopg import errors, pq

# What prepare_threshold is while a prepared cursor sends its statement: no statement is prepared for having been
# sent often (the others stay as Django sends them); the prepared cursor asks for its own (prepare=True).
_ONLY_ON_REQUEST = 2**31


class PreparingCursor(base.CursorMixin, psycopg.Cursor):
    """Binds on the server and prepares each statement on first use (psycopg's prepared statements, asked for by
    this cursor alone: the connection's prepare_threshold stays Django's None for every other cursor)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        connection = self.connection
        threshold = connection.prepare_threshold
        connection.prepare_threshold = _ONLY_ON_REQUEST if threshold is None else threshold
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        finally:
            connection.prepare_threshold = threshold


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """A prepared statement keeps no text with its values (only logged queries ask: DEBUG, tests): composed here,
        as Django composes it for a connection that binds on the server."""
        if isinstance(cursor, PreparingCursor):
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    _preparing = False

    def prepared_cursor(self):
        """A cursor like `cursor()` (the same wrapping: query logging, execute wrappers, error translation) whose
        statements are bound and prepared on the server (above)."""
        if not settings.DATABASE_PREPARED_STATEMENTS:
            return self.cursor()
        self._preparing = True
        try:
            return self.cursor()
        finally:
            self._preparing = False

    def create_cursor(self, name=None):
        if not self._preparing or name is not None:
            return super().create_cursor(name)
        factory = self.connection.cursor_factory
        self.connection.cursor_factory = PreparingCursor
        try:
            return super().create_cursor(name)
        finally:
            self.connection.cursor_factory = factory

    def close_if_health_check_failed(self):
        if (self.connection is None or self.pool or not self.health_check_enabled or self.health_check_done):
            return super().close_if_health_check_failed()
        if self._quiet():
            self.health_check_done = True
            return None
        return super().close_if_health_check_failed()

    def _quiet(self) -> bool:
        """Whether the idle connection is open, in good order, and the server has sent nothing since."""
        connection = self.connection
        if connection.closed or connection.pgconn.status != pq.ConnStatus.OK or connection.info.transaction_status \
                != pq.TransactionStatus.IDLE:
            return False
        try:
            readable, _writable, failed = select.select([connection.fileno()], [], [connection.fileno()], 0)
        except (OSError, ValueError):
            return False
        return not readable and not failed
