"""End of day: an ordered, resumable pipeline of registered steps.

Apps register their steps at start-up (`register_step`, from their
AppConfig.ready()); core knows no app. A step has

- `chunks(business_date)`: the work split into chunks, each an id range
  `(first_id, last_id)` (inclusive; `None` leaves an end open; `id_ranges`
  makes IdRange tuples that also carry their size) or a list of ids. They
  are computed once per run, when the step is first reached, and stored as
  EodChunk rows, so a resumed run sees the same chunks even if new rows
  appeared since.
- `run(business_date, chunk)`: does one chunk and returns a dict of counts.
- `unit`: what a chunk's items are ("loans"), for progress.

`core.services.eod.start_end_of_day()` is what the staff page calls: it
records the run as queued and hands it to a Celery worker after commit
(core.tasks), returning at once. `run_end_of_day(business_date)` is the
worker's (and beat's, and `manage.py run_eod`'s) body: it runs the steps in
order, each chunk in its own transaction, recording it done with its counts
in that transaction. A chunk already done is skipped, so a crashed or failed
run resumes where it stopped. A chunk that raises rolls back, is marked
failed with the error, and stops the run (status failed). When every step is
done the run is completed and, if its date is today's business date, the
business date advances by one day. A completed date is a no-op when run
again.

Progress is recorded as it happens, in short transactions of its own: one
EodStep row per registered step (created when the run starts, so the steps
still to come are listed), marked running when reached, with its chunk and
item totals once planned, and done or failed; the done and failed counts
are summed from the EodChunk rows (core.selectors.eod_run_progress), so
chunks could finish in parallel on several workers without contending on a
shared counter row.
"""

import contextlib
import logging
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core import audit, context
from core.bulk import gc_paused
from core.businessdate import advance_business_date, get_business_date
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory, EodChunk, EodRun, EodStep

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
# An arbitrary constant naming the end-of-day advisory lock (one run at a time).
_LOCK_KEY = 0xE0D0


class IdRange(tuple):
    """An inclusive id range `(first, last)`: a plain 2-tuple to every caller
    (it unpacks and compares as one), which also knows how many ids it holds
    (`size`, or None when unknown) so progress can count items."""

    def __new__(cls, first: int | None, last: int | None, size: int | None = None):
        self = super().__new__(cls, (first, last))
        self.size = size
        return self


Chunk = tuple[int | None, int | None] | list[int]
ProgressCallback = Callable[[EodRun], None]


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    chunks: Callable[[date], Sequence[Chunk]]
    run: Callable[[date, Chunk], dict]
    unit: str = ""


_STEPS: dict[str, Step] = {}


def register_step(
    name: str,
    order: int,
    *,
    chunks: Callable[[date], Sequence[Chunk]],
    run: Callable[[date, Chunk], dict],
    unit: str = "",
) -> Step:
    """Register (or replace) the step `name`; steps run by ascending `order`.
    `unit` names a chunk's items in progress ("loans"); leave it empty for a
    step whose chunks have no countable size."""
    step = Step(name=name, order=order, chunks=chunks, run=run, unit=unit)
    _STEPS[name] = step
    return step


def unregister_step(name: str) -> None:
    _STEPS.pop(name, None)


def steps() -> list[Step]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def id_ranges(ids: Sequence[int], size: int = CHUNK_SIZE) -> list[IdRange]:
    """Inclusive (first, last) ranges of `ids` (ascending), `size` ids each."""
    ids = list(ids)
    return [
        IdRange(ids[i], ids[min(i + size, len(ids)) - 1], len(ids[i : i + size]))
        for i in range(0, len(ids), size)
    ]


def in_chunk(queryset, chunk: Chunk, field_name: str = "pk"):
    """`queryset` narrowed to the chunk's ids."""
    if isinstance(chunk, list):
        return queryset.filter(**{f"{field_name}__in": chunk})
    first, last = chunk
    if first is not None:
        queryset = queryset.filter(**{f"{field_name}__gte": first})
    if last is not None:
        queryset = queryset.filter(**{f"{field_name}__lte": last})
    return queryset


def _as_chunk(row: EodChunk) -> Chunk:
    if row.ids is not None:
        return list(row.ids)
    return IdRange(row.first_id, row.last_id, row.size)


def _chunk_fields(chunk: Chunk) -> dict:
    if isinstance(chunk, tuple):
        first, last = chunk
        return {
            "first_id": first,
            "last_id": last,
            "ids": None,
            "size": getattr(chunk, "size", None),
        }
    ids = [int(i) for i in chunk]
    return {
        "first_id": min(ids, default=None),
        "last_id": max(ids, default=None),
        "ids": ids,
        "size": len(ids),
    }


@contextlib.contextmanager
def _exclusive():
    """Hold the end-of-day advisory lock for the block; Conflict if another
    run holds it. (Session-level, so it spans the per-chunk transactions.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        (got,) = cursor.fetchone()
    if not got:
        raise Conflict("End of day is already running.", code="eod_running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def lock_held() -> bool:
    """Whether some session holds the end-of-day advisory lock, i.e. a run
    is executing right now (a run left `running` by a crashed process holds
    nothing: its session ended with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
            [_LOCK_KEY >> 32, _LOCK_KEY & 0xFFFFFFFF],
        )
        (held,) = cursor.fetchone()
    return held


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


def _plan_steps(run: EodRun) -> None:
    """A pending EodStep row for every registered step, once per run (a
    resumed run keeps its rows and gains any step registered since)."""
    EodStep.objects.bulk_create(
        [EodStep(run=run, name=s.name, position=s.order, unit=s.unit) for s in steps()],
        ignore_conflicts=True,
    )


