"""Doing one chunk of a step: inside the caller's transaction (which holds
the chunk's row lock), with failures isolated per item for steps that name
their items (core.eod.register_step, `items`)."""

import logging
import os
import socket
import traceback
from datetime import date

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from core.bulk import gc_paused
from core.eod.registry import Chunk, IdRange, Step
from core.models import EodChunk, EodFailure, EodRun

logger = logging.getLogger("core.eod")

# Not an item's fault: the database went away or gave up on the transaction
# (deadlock, serialisation, statement timeout), or the task ran out of time.
# Retrying halves would fail every item of the chunk for nothing; the chunk
# fails as a whole instead, and the run resumes it when started again.
NOT_ISOLATED = (OperationalError, InterfaceError, SoftTimeLimitExceeded)


def worker_name() -> str:
    """host:pid of this process (computed per call: a forked pool child has
    its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def as_chunk(row: EodChunk) -> Chunk:
    if row.ids is not None:
        return list(row.ids)
    return IdRange(row.first_id, row.last_id, row.size)


def chunk_fields(chunk: Chunk) -> dict:
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


def execute(run: EodRun, step: Step, row: EodChunk) -> None:
    """Do chunk `row` of `step` and mark it done, in the caller's
    transaction. Raises what fails the chunk as a whole: any exception of a
    step without `items`, NOT_ISOLATED ones, an exception of `items`, and
    the first exception when every item of the chunk fails alone."""
    business_date = run.business_date
    chunk = as_chunk(row)
    failures: list[tuple[int, BaseException]] = []
    with gc_paused():  # a chunk is batch work (core.bulk)
        try:
            with transaction.atomic():
                counts = step.run(business_date, chunk) or {}
        except NOT_ISOLATED:
            raise
        except Exception as exc:
            if step.items is None:
                raise
            ids = [int(i) for i in step.items(business_date, chunk)]
            if not ids:
                raise  # nothing of the step's in the chunk: not an item's fault
            if len(ids) == 1:
                counts, failures = {}, [(ids[0], exc)]
            else:
                counts, failures = _bisect(step, business_date, ids)
                if len(failures) == len(ids):
                    # Every item fails alone: the step is broken, not its
                    # items. Fail the chunk (and the run) rather than close
                    # the day with the whole book on the list.
                    raise exc

    now = timezone.now()
    if failures:
        _record_failures(run, step, row, failures, now)
    if row.retry:
        failed = {object_id for object_id, _ in failures}
        EodFailure.objects.filter(
            run=run,
            step=step.name,
            object_id__in=[i for i in row.ids if i not in failed],
            resolved_at__isnull=True,
        ).update(resolved_at=now)
    row.status = EodChunk.Status.DONE
    row.counts = counts
    row.error = ""
    row.worker = worker_name()[:100]
    row.finished_at = now
    row.save(update_fields=["status", "counts", "error", "worker", "finished_at"])


def _bisect(step: Step, business_date: date, ids: list[int]):
    """Run `step` on halves of `ids`, each in a savepoint, down to single
    ids: (summed counts of the parts that succeeded, [(id, exception)] of
    the ids that fail alone)."""
    counts: dict = {}
    failures: list[tuple[int, BaseException]] = []

    def attempt(part: list[int]) -> None:
        try:
            with transaction.atomic():
                got = step.run(business_date, list(part)) or {}
        except NOT_ISOLATED:
            raise
        except Exception as exc:
            if len(part) == 1:
                failures.append((part[0], exc))
                return
            halve(part)
            return
        for key, value in got.items():
            if isinstance(value, int) and isinstance(counts.get(key, 0), int):
                counts[key] = counts.get(key, 0) + value
            else:
                counts[key] = value

    def halve(part: list[int]) -> None:
        middle = len(part) // 2
        attempt(part[:middle])
        attempt(part[middle:])

    halve(ids)
    return counts, failures


def _record_failures(run, step, row, failures, now) -> None:
    for object_id, exc in failures:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        logger.warning(
            "end of day %s: %s skipped item %s: %s", run.business_date, step.name, object_id, error
        )
        fields = {
            "chunk": row,
            "error": error,
            "traceback": "".join(traceback.format_exception(exc))[-4000:],
            "failed_at": now,
            "resolved_at": None,
        }
        updated = EodFailure.objects.filter(run=run, step=step.name, object_id=object_id).update(
            attempts=F("attempts") + 1, **fields
        )
        if not updated:
            EodFailure.objects.create(run=run, step=step.name, object_id=object_id, **fields)
