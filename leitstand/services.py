"""Writes of the Leitstand: the daily figures, recomputed from the records. Derived data kept for speed, not a
governed record: no actor and no audit event (what it counts is audited where it happened), and recomputing a
day any number of times gives the same row."""
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from leitstand.models import DailyFigures
from leitstand.selectors import figures_compute
from portal.models import Tenant


def daily_figures_refresh(*, tenant, day: date, now=None) -> int:
    """Recompute one day of one tenant: a row per use case that had anything that day, rows of use cases
    that no longer have anything removed. Returns the number of rows kept."""
    now = now or timezone.now()
    computed = figures_compute(tenant=tenant, day=day, now=now)
    with transaction.atomic():
        DailyFigures.objects.for_tenant(tenant).filter(day=day).exclude(use_case_id__in=list(computed)).delete()
        for use_case_id, figures in computed.items():
            DailyFigures.objects.update_or_create(tenant=tenant, use_case_id=use_case_id, day=day,
                                                  defaults={**figures, "computed_at": now})
    return len(computed)


def daily_figures_refresh_range(*, tenant, since: date, until: date, now=None) -> int:
    """Every day of [since, until] (a backfill, or the history the quick start seeds)."""
    rows, day = 0, since
    while day <= until:
        rows += daily_figures_refresh(tenant=tenant, day=day, now=now)
        day += timedelta(days=1)
    return rows


def daily_figures_refresh_recent(*, now=None) -> int:
    """What beat runs: today and yesterday of every tenant (yesterday once more, so that what happened just
    before midnight is counted after the day ended: a task due late that day, a decision at 23:59)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = 0
    for tenant in Tenant.objects.order_by("pk"):
        rows += daily_figures_refresh_range(tenant=tenant, since=today - timedelta(days=1), until=today, now=now)
    return rows
