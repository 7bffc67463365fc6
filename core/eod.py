"""End of day: an ordered, resumable pipeline of registered steps.

Apps register their steps at start-up (`register_step`, from their
AppConfig.ready()); core knows no app. A step has

- `chunks(business_date)`: the work split into chunks, each an id range
  `(first_id, last_id)` (inclusive; `None` leaves an end open) or a list of
  ids. They are computed once per run, when the step is first reached, and
  stored as EodChunk rows, so a resumed run sees the same chunks even if new
  rows appeared since.
- `run(business_date, chunk)`: does one chunk and returns a dict of counts.

`run_end_of_day(business_date)` runs the steps in order, each chunk in its
own transaction, recording it done with its counts in that transaction. A
chunk already done is skipped, so a crashed or failed run resumes where it
stopped. A chunk that raises rolls back, is marked failed with the error,
and stops the run (status failed). When every step is done the run is
completed and, if its date is today's business date, the business date
advances by one day. A completed date is a no-op when run again.
"""

import contextlib
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core import audit, context
from core.bulk import gc_paused
from core.businessdate import advance_business_date, get_business_date
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory, EodChunk, EodRun

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
# An arbitrary constant naming the end-of-day advisory lock (one run at a time).
_LOCK_KEY = 0xE0D0

Chunk = tuple[int | None, int | None] | list[int]


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    chunks: Callable[[date], Sequence[Chunk]]
    run: Callable[[date, Chunk], dict]


_STEPS: dict[str, Step] = {}


def register_step(
    name: str,
    order: int,
    *,
    chunks: Callable[[date], Sequence[Chunk]],
    run: Callable[[date, Chunk], dict],
) -> Step:
    """Register (or replace) the step `name`; steps run by ascending `order`."""
    step = Step(name=name, order=order, chunks=chunks, run=run)
    _STEPS[name] = step
    return step


def unregister_step(name: str) -> None:
    _STEPS.pop(name, None)


def steps() -> list[Step]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def id_ranges(ids: Sequence[int], size: int = CHUNK_SIZE) -> list[tuple[int, int]]:
    """Inclusive (first, last) ranges of `ids` (ascending), `size` ids each."""
    ids = list(ids)
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


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
    return list(row.ids) if row.ids is not None else (row.first_id, row.last_id)


def _chunk_fields(chunk: Chunk) -> dict:
    if isinstance(chunk, tuple):
        first, last = chunk
        return {"first_id": first, "last_id": last, "ids": None}
    ids = [int(i) for i in chunk]
    return {"first_id": min(ids, default=None), "last_id": max(ids, default=None), "ids": ids}


@contextlib.contextmanager
def _exclusive():
    """Hold the end-of-day advisory lock for the block; Conflict if another
    run holds it. (Session-level, so it spans the per-chunk transactions.)"""
    if connection.vendor != "postgresql":  # pragma: no cover - tests use PostgreSQL
        yield
        return
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


def _step_chunks(run: EodRun, step: Step) -> list[EodChunk]:
    """The step's stored chunks, computing and storing them the first time."""
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
    return list(EodChunk.objects.filter(run=run, step=step.name).order_by("index"))


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
        EodChunk.objects.filter(pk=row.pk).update(
            status=EodChunk.Status.FAILED,
            error="".join(traceback.format_exception(exc))[-4000:],
            finished_at=timezone.now(),
        )
        run.status = EodRun.Status.FAILED
        run.error = message[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        audit.record(
            action="eod.failed",
            category=AuditCategory.STATE_CHANGE,
            obj=run,
            metadata={"step": row.step, "chunk": row.index, "error": message[:500]},
        )


def run_end_of_day(
    business_date: date | None = None, *, advance: bool = True, acting_user=None
) -> EodRun:
    """Run (or resume) end of day for `business_date` (default: today's
    business date). Returns the run; its status says how it ended (failed
    runs are returned, not raised, with `error` set).

    Refuses a date after today's business date (ValidationFailed) and a
    second concurrent run (Conflict). With `advance` (the default), a
    completed run of today's business date moves it on by one day. Audit
    events are written as `acting_user`, or as the system job "eod".
    """
    today = get_business_date()
    business_date = business_date or today
    if business_date > today:
        raise ValidationFailed(
            "End of day cannot run ahead of the business date.",
            fields={"business_date": [f"Pick a date on or before {today:%Y-%m-%d}."]},
        )
    actor = contextlib.nullcontext() if acting_user else context.system_actor("eod")
    with actor, _exclusive():
        return _run(business_date, advance=advance, acting_user=acting_user)


def _run(business_date: date, *, advance: bool, acting_user) -> EodRun:
    with transaction.atomic():
        run, created = EodRun.objects.select_for_update().get_or_create(
            business_date=business_date,
            defaults={"status": EodRun.Status.RUNNING, "started_at": timezone.now()},
        )
        if run.status != EodRun.Status.COMPLETED:
            resumed_from = run.status
            if not created:
                run.status = EodRun.Status.RUNNING
                run.error = ""
                run.finished_at = None
                run.save(update_fields=["status", "error", "finished_at"])
            audit.record(
                action="eod.started" if created else "eod.resumed",
                category=AuditCategory.STATE_CHANGE,
                obj=run,
                metadata={
                    "business_date": business_date.isoformat(),
                    "steps": [s.name for s in steps()],
                    **({} if created else {"previous_status": resumed_from}),
                },
                actor=acting_user,
            )
    if run.status != EodRun.Status.COMPLETED:
        for step in steps():
            for row in _step_chunks(run, step):
                if row.status == EodChunk.Status.DONE:
                    continue
                try:
                    _run_chunk(run, step, row)
                except Exception as exc:
                    _fail(run, row, exc)
                    return run
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
    if advance and business_date == get_business_date():
        advance_business_date(to=business_date + timedelta(days=1), acting_user=acting_user)
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


@dataclass
class StepSummary:
    name: str
    chunks: int = 0
    done: int = 0
    failed: int = 0
    counts: dict = field(default_factory=dict)

    @property
    def count_pairs(self) -> list[tuple[str, int]]:
        """The counts as (name, value) pairs, for templates (a count named
        "items" would shadow dict.items there)."""
        return sorted(self.counts.items())

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        return "done" if self.done == self.chunks else "pending"


@dataclass
class RunSummary:
    run: EodRun
    steps: list[StepSummary]


def recent_runs(limit: int = 10) -> list[RunSummary]:
    """The last `limit` runs, newest date first, each with its steps in
    pipeline order (chunk totals by status and summed counts). Two queries."""
    runs = list(EodRun.objects.order_by("-business_date")[:limit])
    order = {s.name: (s.order, s.name) for s in steps()}
    by_run: dict[int, dict[str, StepSummary]] = {r.pk: {} for r in runs}
    rows = EodChunk.objects.filter(run__in=runs).values_list("run_id", "step", "status", "counts")
    for run_id, step, status, counts in rows:
        summary = by_run[run_id].setdefault(step, StepSummary(name=step))
        summary.chunks += 1
        if status == EodChunk.Status.DONE:
            summary.done += 1
            for key, value in (counts or {}).items():
                if isinstance(value, int):
                    summary.counts[key] = summary.counts.get(key, 0) + value
        elif status == EodChunk.Status.FAILED:
            summary.failed += 1
    return [
        RunSummary(
            run=r,
            steps=sorted(by_run[r.pk].values(), key=lambda s: order.get(s.name, (10**9, s.name))),
        )
        for r in runs
    ]