def _begin_step(run: EodRun, step: Step) -> list[EodChunk]:
    """Mark the step running, then return its stored chunks, computing and
    storing them (and the step's totals) the first time."""
    EodStep.objects.filter(run=run, name=step.name).update(
        status=EodStep.Status.RUNNING, finished_at=None
    )
    EodStep.objects.filter(run=run, name=step.name, started_at__isnull=True).update(
        started_at=timezone.now()
    )
    rows = list(EodChunk.objects.filter(run=run, step=step.name).order_by("index"))
    if rows:
        return rows
    with transaction.atomic():
        EodChunk.objects.bulk_create(
            [
                EodChunk(run=run, step=step.name, index=i, **_chunk_fields(chunk))
                for i, chunk in enumerate(step.chunks(run.business_date))
            ],
            ignore_conflicts=True,
        )
        rows = list(EodChunk.objects.filter(run=run, step=step.name).order_by("index"))
        sizes = [r.size for r in rows]
        EodStep.objects.filter(run=run, name=step.name).update(
            chunks_total=len(rows),
            items_total=None if None in sizes else sum(sizes),
        )
    return rows


def _run_chunk(run: EodRun, step: Step, row: EodChunk) -> None:
    """One chunk in one transaction: the step's work and the chunk's `done`
    commit together, so a crash in between redoes the whole chunk."""
    with transaction.atomic():
        locked = EodChunk.objects.select_for_update().get(pk=row.pk)
        if locked.status == EodChunk.Status.DONE:
            return
        with gc_paused():  # a chunk is batch work (core.bulk)
            counts = step.run(run.business_date, _as_chunk(locked)) or {}
        locked.status = EodChunk.Status.DONE
        locked.counts = counts
        locked.error = ""
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "counts", "error", "finished_at"])


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
        run.status = EodRun.Status.FAILED
        run.error = message[:2000]
        run.finished_at = now
        run.save(update_fields=["status", "error", "finished_at"])
        audit.record(
            action="eod.failed",
            category=AuditCategory.STATE_CHANGE,
            obj=run,
            metadata={"step": row.step, "chunk": row.index, "error": message[:500]},
        )


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


def run_end_of_day(
    business_date: date | None = None,
    *,
    advance: bool = True,
    acting_user=None,
    source: str = EodRun.Source.TASK,
    on_progress: ProgressCallback | None = None,
) -> EodRun:
    """Run (or resume) end of day for `business_date` (default: today's
    business date) in this process. Returns the run; its status says how it
    ended (failed runs are returned, not raised, with `error` set).

    Refuses a date after today's business date (ValidationFailed) and a
    second concurrent run (Conflict). With `advance` (the default), a
    completed run of today's business date moves it on by one day. Audit
    events are written as `acting_user`, or as the system job "eod".
    `source` records who started it; `on_progress(run)` is called when a
    step begins, after each chunk and at the end (outside any transaction).
    """
    business_date = check_business_date(business_date)
    with _acting(acting_user), _exclusive():
        return _run(
            business_date,
            advance=advance,
            acting_user=acting_user,
            source=source,
            on_progress=on_progress,
        )


def _run(business_date: date, *, advance: bool, acting_user, source: str, on_progress) -> EodRun:
    now = timezone.now()
    with transaction.atomic():
        run, created = EodRun.objects.select_for_update().get_or_create(
            business_date=business_date,
            defaults={
                "status": EodRun.Status.RUNNING,
                "started_at": now,
                "source": source,
                "requested_by": acting_user,
            },
        )
        if run.status != EodRun.Status.COMPLETED:
            first_start = created or run.started_at is None
            previous = run.status
            if not created:
                run.status = EodRun.Status.RUNNING
                run.started_at = run.started_at or now
                run.error = ""
                run.finished_at = None
                run.source = source
                run.requested_by = acting_user
                run.save(
                    update_fields=[
                        "status",
                        "started_at",
                        "error",
                        "finished_at",
                        "source",
                        "requested_by",
                    ]
                )
            audit.record(
                action="eod.started" if first_start else "eod.resumed",
                category=AuditCategory.STATE_CHANGE,
                obj=run,
                metadata={
                    "business_date": business_date.isoformat(),
                    "steps": [s.name for s in steps()],
                    **({} if first_start else {"previous_status": previous}),
                },
                actor=acting_user,
            )
            _plan_steps(run)
    if run.status != EodRun.Status.COMPLETED:
        done = set(
            EodStep.objects.filter(run=run, status=EodStep.Status.DONE).values_list(
                "name", flat=True
            )
        )
        for step in steps():
            if step.name in done:
                continue
            rows = _begin_step(run, step)
            _notify(on_progress, run)
            for row in rows:
                if row.status == EodChunk.Status.DONE:
                    continue
                try:
                    _run_chunk(run, step, row)
                except Exception as exc:
                    _fail(run, row, exc)
                    _notify(on_progress, run)
                    return run
                _notify(on_progress, run)
            EodStep.objects.filter(run=run, name=step.name).update(
                status=EodStep.Status.DONE, finished_at=timezone.now()
            )
        with transaction.atomic():
            run.status = EodRun.Status.COMPLETED
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at"])
            audit.record(
                action="eod.completed",
                category=AuditCategory.STATE_CHANGE,
                obj=run,
                metadata={"business_date": business_date.isoformat(), "counts": totals(run)},
                actor=acting_user,
            )
        _notify(on_progress, run)
    if advance:
        advance_if_today(business_date, acting_user)
    return run


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
