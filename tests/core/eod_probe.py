"""A test-only end-of-day step for real Celery worker processes.

Workers started by tests/core/test_eod_workers.py load this module with
`celery -A lending worker -I tests.core.eod_probe` and EOD_PROBE_DIR set;
it then registers the step "probe" (between charge-off and statements),
whose behaviour the test steers through files in that directory, so the
test can change it while the workers run:

- chunks.json: the step's chunks, a list of id lists;
- fail.json: ids whose processing raises (the "broken loans");
- block: an id whose processing, the first time only, writes `blocked`
  (the worker's pid) and then waits, holding its chunk, until the worker
  is killed.

Processing an id writes an audit event "test.probe" (object id = the id,
metadata = the worker's pid), in the chunk's transaction: counting those
events counts the ids processed and committed. Imported without
EOD_PROBE_DIR (as pytest does when collecting), it registers nothing.
"""

import json
import os
import time
from pathlib import Path

from core import audit
from core.eod import register_step
from core.models import AuditCategory

STEP = "probe"


def _dir() -> Path:
    return Path(os.environ["EOD_PROBE_DIR"])


def _read(name: str, default):
    path = _dir() / name
    return json.loads(path.read_text()) if path.exists() else default


def chunks(business_date):
    return _read("chunks.json", [])


def items(business_date, chunk):
    return list(chunk)


def run(business_date, chunk):
    failing = set(_read("fail.json", []))
    block = _dir() / "block"
    blocked = _dir() / "blocked"
    for item in chunk:
        if block.exists() and int(block.read_text()) == item and not blocked.exists():
            blocked.write_text(str(os.getpid()))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # until the test kills this process
                time.sleep(0.1)
            raise RuntimeError("the test never killed the blocked worker")
        if item in failing:
            raise ValueError(f"probe item {item} is broken")
        audit.record(
            action="test.probe",
            category=AuditCategory.UPDATE,
            object_type="probe",
            object_id=str(item),
            metadata={"pid": os.getpid(), "date": business_date.isoformat()},
        )
    return {"items": len(chunk)}


if os.environ.get("EOD_PROBE_DIR"):
    register_step(STEP, 35, chunks=chunks, run=run, items=items, unit="items")
