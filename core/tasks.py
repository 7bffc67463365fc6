"""Celery tasks of the shared kernel: load by date, call one service.

`run_end_of_day_task` is in the beat schedule (settings.CELERY_BEAT_SCHEDULE)
and is what the staff page queues (core.services.eod.start_end_of_day, after
commit, through `enqueue_end_of_day`). It drives the run: with a broker it
fans each step out as `eod_work_task` helpers, one per chunk, which any
worker takes (core.eod.runner). `eod_kick_task` is the watchdog: in the
beat schedule every minute and queued by every worker when it starts, it
starts again a run that no process is working on (its workers died)."""

import logging
import threading
from datetime import date

from celery import shared_task
from celery.signals import worker_ready
from django.contrib.auth import get_user_model
from django.db import connections

from core.eod import run_end_of_day, stalled_run, work_on_step
from core.exceptions import Conflict
from core.models import EodRun

logger = logging.getLogger(__name__)


# End of day outlives the fleet's default limits (CELERY_TASK_TIME_LIMIT, ten
# minutes, sized for a document or a notice): per-loan steps over a large
# book take far longer, and a hard kill would leave the message unacked until
# the broker's visibility timeout. The soft limit raises inside a chunk,
# which rolls back and fails the run cleanly; starting it again resumes.
EOD_SOFT_TIME_LIMIT = 4 * 3600
EOD_TIME_LIMIT = EOD_SOFT_TIME_LIMIT + 300


@shared_task(
    name="core.run_end_of_day",
    soft_time_limit=EOD_SOFT_TIME_LIMIT,
    time_limit=EOD_TIME_LIMIT,
)
def run_end_of_day_task(
    business_date_iso: str | None = None,
    acting_user_id: int | None = None,
    source: str = EodRun.Source.TASK,
) -> dict:
    """Run (or resume) end of day for the given date (YYYY-MM-DD; default:
    today's business date) and advance the business date when it completes.
    A completed date is a no-op. Audited as the user `acting_user_id` if
    given, else as the system job. If another run holds the end-of-day lock
    this returns status "busy" and leaves the run queued: it is not retried,
    since the run holding the lock is the one doing the work."""
    business_date = date.fromisoformat(business_date_iso) if business_date_iso else None
    user = get_user_model().objects.filter(pk=acting_user_id).first() if acting_user_id else None
    # With a broker, other workers share the run; eagerly (no broker) the
    # helpers would only run inside this task, one after another.
    fan_out = not run_end_of_day_task.app.conf.task_always_eager
    try:
        run = run_end_of_day(
            business_date, acting_user=user, source=EodRun.Source(source), fan_out=fan_out
        )
    except Conflict as exc:
        logger.warning("end of day %s not run: %s", business_date_iso or "today", exc.message)
        return {"business_date": business_date_iso, "status": "busy", "error": exc.message}
    return {
        "business_date": run.business_date.isoformat(),
        "status": run.status,
        "error": run.error,
    }


def enqueue_end_of_day(
    *, business_date: date, acting_user_id: int | None, source: str
) -> threading.Thread | None:
    """Hand a queued run to a worker. Call only after commit (the worker
    reads the queued run row).

    With a broker (REDIS_URL) the task goes to the Celery queue. With none,
    Celery runs tasks eagerly, that is inside the caller, which for the
    staff page would hold the HTTP request for the whole run (seconds for
    a demo book, far past any proxy's timeout for a real one). So with no
    broker the task runs in a daemon thread of this process instead, and
    this returns at once with the thread. That is safe because the run
    keeps all its state in the database: the page polls the same rows
    whichever process writes them, the advisory lock still allows one run
    at a time, and if the process exits mid-run the open chunk rolls back
    and the run is resumable (the lock dies with the thread's connection,
    so starting the date again is allowed). A subprocess
    (`manage.py run_eod`) would do the same at the cost of a second Django
    start-up and an orphan if the server stops; an in-process Celery worker
    on the memory broker would be more machinery for the same result."""
    kwargs = {
        "business_date_iso": business_date.isoformat(),
        "acting_user_id": acting_user_id,
        "source": str(source),
    }
    if not run_end_of_day_task.app.conf.task_always_eager:
        run_end_of_day_task.apply_async(kwargs=kwargs)
        return None
    thread = threading.Thread(
        target=_run_in_thread, kwargs=kwargs, name=f"eod-{business_date}", daemon=True
    )
    thread.start()
    return thread


def _run_in_thread(**kwargs) -> None:
    try:
        run_end_of_day_task.apply(kwargs=kwargs, throw=True)
    except Exception:
        # The run records its own failure; this is for what it could not
        # record (the database gone away, a bad date).
        logger.exception("end of day in a background thread failed")
    finally:
        connections.close_all()  # this thread's connections only


@shared_task(
    name="core.eod_work",
    soft_time_limit=EOD_SOFT_TIME_LIMIT,
    time_limit=EOD_TIME_LIMIT,
)
def eod_work_task(run_id: int, step: str) -> dict:
    """Take part in step `step` of run `run_id` (core.eod.work_on_step)."""
    return {"run": run_id, "step": step, "chunks": work_on_step(run_id, step)}


def enqueue_step_helpers(*, run_id: int, step: str, n: int) -> None:
    """Queue `n` helpers for a step just planned. Called after commit (the
    helpers read the step's chunk rows)."""
    for _ in range(n):
        eod_work_task.apply_async(kwargs={"run_id": run_id, "step": step})


@shared_task(name="core.eod_kick")
def eod_kick_task() -> dict:
    """Start again the latest run queued or running that nothing works on
    (core.eod.stalled_run): its driver and helpers died, or its message was
    lost. Queues its driver; a run being worked on is left alone."""
    run = stalled_run()
    if run is None:
        return {"kicked": None}
    logger.warning("end of day %s: no worker on it; starting it again", run.business_date)
    run_end_of_day_task.apply_async(
        kwargs={
            "business_date_iso": run.business_date.isoformat(),
            "acting_user_id": run.requested_by_id,
            "source": run.source or EodRun.Source.TASK,
        }
    )
    return {"kicked": run.business_date.isoformat()}


@worker_ready.connect
def _kick_on_worker_start(sender=None, **kwargs) -> None:
    """A worker starting (again, after a crash) picks up a run left stalled."""
    if not eod_kick_task.app.conf.task_always_eager:
        eod_kick_task.apply_async()
