"""The advisory locks of end of day.

- `_LOCK_KEY`, held in SHARED mode by every process taking part in a run
  (the in-process runner, each Celery task working on chunks) for as long
  as it takes part. Several workers thus share one run; an EXCLUSIVE holder
  (maintenance, a test) keeps every one of them out. `lock_held()` says
  whether any process holds it: a run is executing right now.
- `(_RUN_CLASS, run id)`, also shared, per run: whether anyone is working on
  that run (`run_alive`), so a run left `running` by dead workers can be
  told from a live one.
- `_START_KEY`, transaction-level and exclusive: starting a run (queued,
  failed or new to running) checks that no other run is live under it, so
  one run executes at a time.

Session-level locks die with their connection: a worker killed with
`kill -9` holds nothing once PostgreSQL notices its socket closed.
"""

import contextlib

from django.db import connection

from core.exceptions import Conflict

_LOCK_KEY = 0xE0D0
_RUN_CLASS = 0xE0D1
_START_KEY = 0xE0D2


def _one(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (value,) = cursor.fetchone()
    return value


@contextlib.contextmanager
def participating():
    """Hold the end-of-day lock in shared mode for the block; Conflict if a
    process holds it exclusively."""
    if not _one("SELECT pg_try_advisory_lock_shared(%s)", [_LOCK_KEY]):
        raise Conflict("End of day is already running.", code="eod_running")
    try:
        yield
    finally:
        _one("SELECT pg_advisory_unlock_shared(%s)", [_LOCK_KEY])


@contextlib.contextmanager
def working_on(run_id: int):
    """Mark this session as working on run `run_id` for the block."""
    _one("SELECT pg_advisory_lock_shared(%s, %s) IS NULL", [_RUN_CLASS, run_id])
    try:
        yield
    finally:
        _one("SELECT pg_advisory_unlock_shared(%s, %s)", [_RUN_CLASS, run_id])


def serialise_starts() -> None:
    """Inside a transaction: wait for any other run start to commit."""
    _one("SELECT pg_advisory_xact_lock(%s) IS NULL", [_START_KEY])


_HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = %s"
)


def lock_held() -> bool:
    """Whether some session holds the end-of-day lock, i.e. a run is
    executing right now (a run left `running` by a crashed process holds
    nothing: its session ended with it)."""
    return _one(_HELD + ")", [_LOCK_KEY >> 32, _LOCK_KEY & 0xFFFFFFFF, 1])


def run_alive(run_id: int) -> bool:
    """Whether a session other than this one is working on run `run_id`."""
    return _one(_HELD + " AND pid <> pg_backend_pid())", [_RUN_CLASS, run_id, 2])
