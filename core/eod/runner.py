"""Running end of day: opening a run, moving it through its steps, the
processes that take part in it, catch-up of missed days.

Everything a run needs is in its rows (EodRun, EodStep, EodChunk,
EodFailure), so any process may take part and any may die:

- `_open` starts (or resumes, or joins) the run of one date, under a
  transaction-level lock that keeps a second run from starting while one
  is live (core.eod.locks).
- `_advance`, under the run's row lock, moves the run on: it marks a step
  done when none of its chunks is left open, plans the next one (computes
  and stores its chunks; with `fan_out`, queues one helper task per chunk
  after commit) and completes the run after the last. Whoever finds no
  chunk left to claim calls it; the run row lock makes a second call a
  no-op, so the step ends exactly once whichever worker finishes last.
- `_take` claims one pending chunk of the current step with SELECT ... FOR
  UPDATE SKIP LOCKED and does it in that transaction, so the chunk's work,
  its `done` and its counts commit together. When every pending chunk is
  held by someone else, a participant waits on one (FOR UPDATE without
  SKIP LOCKED): if its holder commits, the chunk is done; if its holder
  dies, its lock goes with its connection and the waiter gets the chunk,
  so a worker killed mid-chunk costs that chunk's redo and nothing else.
- The driver (`run_end_of_day`, in-process or in the `core.run_end_of_day`
  task) takes part in every step until the run ends; helpers
  (`work_on_step`, the `core.eod_work` task) take part in one step.
"""

import contextlib
import logging
import traceback
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core import audit, context
from core.businessdate import advance_business_date, get_business_date
from core.eod import locks
from core.eod.chunks import chunk_fields as _chunk_fields
from core.eod.chunks import execute
from core.eod.registry import CHUNK_SIZE, Step, get_step, steps
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory, EodChunk, EodFailure, EodRun, EodStep

logger = logging.getLogger("core.eod")

ProgressCallback = Callable[[EodRun], None]


# --- dates -------------------------------------------------------------------


def last_closed_date() -> date | None:
    """The latest business date whose end of day completed (with or without
    failed items), or None if none has."""
    return EodRun.objects.filter(status__in=EodRun.CLOSED).aggregate(d=Max("business_date"))["d"]


def dates_to_close(business_date: date) -> list[date]:
    """The dates a run for `business_date` closes, oldest first: the missed
    days from the day after the last closed date through `business_date`,
    or `business_date` alone when no day has closed or the last closed one
    is not before it (a past date run again)."""
    last = last_closed_date()
    first = last + timedelta(days=1) if last is not None and last < business_date else business_date
    return [first + timedelta(days=n) for n in range((business_date - first).days + 1)]


def check_business_date(business_date: date | None) -> date:
    """`business_date`, default today's business date; ValidationFailed if
    it is after today's business date (end of day cannot run ahead)."""
    today = get_business_date()
    business_date = business_date or today
    if business_date > today:
        raise ValidationFailed(
            "End of day cannot run ahead of the business date.",
            fields={"business_date": [f"Pick a date on or before {today:%Y-%m-%d}."]},
        )
    return business_date


def advance_if_today(business_date: date, acting_user) -> None:
    """Move the business date on by one day if `business_date` is today's."""
    if business_date == get_business_date():
        advance_business_date(to=business_date + timedelta(days=1), acting_user=acting_user)


# --- who is acting -----------------------------------------------------------


@contextlib.contextmanager
def _acting(acting_user):
    """Audit the block as `acting_user` (their request's context if we are in
    it; in a worker or thread, a context of their own), or as the system
    job "eod"."""
    if acting_user is None:
        with context.system_actor("eod"):
            yield
        return
    if context.current().user_id == acting_user.pk:
        yield
        return
    token = context.set_context(
        context.ActorContext(
            user_id=acting_user.pk,
            label=acting_user.get_username(),
            request_id=uuid.uuid4().hex,
        )
    )
    try:
        yield
    finally:
        context.reset_context(token)


