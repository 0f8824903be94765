"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is healthy.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first statement of every request on a persistent
connection, so that a connection the server closed (a restart, `pg_terminate_backend`, an idle timeout, a
proxy's restart) is replaced instead of failing the request. An idle connection in good order has nothing to
read; a server that ends a session sends its reason and closes the socket, which makes it readable. So the
socket is polled first (no wait, no round trip) and the `SELECT 1` is sent only when the server has said
something since the last statement: on a readable socket, a connection in a bad state, or one psycopg knows
to be closed. A server that vanished without closing the socket is missed by both checks alike: the `SELECT 1`
would wait for the same network timeout as the request's first statement."""
import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
