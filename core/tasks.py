"""Celery tasks of the shared kernel: load by date, call one service.

`run_end_of_day_task` is in the beat schedule (settings.CELERY_BEAT_SCHEDULE)."""

from datetime import date

from celery import shared_task

from core.eod import run_end_of_day


@shared_task(name="core.run_end_of_day")
def run_end_of_day_task(business_date_iso: str | None = None) -> dict:
    """Run (or resume) end of day for the given date (YYYY-MM-DD; default:
    today's business date) and advance the business date when it completes.
    A completed date is a no-op."""
    business_date = date.fromisoformat(business_date_iso) if business_date_iso else None
    run = run_end_of_day(business_date)
    return {
        "business_date": run.business_date.isoformat(),
        "status": run.status,
        "error": run.error,
    }