def _notify(on_progress: ProgressCallback | None, run: EodRun) -> None:
    if on_progress is not None:
        on_progress(run)


# --- the driver --------------------------------------------------------------


def run_end_of_day(
    business_date: date | None = None,
    *,
    advance: bool = True,
    acting_user=None,
    source: str = EodRun.Source.TASK,
    on_progress: ProgressCallback | None = None,
    fan_out: bool = False,
) -> EodRun:
    """Run (or resume) end of day for `business_date` (default: today's
    business date) in this process, first catching up missed days: if the
    last closed date is before the day before it, each day after it is run
    first, in order, one run per day (`dates_to_close`), stopping at a day
    that fails. Returns the last run reached; its status says how it ended
    (failed runs are returned, not raised, with `error` set).

    A closed date is a no-op, except that a date completed with failed
    items runs again for those items. With `fan_out`, each step's chunks
    are also queued as Celery tasks (after commit) for other workers to
    share; this process takes part in every step either way, so without a
    worker it does the whole run alone.

    Refuses a date after today's business date (ValidationFailed) and a
    start while another date's run is live or the end-of-day lock is held
    exclusively (Conflict). With `advance` (the default), a completed run
    of today's business date moves it on by one day. Audit events are
    written as `acting_user`, or as the system job "eod". `source` records
    who started it; `on_progress(run)` is called as steps are planned,
    after each chunk and at the end (outside any transaction).
    """
    business_date = check_business_date(business_date)
    run = None
    with _acting(acting_user), locks.participating():
        for day in dates_to_close(business_date):
            run = _open(
                day, acting_user=acting_user, source=source, fan_out=fan_out, advance=advance
            )
            if run.status == EodRun.Status.RUNNING:
                with locks.working_on(run.pk):
                    _participate(run, on_progress=on_progress)
                run.refresh_from_db()
            if not run.closed:
                break
            if advance:
                advance_if_today(day, acting_user)
    return run


def work_on_step(run_id: int, step_name: str) -> int:
    """A helper's part (the `core.eod_work` task): take chunks of step
    `step_name` of run `run_id` until none is left open, then move the run
    on. Returns how many chunks it did; 0, doing nothing, if the run is not
    running, has moved past the step, or the lock is held exclusively."""
    run = EodRun.objects.select_related("requested_by").filter(pk=run_id).first()
    if run is None or run.status != EodRun.Status.RUNNING or get_step(step_name) is None:
        return 0
    try:
        with _acting(run.requested_by), locks.participating(), locks.working_on(run.pk):
            return _participate(run, only=step_name)
    except Conflict:
        return 0


def stalled_run() -> EodRun | None:
    """The latest run queued or running while no process takes part in end
    of day at all (its workers died, or its message was lost), for the
    watchdog to start again; None when there is none or something runs."""
    if locks.lock_held():
        return None
    return (
        EodRun.objects.filter(status__in=[EodRun.Status.QUEUED, EodRun.Status.RUNNING])
        .order_by("-business_date")
        .first()
    )


# --- opening a run -----------------------------------------------------------


def lock_run(business_date: date, *, status: str, source: str, requested_by, **fields):
    """(run, created): the date's run row locked FOR UPDATE (in the
    caller's transaction), created with these fields if there is none."""
    return EodRun.objects.select_for_update().get_or_create(
        business_date=business_date,
        defaults={"status": status, "source": source, "requested_by": requested_by, **fields},
    )


def reopen_run(run: EodRun, *, status: str, source: str, requested_by, **fields) -> None:
    """Set a run that exists (locked by `lock_run`) to `status` again, as
    started by `requested_by` from `source`, its error and end cleared."""
    values = {
        "status": status,
        "error": "",
        "finished_at": None,
        "source": source,
        "requested_by": requested_by,
        **fields,
    }
    for name, value in values.items():
        setattr(run, name, value)
    run.save(update_fields=list(values))


