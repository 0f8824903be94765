from celery import shared_task

from reviews import services


@shared_task(name="reviews.expire_claims")
def expire_claims_task() -> int:
    return services.review_claims_expire()
