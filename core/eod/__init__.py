"""End of day: an ordered, resumable cycle of registered steps, each fanned
out over chunks that any number of processes share.

Apps register their steps at start-up (`register_step`, from their
AppConfig.ready()); core knows no app. A step has

- `chunks(business_date)`: the work split into chunks, each an id range
  `(first_id, last_id)` (inclusive; `None` leaves an end open; `id_ranges`
  makes IdRange tuples that also carry their size) or a list of ids. They
  are computed once per run, when the step is first reached, and stored as
  EodChunk rows, so a resumed run sees the same chunks even if new rows
  appeared since.
- `run(business_date, chunk)`: does one chunk (in the transaction the
  runner opens for it) and returns a dict of counts.
- `unit`: what a chunk's items are ("loans"), for progress.
- optionally `items(business_date, chunk)`: the ids of the chunk's items;
  with it, an item whose processing raises is isolated (bisection in
  savepoints), recorded as an EodFailure and skipped, instead of failing
  the chunk and the run (see `register_step` for the contract).

A run is one EodRun per date, split into its steps in declared order; each
step's chunks are claimed from the database (SELECT ... FOR UPDATE SKIP
LOCKED) by whoever takes part, and each chunk's work commits with its
`done` in one transaction, so a chunk is done exactly once however many
workers share the run and whichever of them dies (core.eod.runner says
how steps chain and how a dead worker's chunk is picked up).

`core.services.eod.start_end_of_day()` is what the staff page calls: it
records the run as queued and hands it to a Celery worker after commit.
The worker's task (`core.run_end_of_day`) is the driver: it calls
`run_end_of_day(..., fan_out=True)`, which queues one helper task
(`core.eod_work`) per chunk of each step as the step is planned and takes
part itself. `run_end_of_day` without `fan_out` (tests, `manage.py
run_eod`, no broker) does the whole run in one process, with the same
rows, the same claims and the same result.

A run that ends with failed items is `completed_with_failures`: the day is
closed (the business date moves on), its failures are the list of items to
look at, and running the date again retries them (only them). Missed days
are caught up first, one run per day from the oldest (`dates_to_close`,
`last_closed_date`). A chunk that fails as a whole stops the run (failed);
starting it again resumes where it stopped. A completed date is a no-op.
"""

from core.eod.locks import _LOCK_KEY, lock_held, run_alive
from core.eod.registry import (
    CHUNK_SIZE,
    Chunk,
    IdRange,
    Step,
    get_step,
    id_ranges,
    in_chunk,
    register_step,
    steps,
    unregister_step,
)
from core.eod.runner import (
    ProgressCallback,
    advance_if_today,
    check_business_date,
    dates_to_close,
    last_closed_date,
    lock_run,
    reopen_run,
    run_end_of_day,
    stalled_run,
    totals,
    work_on_step,
)

__all__ = [
    "CHUNK_SIZE",
    "_LOCK_KEY",
    "Chunk",
    "IdRange",
    "ProgressCallback",
    "Step",
    "advance_if_today",
    "check_business_date",
    "dates_to_close",
    "get_step",
    "id_ranges",
    "in_chunk",
    "last_closed_date",
    "lock_held",
    "lock_run",
    "register_step",
    "reopen_run",
    "run_alive",
    "run_end_of_day",
    "stalled_run",
    "steps",
    "totals",
    "unregister_step",
    "work_on_step",
]