def _open(day: date, *, acting_user, source: str, fan_out: bool, advance: bool) -> EodRun:
    """The run of `day`, running: created, or started again (queued,
    failed, completed with failures, or left running by dead processes),
    or joined as it is if other processes are on it; returned as it is if
    completed."""
    now = timezone.now()
    with transaction.atomic():
        locks.serialise_starts()
        run, created = lock_run(
            day,
            status=EodRun.Status.RUNNING,
            source=source,
            requested_by=acting_user,
            started_at=now,
            fan_out=fan_out,
            advances=advance,
        )
        if run.status == EodRun.Status.COMPLETED:
            return run
        if run.status == EodRun.Status.RUNNING and locks.run_alive(run.pk):
            return run  # join the workers already on it
        for other in EodRun.objects.filter(status=EodRun.Status.RUNNING).exclude(pk=run.pk):
            if locks.run_alive(other.pk):
                raise Conflict(
                    f"End of day {other.business_date:%B %-d, %Y} is already running; "
                    "wait for it to finish.",
                    code="eod_running",
                )
        first_start = created or run.started_at is None
        previous = run.status
        if not created:
            reopen_run(
                run,
                status=EodRun.Status.RUNNING,
                source=source,
                requested_by=acting_user,
                started_at=run.started_at or now,
                fan_out=fan_out,
                advances=advance,
            )
            # What was in progress is planned again from its rows: failed
            # chunks are pending again, and the step they are in is reached
            # afresh (with fan_out, its open chunks are shared out again).
            EodChunk.objects.filter(run=run, status=EodChunk.Status.FAILED).update(
                status=EodChunk.Status.PENDING
            )
            EodStep.objects.filter(
                run=run, status__in=[EodStep.Status.RUNNING, EodStep.Status.FAILED]
            ).update(status=EodStep.Status.PENDING, finished_at=None)
        audit.record(
            action="eod.started" if first_start else "eod.resumed",
            category=AuditCategory.STATE_CHANGE,
            obj=run,
            metadata={
                "business_date": day.isoformat(),
                "steps": [s.name for s in steps()],
                **({} if first_start else {"previous_status": previous}),
            },
            actor=acting_user,
        )
        _plan_steps(run)
        # Starting a date again retries the items it skipped (queued again
        # from the page, or run again directly), unless retries are already
        # planned and not yet done (a retry run that crashed).
        if (
            not created
            and EodFailure.objects.filter(run=run, resolved_at__isnull=True).exists()
            and not EodChunk.objects.filter(run=run, retry=True)
            .exclude(status=EodChunk.Status.DONE)
            .exists()
        ):
            _plan_retries(run)
    return run


def _plan_steps(run: EodRun) -> None:
    """A pending EodStep row for every registered step, once per run (a
    resumed run keeps its rows and gains any step registered since)."""
    EodStep.objects.bulk_create(
        [EodStep(run=run, name=s.name, position=s.order, unit=s.unit) for s in steps()],
        ignore_conflicts=True,
    )


