"""End of day shared by real Celery worker processes (`celery -A lending
worker`, solo pool) on a throwaway Redis server started for these tests:
two workers share one run; a worker killed with SIGKILL in the middle of a
chunk loses only that chunk's uncommitted work, which another worker (or a
worker started afterwards) redoes, so every item is processed exactly
once; a failing item is skipped and listed, the rest committed, and
running the date again once the cause is gone processes it, once.

The workers load the test step "probe" (tests/core/eod_probe.py), steered
through files in a temporary directory. These tests commit
(transaction=True) because the workers read what the test wrote."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from datetime import date
from functools import partial

import pytest
import redis
from django.conf import settings
from django.db import connection

from core.businessdate import get_business_date
from core.eod import lock_held
from core.models import AuditEvent, BusinessDate, EodChunk, EodFailure, EodRun
from core.tasks import run_end_of_day_task
from lending.celery import app
from tests.core.test_eod_async import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 60  # seconds (wait_for's default), generous: the machine is shared


def wait(predicate, what: str, workers=None):
    """wait_for, with the workers' output in the failure message."""
    try:
        return wait_for(predicate, message=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.log() if workers else ''}") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def broker_url(tmp_path_factory):
    """A redis-server of our own on a free port, for this module only."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing (the redis-server package)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def up():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    wait(up, "redis-server to start")
    yield url
    process.terminate()
    process.wait(20)


@pytest.fixture
def probe(tmp_path, broker_url):
    """The probe step's control directory, the broker emptied."""
    redis.Redis.from_url(broker_url).flushdb()
    return tmp_path


