"""Evaluations in the worker: thin, loads by primary key and calls the service."""
from celery import shared_task

from automations.evaluation.services.evaluations import evaluation_execute

__all__ = ["run_evaluation_task"]


@shared_task(bind=True, name="automations.run_evaluation", acks_late=True)
def run_evaluation_task(self, evaluation_id: int) -> int | None:
    evaluation = evaluation_execute(evaluation_id=evaluation_id, task_id=self.request.id or "")
    return evaluation.pk if evaluation else None
