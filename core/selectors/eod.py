"""Reads over end-of-day runs: a run's progress by step and chunk, the items
it failed and skipped, recent runs."""

from dataclasses import dataclass, replace
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q, Sum

from core.models import EodChunk, EodFailure, EodRun, EodStep

# The failed items a run's page lists (the count shows all of them).
FAILURES_SHOWN = 100


@dataclass(frozen=True)
class StepProgress:
    """One step of an end-of-day run as far as it has got. `chunks_total`
    and `items_total` are None until the step is reached (items_total also
    when its chunks have no size); `counts` sums the done chunks' counts."""

    name: str
    status: str
    unit: str
    chunks_total: int | None
    chunks_done: int
    chunks_failed: int
    items_total: int | None
    items_done: int
    counts: dict[str, int]
    started_at: datetime | None
    finished_at: datetime | None
    items_failed: int = 0  # items skipped with an error, not yet processed since

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def count_pairs(self) -> list[tuple[str, int]]:
        """The counts as (name, value) pairs, for templates (a count named
        "items" would shadow dict.items there)."""
        return sorted(self.counts.items())

    @property
    def bar(self) -> tuple[int, int] | None:
        """(value, max) for a progress bar: items if known, else chunks;
        None while running with nothing known (an indeterminate bar)."""
        if self.items_total:
            return self.items_done, self.items_total
        if self.chunks_total:
            return self.chunks_done, self.chunks_total
        if self.status == EodStep.Status.RUNNING:
            return None
        # nothing to do (done with no chunks) is full; not reached yet is empty
        return (1, 1) if self.status == EodStep.Status.DONE else (0, 1)

    @property
    def fraction(self) -> float:
        bar = self.bar
        if self.status == EodStep.Status.DONE:
            return 1.0
        return bar[0] / bar[1] if bar else 0.0

    @property
    def summary(self) -> str:
        """ "183 of 183 loans, 1 of 1 chunks", or what is known of it."""
        if self.chunks_total is None:
            return "planning chunks" if self.status == EodStep.Status.RUNNING else "not started"
        if self.chunks_total == 0:
            return "nothing to do"
        parts = []
        if self.items_total is not None and self.unit:
            parts.append(f"{self.items_done:,} of {self.items_total:,} {self.unit}")
        parts.append(f"{self.chunks_done:,} of {self.chunks_total:,} chunks")
        if self.chunks_failed:
            parts.append(f"{self.chunks_failed:,} failed")
        if self.items_failed:
            parts.append(f"{self.items_failed:,} {self.unit or 'items'} failed")
        return ", ".join(parts)


@dataclass(frozen=True)
class RunProgress:
    """A run and its steps; `failures` are its unresolved failed items (at
    most FAILURES_SHOWN, oldest step first; `failures_total` counts them
    all, `failures_resolved` those a later run of the date processed);
    `waiting_for` is the earlier date's run a queued run waits for (missed
    days are closed first)."""

    run: EodRun
    steps: list[StepProgress]
    failures: list[EodFailure] = ()
    failures_total: int = 0
    failures_resolved: int = 0
    waiting_for: EodRun | None = None

    @property
    def finished(self) -> bool:
        return self.run.finished

    @property
    def loan_steps(self) -> set[str]:
        """The steps whose items are loans (their failures link to the loan)."""
        return {s.name for s in self.steps if s.unit == "loans"}

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps if s.status == EodStep.Status.DONE)

    @property
    def percent(self) -> int:
        """The whole run, 0-100: done steps, plus the share of the one running."""
        if self.run.closed:
            return 100
        if not self.steps:
            return 0
        return int(100 * sum(s.fraction for s in self.steps) / len(self.steps))

    @property
    def current(self) -> StepProgress | None:
        """The step running or failed, if any."""
        return next(
            (s for s in self.steps if s.status in (EodStep.Status.RUNNING, EodStep.Status.FAILED)),
            None,
        )


def eod_run_progress(run_id: int) -> RunProgress:
    """One run's progress, steps in pipeline order, with its failed items
    (EodRun.DoesNotExist if there is no such run). Seven queries whatever
    the run's size."""
    run = EodRun.objects.select_related("requested_by").get(pk=run_id)
    [progress] = _progress([run])
    failures = EodFailure.objects.filter(run=run)
    waiting_for = None
    if run.status == EodRun.Status.QUEUED:
        waiting_for = (
            EodRun.objects.filter(status=EodRun.Status.RUNNING, business_date__lt=run.business_date)
            .order_by("business_date")
            .first()
        )
    totals = failures.aggregate(
        open=Count("id", filter=Q(resolved_at__isnull=True)),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
    )
    return replace(
        progress,
        failures=list(failures.filter(resolved_at__isnull=True).order_by("id")[:FAILURES_SHOWN]),
        failures_total=totals["open"],
        failures_resolved=totals["resolved"],
        waiting_for=waiting_for,
    )


