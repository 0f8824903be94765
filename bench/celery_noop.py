"""The peer of the pipeline benchmark (bench/run.py): a bare Celery task that does nothing, consumed by a worker
configured exactly like the pipeline's (`--include bench.celery_noop`)."""
from celery import shared_task


@shared_task(name="bench.noop", acks_late=True, ignore_result=True)
def noop_task() -> None:
    return None
