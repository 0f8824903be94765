"""Business metrics for Prometheus, read from the database and the broker when scraped (a collector, so
every web process reports the same figures and no worker has to export anything). django-prometheus adds
the request, database and cache metrics of the process that answers."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from automations.choices import DeliveryStatus
from automations.models import ConnectorCircuit, Delivery, ProcessorCircuit, Run, StepRun, WorkItem
from operations.models import Heartbeat
from portal.celery import app
from reviews.choices import OPEN_TASK_STATES
from reviews.models import ReviewTask

logger = logging.getLogger(__name__)

RECENT = timedelta(hours=1)
LATENCY_WINDOW = timedelta(minutes=15)
OVERDUE = timedelta(minutes=5)
QUANTILES = (0.5, 0.95, 0.99)


def _circuit_states(model, name: str, kind: str, documentation: str) -> GaugeMetricFamily:
    """One gauge per breaker of a catalogue entry (processor or connector), 1 for the state it is in."""
    gauge = GaugeMetricFamily(name, documentation, labels=["tenant", kind, "state"])
    for tenant, key, state in model.objects.values_list("tenant__slug", "entry__key", "state"):
        gauge.add_metric([tenant, key, state], 1)
    return gauge


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def queue_depths() -> dict[str, int]:
    """Messages waiting in each queue of the broker (what no worker has taken yet)."""
    depths = {}
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=3)
        channel = connection.default_channel
        for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.MAINTENANCE_QUEUE):
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except Exception:  # noqa: BLE001 - a queue never declared holds nothing
                depths[queue] = 0
    return depths


class BusinessCollector:
    def describe(self):
        return []  # registered without a trial collection (that would query the database at start-up)

    def collect(self):
        try:
            families, up = list(self._database_metrics()), 1
        except Exception:  # a scrape during an outage reports what it can
            logger.warning("Business metrics from the database unavailable", exc_info=True)
            families, up = [], 0
        yield from families
        yield GaugeMetricFamily("leitplanke_database_up", "Whether the database answered the scrape.", value=up)
        depth = GaugeMetricFamily("leitplanke_queue_depth", "Messages waiting in the broker queue.", labels=["queue"])
        try:
            for queue, count in queue_depths().items():
                depth.add_metric([queue], count)
            up = 1
        except Exception:
            logger.warning("Queue depths unavailable", exc_info=True)
            up = 0
        yield depth
        yield GaugeMetricFamily("leitplanke_broker_up", "Whether the broker answered the scrape.", value=up)

    def _database_metrics(self):
        now = timezone.now()
        items = GaugeMetricFamily("leitplanke_work_items", "Work items by tenant, use case and status.",
                                  labels=["tenant", "use_case", "status"])
        for row in (WorkItem.objects.filter(is_dry_run=False)
                    .values("tenant__slug", "use_case__key", "status").annotate(n=Count("id"))):
            items.add_metric([row["tenant__slug"], row["use_case__key"], row["status"]], row["n"])
        yield items

        runs = GaugeMetricFamily("leitplanke_runs", "Pipeline runs by status.", labels=["status"])
        for row in Run.objects.values("status").annotate(n=Count("id")):
            runs.add_metric([row["status"]], row["n"])
        yield runs

        steps = GaugeMetricFamily("leitplanke_step_runs_last_hour", "Pipeline steps started in the last hour, "
                                  "by step and outcome.", labels=["step", "outcome"])
        recent = StepRun.objects.filter(started_at__gte=now - RECENT)
        for row in recent.values("step", "status").annotate(n=Count("id")):
            steps.add_metric([row["step"], row["status"]], row["n"])
        yield steps

        waits, durations = [], []
        for created, started, finished in (Run.objects.filter(finished_at__gte=now - LATENCY_WINDOW,
                                                              started_at__isnull=False)
                                           .values_list("created_at", "started_at", "finished_at")[:20000]):
            waits.append((started - created).total_seconds())
            durations.append((finished - started).total_seconds())
        wait = GaugeMetricFamily("leitplanke_run_wait_seconds", "Time from a run's dispatch to its start "
                                 "(queue latency), runs finished in the last 15 minutes.", labels=["quantile"])
        duration = GaugeMetricFamily("leitplanke_run_duration_seconds", "Time a run took from start to "
                                     "routing, runs finished in the last 15 minutes.", labels=["quantile"])
        for q in QUANTILES:
            wait.add_metric([str(q)], _quantile(waits, q))
            duration.add_metric([str(q)], _quantile(durations, q))
        yield wait
        yield duration
        yield GaugeMetricFamily("leitplanke_runs_finished_15m", "Runs finished in the last 15 minutes.",
                                value=len(durations))

        yield _circuit_states(ProcessorCircuit, "leitplanke_processor_circuit", "processor",
                              "Circuit breaker of each processor (1 for its current state).")
        yield _circuit_states(ConnectorCircuit, "leitplanke_connector_circuit", "connector",
                              "Circuit breaker of each delivery connector (1 for its current state).")

        deliveries = GaugeMetricFamily("leitplanke_deliveries", "Deliveries to target systems by tenant, "
                                       "connector and status (pending, delivered, failed and retried, dead).",
                                       labels=["tenant", "connector", "status"])
        for row in Delivery.objects.values("tenant__slug", "connector__key", "status").annotate(n=Count("id")):
            deliveries.add_metric([row["tenant__slug"], row["connector__key"], row["status"]], row["n"])
        yield deliveries
        due = GaugeMetricFamily("leitplanke_deliveries_overdue", "Deliveries not yet delivered whose next attempt "
                                "is more than five minutes overdue (the sweep or the workers are behind).",
                                labels=["tenant", "connector"])
        for row in (Delivery.objects.filter(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
                                          next_attempt_at__lt=now - OVERDUE)
                    .values("tenant__slug", "connector__key").annotate(n=Count("id"))):
            due.add_metric([row["tenant__slug"], row["connector__key"]], row["n"])
        yield due

        backlog = GaugeMetricFamily("leitplanke_review_backlog", "Open review tasks by tenant and queue.",
                                    labels=["tenant", "queue", "kind"])
        overdue = GaugeMetricFamily("leitplanke_review_overdue", "Open review tasks past their due date.",
                                    labels=["tenant", "queue", "kind"])
        open_tasks = ReviewTask.objects.filter(state__in=OPEN_TASK_STATES)
        for row in open_tasks.values("tenant__slug", "queue__name", "queue__kind").annotate(n=Count("id")):
            backlog.add_metric([row["tenant__slug"], row["queue__name"], row["queue__kind"]], row["n"])
        for row in (open_tasks.filter(due_at__lt=now).values("tenant__slug", "queue__name", "queue__kind")
                    .annotate(n=Count("id"))):
            overdue.add_metric([row["tenant__slug"], row["queue__name"], row["queue__kind"]], row["n"])
        yield backlog
        yield overdue

        beats = GaugeMetricFamily("leitplanke_heartbeat_age_seconds", "Seconds since a worker or beat last "
                                  "reported.", labels=["kind", "name", "queues"])
        for name, kind, queues, seen in Heartbeat.objects.values_list("name", "kind", "queues", "seen_at"):
            beats.add_metric([kind, name, queues], (now - seen).total_seconds())
        yield beats