def recent_eod_runs(limit: int = 10) -> list[RunProgress]:
    """The last `limit` runs, newest date first, each with its progress
    (failed items counted per step, not listed). Five queries."""
    return _progress(list(EodRun.objects.select_related("requested_by")[:limit]))


def active_eod_run() -> EodRun | None:
    """The run running (the oldest, while missed days are caught up), else
    the newest queued (a run left running by a crashed process shows here
    until it is started again)."""
    return (
        EodRun.objects.filter(status=EodRun.Status.RUNNING).order_by("business_date").first()
        or EodRun.objects.filter(status=EodRun.Status.QUEUED).order_by("-business_date").first()
    )


def _progress(runs: list[EodRun]) -> list[RunProgress]:
    if not runs:
        return []
    ids = [r.pk for r in runs]
    step_rows = {
        (s.run_id, s.name): s for s in EodStep.objects.filter(run_id__in=ids).order_by("position")
    }
    tally: dict[tuple[int, str], dict] = {}
    for row in (
        EodChunk.objects.filter(run_id__in=ids)
        .values("run_id", "step", "status")
        .annotate(n=Count("id"), items=Sum("size"))
        .order_by()
    ):
        into = tally.setdefault((row["run_id"], row["step"]), {})
        into[row["status"]] = (row["n"], row["items"] or 0)
    failed_items = {
        (row["run_id"], row["step"]): row["n"]
        for row in EodFailure.objects.filter(run_id__in=ids, resolved_at__isnull=True)
        .values("run_id", "step")
        .annotate(n=Count("id"))
        .order_by()
    }
    counts: dict[tuple[int, str], dict[str, int]] = {}
    with connection.cursor() as cursor:
        # Sum each numeric count over the done chunks in the database, not
        # row by row here: a large book has hundreds of chunks per step.
        cursor.execute(
            "SELECT c.run_id, c.step, kv.key, SUM((kv.value #>> '{}')::numeric)"
            " FROM core_eodchunk c CROSS JOIN LATERAL jsonb_each(c.counts) kv"
            " WHERE c.run_id = ANY(%s) AND c.status = %s AND jsonb_typeof(kv.value) = 'number'"
            " GROUP BY 1, 2, 3",
            [ids, EodChunk.Status.DONE],
        )
        for run_id, step, key, value in cursor.fetchall():
            counts.setdefault((run_id, step), {})[key] = int(value)
    out = []
    for run in runs:
        names = [name for (run_id, name) in step_rows if run_id == run.pk]
        # runs from before steps were recorded have only chunks
        names += sorted({n for (run_id, n) in tally if run_id == run.pk} - set(names))
        steps = []
        for name in names:
            row = step_rows.get((run.pk, name))
            by_status = tally.get((run.pk, name), {})
            done_n, done_items = by_status.get(EodChunk.Status.DONE, (0, 0))
            failed_n, _ = by_status.get(EodChunk.Status.FAILED, (0, 0))
            chunks_total = sum(n for n, _ in by_status.values()) if by_status else None
            status = row.status if row else _status_from_chunks(by_status)
            steps.append(
                StepProgress(
                    name=name,
                    status=status,
                    unit=row.unit if row else "",
                    chunks_total=row.chunks_total if row else chunks_total,
                    chunks_done=done_n,
                    chunks_failed=failed_n,
                    items_total=row.items_total if row else None,
                    items_done=done_items,
                    counts=counts.get((run.pk, name), {}),
                    started_at=row.started_at if row else None,
                    finished_at=row.finished_at if row else None,
                    items_failed=failed_items.get((run.pk, name), 0),
                )
            )
        out.append(RunProgress(run=run, steps=steps))
    return out


def _status_from_chunks(by_status: dict) -> str:
    if EodChunk.Status.FAILED in by_status:
        return EodStep.Status.FAILED
    if set(by_status) == {EodChunk.Status.DONE}:
        return EodStep.Status.DONE
    return EodStep.Status.RUNNING if by_status else EodStep.Status.PENDING