class Workers:
    """start() launches a real Celery worker on this test's database and the
    throwaway Redis, returns once it is ready; all are stopped at the end."""

    def __init__(self, broker_url: str, probe_dir):
        self.broker_url = broker_url
        self.probe_dir = probe_dir
        self.processes: list[subprocess.Popen] = []
        self.output: dict[int, list[str]] = {}

    def start(self, n: int = 1):
        """Start `n` workers side by side; returns the process (n=1) or a
        list of them, once all are ready."""
        started = [self._spawn() for _ in range(n)]
        for process in started:
            wait(partial(self._ready, process), "a worker to be ready", self)
            assert process.poll() is None, "".join(self.output[process.pid])
        return started[0] if n == 1 else started

    def _spawn(self) -> subprocess.Popen:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": self.broker_url,
            "EOD_PROBE_DIR": str(self.probe_dir),
        }
        env.pop("PYTEST_XDIST_WORKER", None)  # the URL is already the one to use
        celery = os.path.join(os.path.dirname(sys.executable), "celery")
        name = f"w{len(self.processes) + 1}@%h"
        command = [celery, "-A", "lending", "worker", "--pool", "solo", "-n", name]
        # the probe step, imported once Django is set up, like a task module
        command += ["-I", "tests.core.eod_probe", "--loglevel", "INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        process = subprocess.Popen(
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        self.output[process.pid] = lines
        threading.Thread(target=self._drain, args=(process, lines), daemon=True).start()
        self.processes.append(process)
        return process

    def _ready(self, process) -> bool:
        lines = self.output[process.pid]
        return process.poll() is not None or any(" ready." in line for line in lines)

    @staticmethod
    def _drain(process, lines):
        for line in process.stdout:
            lines.append(line)

    def log(self) -> str:
        return "\n".join("".join(lines) for lines in self.output.values())

    def stop(self):
        # The test is over and so is its run: no need for a warm shutdown.
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait()


@pytest.fixture
def workers(broker_url, probe):
    pool = Workers(broker_url, probe)
    yield pool
    pool.stop()


def start_run(broker_url: str, business_date: date) -> None:
    """Queue the driver of end of day on the throwaway broker, as the staff
    page's start does on the configured one (core.tasks.enqueue_end_of_day)."""
    with app.connection_for_write(broker_url) as conn, app.amqp.Producer(conn) as producer:
        run_end_of_day_task.apply_async(
            kwargs={"business_date_iso": business_date.isoformat(), "source": "task"},
            producer=producer,
        )


def write(probe_dir, name: str, value) -> None:
    (probe_dir / name).write_text(json.dumps(value))


def processed() -> dict[int, list[int]]:
    """item -> the pids of the workers whose processing of it committed."""
    out: dict[int, list[int]] = {}
    for object_id, metadata in AuditEvent.objects.filter(action="test.probe").values_list(
        "object_id", "metadata"
    ):
        out.setdefault(int(object_id), []).append(metadata["pid"])
    return out


def run_ended(business_date: date) -> EodRun | None:
    return EodRun.objects.filter(
        business_date=business_date,
        status__in=[*EodRun.CLOSED, EodRun.Status.FAILED],
    ).first()


def test_two_workers_share_a_run_and_a_killed_workers_chunk_is_done_once(workers, probe):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date(2026, 5, 4)})
    write(probe, "chunks.json", [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]])
    write(probe, "fail.json", [6])
    (probe / "block").write_text("1")  # the first chunk's first item waits
    first, second = workers.start(2)

    start_run(workers.broker_url, date(2026, 5, 4))

    # One worker holds chunk [1, 2] (blocked on item 1); the other does the
    # rest of the step meanwhile: the two share the step.
    wait(lambda: (probe / "blocked").exists(), "a worker to block", workers)
    blocked = int((probe / "blocked").read_text())
    assert blocked in (first.pid, second.pid)
    survivor = second if blocked == first.pid else first
    wait(lambda: set(processed()) == {3, 4, 5, 7, 8, 9, 10}, "the other chunks", workers)
    assert all(pids == [survivor.pid] for pids in processed().values())
    assert EodChunk.objects.get(step="probe", index=0).status == "pending"

    # Killed mid-chunk: its transaction dies with it, its lock on the chunk
    # goes, and the survivor, waiting on that chunk, gets it and does it.
    os.kill(blocked, signal.SIGKILL)

    run = wait(lambda: run_ended(date(2026, 5, 4)), "the run to end", workers)
    # every item once; items 1 and 2, whose first processing died with its
    # worker, done again by the survivor; item 6 skipped with its error
    assert processed().keys() == {1, 2, 3, 4, 5, 7, 8, 9, 10}
    assert all(pids == [survivor.pid] for pids in processed().values())
    assert run.status == EodRun.Status.COMPLETED_WITH_FAILURES
    [failure] = EodFailure.objects.all()
    assert (failure.step, failure.object_id, failure.error) == (
        "probe",
        6,
        "ValueError: probe item 6 is broken",
    )
    assert "eod_probe.py" in failure.traceback
    chunks = {c.index: c for c in EodChunk.objects.filter(run=run, step="probe")}
    assert {i: (c.status, c.counts) for i, c in chunks.items()} == {
        0: ("done", {"items": 2}),
        1: ("done", {"items": 2}),
        2: ("done", {"items": 1}),  # 5 committed, 6 skipped
        3: ("done", {"items": 2}),
        4: ("done", {"items": 2}),
    }
    # each chunk records the process that did it: the two workers only
    workers_of = {c.worker.rsplit(":", 1)[1] for c in EodChunk.objects.filter(run=run)}
    assert str(survivor.pid) in workers_of <= {str(first.pid), str(second.pid)}
    assert get_business_date() == date(2026, 5, 5)  # the day closed

    # The cause is gone: running the date again processes item 6, only it.
    write(probe, "fail.json", [])
    start_run(workers.broker_url, date(2026, 5, 4))
    wait(
        lambda: EodRun.objects.filter(pk=run.pk, status="completed").exists(),
        "the re-run",
        workers,
    )
    assert processed().keys() == set(range(1, 11))
    assert all(len(pids) == 1 for pids in processed().values())
    failure.refresh_from_db()
    assert failure.resolved_at is not None
    retry = EodChunk.objects.get(run=run, step="probe", retry=True)
    assert (retry.ids, retry.status, retry.counts) == ([6], "done", {"items": 1})
    assert get_business_date() == date(2026, 5, 5)
    actions = list(
        AuditEvent.objects.filter(action__startswith="eod.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["eod.started", "eod.completed", "eod.resumed", "eod.completed"]


def test_a_run_whose_only_worker_is_killed_completes_when_a_worker_starts(workers, probe):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date(2026, 5, 4)})
    write(probe, "chunks.json", [[1], [2], [3]])
    (probe / "block").write_text("2")
    only = workers.start()
    start_run(workers.broker_url, date(2026, 5, 4))
    wait(lambda: (probe / "blocked").exists(), "the worker to block", workers)
    assert int((probe / "blocked").read_text()) == only.pid

    os.kill(only.pid, signal.SIGKILL)
    only.wait(WAIT)
    # PostgreSQL ends the dead worker's session (releasing its locks) once
    # it sees the socket closed; until then the run looks alive.
    wait(lambda: not lock_held(), "the dead worker's session to end")
    run = EodRun.objects.get()
    assert run.status == EodRun.Status.RUNNING  # nobody is on it now
    assert set(processed()) == {1}

    workers.start()  # on start, a worker picks up the stalled run

    run = wait(lambda: run_ended(date(2026, 5, 4)), "the run to end", workers)
    assert run.status == EodRun.Status.COMPLETED
    assert sorted(processed()) == [1, 2, 3]
    assert all(len(pids) == 1 for pids in processed().values())
    assert get_business_date() == date(2026, 5, 5)
    actions = list(
        AuditEvent.objects.filter(action__startswith="eod.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["eod.started", "eod.resumed", "eod.completed"]
