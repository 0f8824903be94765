"""Training a classifier in the background: thin, loads by primary key and calls the service."""
from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from audit.actors import SYSTEM
from automations.registry.models.use_cases import UseCase
from automations.training import services as training

__all__ = ["train_classifier_task"]


@shared_task(bind=True, name="automations.train_classifier", acks_late=True)
def train_classifier_task(self, use_case_id: int, user_id: int | None = None) -> int:
    use_case = UseCase.objects.select_related("tenant").get(pk=use_case_id)
    user = get_user_model().objects.get(pk=user_id) if user_id else SYSTEM
    # Celery's own task state is updated too where a result backend is configured.
    report_state = bool(settings.CELERY_RESULT_BACKEND) and not self.request.is_eager and self.request.id

    def progress(message: str, fraction: float) -> None:
        training.training_progress_record(use_case=use_case, state="running", message=message, fraction=fraction)
        if report_state:
            self.update_state(state="PROGRESS", meta={"message": message, "fraction": fraction})

    try:
        version = training.classifier_train(actor=user, use_case=use_case, progress=progress)
    except Exception as exc:
        training.training_progress_record(use_case=use_case, state="failed", message=str(exc))
        raise
    training.training_progress_record(use_case=use_case, state="done", fraction=1.0, version_id=version.pk,
                                      version_number=version.number, message=f"v{version.number}")
    return version.pk
