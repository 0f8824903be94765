"""The Celery application: configuration comes from Django settings (CELERY_* keys)."""
import logging.config
import os

from celery import Celery, signals
from celery.states import SUCCESS
from kombu.transport import TRANSPORT_ALIASES

from portal.logs import log_context, log_context_end, log_context_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# The embedded broker: kombu's filesystem transport with atomic writes and a reader that never takes a half-written
# message (operations/broker.py); the settings choose it for a `filesystem://` broker URL.
TRANSPORT_ALIASES.setdefault("leitplanke-filesystem", "operations.broker:Transport")

app = Celery("leitplanke")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The automations app keeps its tasks beside the concept they serve (registry, execution, training).
app.autodiscover_tasks(["automations.registry", "automations.execution", "automations.training"])
# Every worker reports that it consumes (operations.heartbeat); loaded by name when the worker starts.
app.steps["consumer"].add("operations.heartbeat:WorkerHeartbeat")


@signals.setup_logging.connect
def _logging(**kwargs):
    """Workers and beat log as the web does (settings LOGGING: JSON lines in production), not in Celery's own
    format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# A task's log lines carry the request id, tenant and actor of whatever sent it (a request, or another task),
# so that a request and the work it started can be followed through the logs; a task sent by beat has its own.
_LOG_HEADERS = {"request_id": "log_request_id", "tenant": "log_tenant", "actor": "log_actor"}


@signals.before_task_publish.connect
def _publish_log_context(headers=None, **kwargs):
    if headers is not None:
        context = log_context()
        headers.update({header: context[name] for name, header in _LOG_HEADERS.items() if context.get(name)})


def _header(request, name: str) -> str:
    return getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name) or ""


_task_contexts: dict = {}


@signals.task_prerun.connect
def _task_log_context(task_id=None, task=None, **kwargs):
    request = task.request
    _task_contexts[task_id] = log_context_start(
        request_id=_header(request, "log_request_id") or task_id, tenant=_header(request, "log_tenant"),
        actor=_header(request, "log_actor") or "system", task=task.name, task_id=task_id)


@signals.task_postrun.connect
def _task_log_context_end(task_id=None, **kwargs):
    context = _task_contexts.pop(task_id, None)
    if context is not None:
        log_context_end(context)


# Database connections live across tasks (settings CELERY_DB_REUSE_MAX) with the life Django gives a request's:
# closed when older than CONN_MAX_AGE or after an error, checked (CONN_HEALTH_CHECKS) before a task first uses
# them — so a restarted server costs one reconnect, not a failed task. A task that did not succeed may have been
# interrupted inside a statement (a time limit, a lost server), which Django cannot always tell from a usable
# connection: its connections are closed. A task run eagerly (in the caller's process, inside the caller's
# transaction) leaves the caller's connection alone, as Celery's own fix-up does.
def _in_worker(task) -> bool:
    return task is not None and not getattr(task.request, "is_eager", False)


@signals.task_prerun.connect
def _task_connections_checked(task=None, **kwargs):
    from django.db import close_old_connections

    if _in_worker(task):
        close_old_connections()


@signals.task_postrun.connect
def _task_connections_released(task=None, state=None, **kwargs):
    from django.db import close_old_connections, connections

    if not _in_worker(task):
        return
    if state == SUCCESS:
        close_old_connections()
    else:
        connections.close_all()
