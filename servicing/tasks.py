"""Celery tasks of servicing files and autopay: load by date, call one service.

Nothing here is registered in beat; end-of-day calls collect_autopay_task."""

from datetime import date

from celery import shared_task

from servicing.services.autopay import collect_autopay


@shared_task(name="servicing.collect_autopay")
def collect_autopay_task(business_date_iso: str) -> dict:
    """Collect the autopay debits due on the given business date (YYYY-MM-DD).
    Re-running the same date is a no-op."""
    result = collect_autopay(business_date=date.fromisoformat(business_date_iso))
    return {
        "business_date": business_date_iso,
        "posted": len(result.posted),
        "already": result.already,
        "skipped": len(result.skipped),
        "file_id": result.file.pk if result.file else None,
    }
