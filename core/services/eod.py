"""Queueing end of day: what the staff page calls to start a run.

`start_end_of_day` records a run as queued and hands it to a worker after
commit (core.tasks.enqueue_end_of_day); the worker runs the pipeline of
core.eod. Kept apart from core.eod because core.tasks imports the pipeline.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import audit
from core.eod import (
    advance_if_today,
    check_business_date,
    dates_to_close,
    lock_held,
    lock_run,
    reopen_run,
)
from core.exceptions import Conflict
from core.models import AuditCategory, EodRun
from core.tasks import enqueue_end_of_day

# A queued run that no worker has picked up for this long (no worker running,
# or its message lost) no longer blocks starting the date again.
QUEUED_STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Started:
    """What `start_end_of_day` did: `queued` is False when the date had
    already completed and nothing was queued; `missed` are the earlier
    dates never closed, which the worker closes first, oldest first."""

    run: EodRun
    queued: bool
    missed: tuple[date, ...] = ()


def start_end_of_day(
    *,
    business_date: date | None = None,
    acting_user=None,
    source: str = EodRun.Source.STAFF,
) -> Started:
    """Queue end of day for `business_date` (default: today's business date)
    without running any of it here: the run is created, or a failed or
    crashed one reopened, as `queued`, and after commit it is handed to a
    Celery worker (core.tasks.enqueue_end_of_day; with no broker, a
    background thread of this process). Returns at once. The worker first
    closes the missed days before it, if any (core.eod.dates_to_close). A
    date that completed with failed items is queued again: the worker
    retries those items.

    A completed date queues nothing (its steps posted what they post once);
    if it is today's business date, the date is advanced as the run would
    have. Refuses a date after today's business date (ValidationFailed) and
    a start while any run is queued or executing (Conflict, code
    "eod_running"). Locks the date's run row; audits "eod.queued".
    """
    business_date = check_business_date(business_date)
    now = timezone.now()
    with transaction.atomic():
        run, created = lock_run(
            business_date,
            status=EodRun.Status.QUEUED,
            source=source,
            requested_by=acting_user,
            queued_at=now,
        )
        if run.status == EodRun.Status.COMPLETED:
            advance_if_today(business_date, acting_user)
            return Started(run=run, queued=False)
        _refuse_if_busy(exclude=run if created else None, now=now)
        previous = None if created else run.status
        if not created:
            reopen_run(
                run,
                status=EodRun.Status.QUEUED,
                source=source,
                requested_by=acting_user,
                queued_at=now,
            )
        audit.record(
            action="eod.queued",
            category=AuditCategory.STATE_CHANGE,
            obj=run,
            metadata={
                "business_date": business_date.isoformat(),
                "source": source,
                **({} if previous is None else {"previous_status": previous}),
            },
            actor=acting_user,
        )
        transaction.on_commit(
            partial(
                enqueue_end_of_day,
                business_date=business_date,
                acting_user_id=acting_user.pk if acting_user else None,
                source=source,
            )
        )
    return Started(run=run, queued=True, missed=tuple(dates_to_close(business_date)[:-1]))


def _refuse_if_busy(*, exclude: EodRun | None, now) -> None:
    """Conflict if a run (other than `exclude`) is queued and fresh, or if a
    run is executing (the advisory lock is held)."""
    held = lock_held()
    live = Q(status=EodRun.Status.QUEUED, queued_at__gte=now - QUEUED_STALE_AFTER)
    if held:
        live |= Q(status=EodRun.Status.RUNNING)
    runs = EodRun.objects.filter(live)
    if exclude is not None:
        runs = runs.exclude(pk=exclude.pk)
    busy = runs.order_by("-business_date").first()
    if busy is not None:
        since = busy.started_at if busy.status == EodRun.Status.RUNNING else busy.queued_at
        raise Conflict(
            f"End of day {busy.business_date:%B %-d, %Y} is already "
            f"{busy.get_status_display().lower()} (since "
            f"{timezone.localtime(since):%H:%M:%S}); wait for it to finish.",
            code="eod_running",
        )
    if held:
        raise Conflict("End of day is already running.", code="eod_running")