def _plan_retries(run: EodRun) -> None:
    """Retry chunks for the items a run that completed with failures
    skipped: in the step each failed in and in every later step over the
    same unit that names its items (those steps processed the item on a
    state the failed step had not brought up to date; steps are idempotent,
    so running them again for it posts only what is missing). Steps without
    `items` are not run again, nor steps not planned yet (their own chunks
    will hold the items)."""
    failed: dict[str, set[int]] = {}
    for step_name, object_id in EodFailure.objects.filter(
        run=run, resolved_at__isnull=True
    ).values_list("step", "object_id"):
        failed.setdefault(step_name, set()).add(object_id)
    carried: dict[str, set[int]] = {}  # unit -> ids failed in a step so far
    for step in steps():
        ids = carried.setdefault(step.unit, set())
        ids |= failed.get(step.name, set())
        row = EodStep.objects.filter(run=run, name=step.name).first()
        if step.items is None or not ids or row is None or row.chunks_total is None:
            continue
        ordered = sorted(ids)
        start = (
            EodChunk.objects.filter(run=run, step=step.name).aggregate(m=Max("index"))["m"] or 0
        ) + 1
        pieces = [ordered[i : i + CHUNK_SIZE] for i in range(0, len(ordered), CHUNK_SIZE)]
        EodChunk.objects.bulk_create(
            [
                EodChunk(run=run, step=step.name, index=start + n, retry=True, **_chunk_fields(p))
                for n, p in enumerate(pieces)
            ]
        )
        row.status = EodStep.Status.PENDING
        row.finished_at = None
        row.chunks_total = (row.chunks_total or 0) + len(pieces)
        row.items_total = None if row.items_total is None else row.items_total + len(ordered)
        row.save(update_fields=["status", "finished_at", "chunks_total", "items_total"])


# --- moving a run on ---------------------------------------------------------


def _advance(run: EodRun) -> str | None:
    """Under the run's row lock: mark done the steps with no open chunk,
    plan the first step not yet planned, complete the run after the last.
    Returns the name of the step with open chunks to work on, or None if
    the run is not running (any more)."""
    with transaction.atomic():
        locked = EodRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != EodRun.Status.RUNNING:
            return None
        rows = {r.name: r for r in EodStep.objects.filter(run=locked)}
        for step in steps():
            row = rows.get(step.name)
            if row is None:
                row = EodStep.objects.create(
                    run=locked, name=step.name, position=step.order, unit=step.unit
                )
            if row.status == EodStep.Status.DONE:
                continue
            now = timezone.now()
            if row.chunks_total is None:
                _plan(locked, step, row)
            open_chunks = (
                EodChunk.objects.filter(run=locked, step=step.name)
                .exclude(status=EodChunk.Status.DONE)
                .count()
            )
            if open_chunks:
                if row.status != EodStep.Status.RUNNING:
                    EodStep.objects.filter(pk=row.pk).update(status=EodStep.Status.RUNNING)
                    if locked.fan_out:
                        _share_out(locked, step.name, open_chunks)
                return step.name
            EodStep.objects.filter(pk=row.pk).update(
                status=EodStep.Status.DONE,
                finished_at=now,
                started_at=row.started_at or now,
            )
        _complete(locked)
        run.status = locked.status
        return None


def _plan(run: EodRun, step: Step, row: EodStep) -> None:
    """Compute and store the step's chunks and totals (once per run)."""
    EodChunk.objects.bulk_create(
        [
            EodChunk(run=run, step=step.name, index=i, **_chunk_fields(chunk))
            for i, chunk in enumerate(step.chunks(run.business_date))
        ],
        ignore_conflicts=True,
    )
    sizes = list(EodChunk.objects.filter(run=run, step=step.name).values_list("size", flat=True))
    row.chunks_total = len(sizes)
    row.items_total = None if None in sizes else sum(sizes)
    row.started_at = row.started_at or timezone.now()
    row.save(update_fields=["chunks_total", "items_total", "started_at"])


def _share_out(run: EodRun, step_name: str, n: int) -> None:
    """After commit, queue `n` helper tasks for the step (one per open
    chunk: each takes chunks until none is free, so however many workers
    there are, all of them can take part)."""
    from core.tasks import enqueue_step_helpers  # core.tasks imports this module

    transaction.on_commit(partial(enqueue_step_helpers, run_id=run.pk, step=step_name, n=n))


def _complete(run: EodRun) -> None:
    """Every step done: the run is completed, with failures if items were
    skipped; today's business date moves on if the run was started to."""
    failures = EodFailure.objects.filter(run=run, resolved_at__isnull=True).count()
    run.status = EodRun.Status.COMPLETED_WITH_FAILURES if failures else EodRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    audit.record(
        action="eod.completed",
        category=AuditCategory.STATE_CHANGE,
        obj=run,
        metadata={
            "business_date": run.business_date.isoformat(),
            "counts": totals(run),
            **({"failures": failures} if failures else {}),
        },
        actor=run.requested_by,
    )
    if run.advances:
        advance_if_today(run.business_date, run.requested_by)


