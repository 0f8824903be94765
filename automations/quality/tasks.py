"""Celery tasks of quality: thin, each calls a service. Beat evaluates every breaker and schedules the due
reviews; a review decision sends one breaker's evaluation, a proposed label move its backtest."""
from celery import shared_task

from automations.quality import services
from automations.registry.models.use_cases import UseCase


@shared_task(name="automations.quality_breakers_evaluate")
def quality_breakers_evaluate_task() -> int:
    return services.quality_breakers_evaluate()


@shared_task(name="automations.quality_breaker_evaluate")
def quality_breaker_evaluate_task(use_case_id: int) -> bool:
    use_case = UseCase.objects.filter(pk=use_case_id).first()
    breaker = services.quality_breaker_evaluate(use_case=use_case) if use_case is not None else None
    return bool(breaker and breaker.tripped)


@shared_task(name="automations.threshold_backtest_attach")
def threshold_backtest_attach_task(change_request_id: int) -> int | None:
    backtest = services.threshold_backtest_attach(change_request_id=change_request_id)
    return backtest.pk if backtest else None


@shared_task(name="automations.use_case_reviews_schedule")
def use_case_reviews_schedule_task() -> int:
    return services.use_case_reviews_schedule()
