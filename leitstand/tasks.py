from celery import shared_task

from leitstand import services


@shared_task(name="leitstand.refresh_daily_figures")
def refresh_daily_figures_task() -> int:
    return services.daily_figures_refresh_recent()