# --- taking part -------------------------------------------------------------

_DONE, _GONE, _NONE, _FAILED = "done", "gone", "none", "failed"


def _participate(run: EodRun, *, only: str | None = None, on_progress=None) -> int:
    """Take chunks of the run's current step, move the run on when none is
    left, and go on with the next step (or, with `only`, stop once the run
    has moved past that step). Returns the number of chunks done here."""
    done = 0
    while True:
        current = _advance(run)
        _notify(on_progress, run)
        if current is None or (only is not None and current != only):
            return done
        step = get_step(current)
        while (outcome := _take(run, step, wait=False)) == _DONE:
            done += 1
            _notify(on_progress, run)
        if outcome == _FAILED:
            _notify(on_progress, run)
            return done
        # Every open chunk is held by another process: wait on one, which
        # ends when its holder commits it or dies (then it is ours).
        outcome = _take(run, step, wait=True)
        if outcome == _FAILED:
            _notify(on_progress, run)
            return done
        if outcome == _DONE:
            done += 1
            _notify(on_progress, run)


def _take(run: EodRun, step: Step, *, wait: bool) -> str:
    """Claim one pending chunk of `step` and do it in this transaction.
    Without `wait`, only a chunk no one holds (SKIP LOCKED); with it, the
    first pending chunk, waiting for its holder. Returns _DONE when this
    process did a chunk, _GONE when its holder did it while this one
    waited, _NONE when there was none to take, _FAILED when it failed the
    run."""
    row = None
    try:
        with transaction.atomic():
            pending = EodChunk.objects.filter(
                run=run, step=step.name, status=EodChunk.Status.PENDING
            ).order_by("index")
            if wait:
                if not pending.exists():
                    return _NONE
                row = pending.select_for_update().first()
                if row is None:
                    return _GONE  # its holder finished it while we waited
            else:
                row = pending.select_for_update(skip_locked=True).first()
                if row is None:
                    return _NONE
            execute(run, step, row)
    except Exception as exc:
        if row is None:
            raise
        _fail(run, row, exc)
        return _FAILED
    return _DONE


def _fail(run: EodRun, row: EodChunk, exc: Exception) -> None:
    message = f"{row.step} chunk {row.index}: {type(exc).__name__}: {exc}"
    logger.error("end of day %s failed: %s", run.business_date, message)
    with transaction.atomic():
        now = timezone.now()
        EodChunk.objects.filter(pk=row.pk).update(
            status=EodChunk.Status.FAILED,
            error="".join(traceback.format_exception(exc))[-4000:],
            finished_at=now,
        )
        EodStep.objects.filter(run=run, name=row.step).update(
            status=EodStep.Status.FAILED, finished_at=now
        )
        updated = EodRun.objects.filter(pk=run.pk, status=EodRun.Status.RUNNING).update(
            status=EodRun.Status.FAILED, error=message[:2000], finished_at=now
        )
        run.status = EodRun.Status.FAILED
        if updated:
            audit.record(
                action="eod.failed",
                category=AuditCategory.STATE_CHANGE,
                obj=run,
                metadata={"step": row.step, "chunk": row.index, "error": message[:500]},
            )


def totals(run: EodRun) -> dict[str, dict[str, int]]:
    """step -> summed counts of its done chunks."""
    out: dict[str, dict[str, int]] = {}
    for step, counts in EodChunk.objects.filter(run=run, status=EodChunk.Status.DONE).values_list(
        "step", "counts"
    ):
        into = out.setdefault(step, {})
        for key, value in (counts or {}).items():
            if isinstance(value, int):
                into[key] = into.get(key, 0) + value
    return out
