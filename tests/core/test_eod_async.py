"""End of day leaves the request that starts it: the page queues the run to
Redis and a real Celery worker process runs it; with no broker (eager Celery)
it runs in a background thread and the request still returns at once; the
progress fragment shows each step's counts and bars as the run goes; a
second start is refused; `manage.py run_eod` prints progress as it goes.

These tests commit (transaction=True) because a worker process or thread
reads what the request wrote."""

import base64
import io
import json
import os
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from core.businessdate import get_business_date
from core.eod import register_step, unregister_step
from core.models import AuditEvent, EodChunk, EodRun, EodStep
from servicing.models import JournalEntry
from tests.servicing.conftest import (  # noqa: F401 (fixtures)
    _account_cache,
    customer,
    make_loan,
    product,
    set_business_date,
)

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 60  # seconds: generous, the machine is shared


def wait_for(predicate, timeout=WAIT, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def join_eod_threads() -> None:
    """Wait for background end-of-day threads (eager mode) to end, so none
    writes after the test's database is flushed."""
    for thread in threading.enumerate():
        if thread.name.startswith("eod-"):
            thread.join(60)


@pytest.fixture
def gate():
    """A test step (between charge-off and statements) over three id-list
    chunks whose second chunk waits until the test opens the gate, so the
    test can look at a run in progress."""
    opened = threading.Event()
    reached = threading.Event()

    def run(business_date, chunk):
        if chunk == [2]:
            reached.set()
            if not opened.wait(WAIT):
                raise RuntimeError("the test never opened the gate")
        return {"items": len(chunk)}

    register_step("gate", 35, chunks=lambda d: [[1], [2], [3]], run=run, unit="items")
    yield opened, reached
    opened.set()
    join_eod_threads()
    unregister_step("gate")


@pytest.fixture
def eager(settings):
    """No broker: Celery runs tasks in the caller (as `make run` without Redis).
    (The Celery app reads Django's settings live, so the override reaches it.)"""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def broker():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued_messages() -> list[dict]:
    return [json.loads(raw) for raw in broker().lrange("celery", 0, -1)]


@pytest.fixture
def empty_queue():
    """The default Celery queue in this test's Redis database, emptied before
    and after (other tests may leave messages no worker consumed)."""
    broker().delete("celery")
    yield
    broker().delete("celery")


@pytest.fixture
def worker():
    """start() launches a real Celery worker process (solo pool) on this
    test's database and Redis; it is stopped when the test ends."""
    processes = []

    def start():
        name = connection.settings_dict["NAME"]
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": settings.CELERY_BROKER_URL}
        # The broker URL is already this xdist worker's own Redis database;
        # without the marker the child's settings do not shift it again.
        env.pop("PYTEST_XDIST_WORKER", None)
        celery = os.path.join(os.path.dirname(sys.executable), "celery")
        command = [celery, "-A", "lending", "worker", "--pool", "solo", "--loglevel", "WARNING"]
        process = subprocess.Popen(
            [*command, "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_start_queues_to_redis_and_a_celery_worker_runs_it(
    staff_client,
    make_loan,  # noqa: F811 (the servicing fixture)
    empty_queue,
    worker,
):
    loans = [make_loan(reference=f"APP-{i}") for i in range(3)]
    set_business_date(date(2026, 2, 15))
    client, manager = staff_client("manager")
    entries_before = JournalEntry.objects.count()

    started = time.monotonic()
    response = client.post(reverse("business-date"), {"action": "run_eod"})
    elapsed = time.monotonic() - started

    run = EodRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("eod-run", args=[run.pk])
    assert elapsed < 2, elapsed
    # nothing was processed in the request: the run is only queued
    assert run.status == EodRun.Status.QUEUED
    assert not EodChunk.objects.exists() and not EodStep.objects.exists()
    assert JournalEntry.objects.count() == entries_before
    [message] = queued_messages()
    assert message["headers"]["task"] == "core.run_end_of_day"
    _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert kwargs == {
        "business_date_iso": "2026-02-15",
        "acting_user_id": manager.pk,
        "source": "staff",
    }
    page = client.get(reverse("eod-run-progress", args=[run.pk])).content.decode()
    assert "Queued" in page and 'hx-trigger="every 1s"' in page

    process = worker()
    wait_for(
        lambda: (
            process.poll() is not None
            or EodRun.objects.filter(pk=run.pk, status__in=["completed", "failed"]).exists()
        ),
        message="the worker to finish the run",
    )
    assert process.poll() is None, process.stdout.read().decode()
    run.refresh_from_db()
    assert (run.status, run.error) == (EodRun.Status.COMPLETED, "")
    # The driver also queues a helper task (core.eod_work) per chunk of each
    # step for other workers (issue 13: fan-out); with one worker, which did
    # every chunk itself, the helpers it takes afterwards find nothing left.
    wait_for(lambda: queued_messages() == [], message="the helpers to drain")
    # the worker did the work, as the manager: each loan's first instalment
    # fell due (accrual:1) and its second period's first day accrued (daily:)
    assert JournalEntry.objects.count() == entries_before + 2 * len(loans)
    assert AuditEvent.objects.get(action="eod.completed").actor_id == manager.pk

    page = client.get(reverse("eod-run-progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in page
    assert "Completed" in page and "8 of 8 steps done" in page  # the worker's registered steps
    assert '<progress class="eod-run-bar" value="100" max="100"' in page
    accrue = page[page.index('data-step="accrue"') :]
    accrue = accrue[: accrue.index("</tr>")]
    assert '<progress value="3" max="3"' in accrue
    assert "3 of 3 loans, 1 of 1 chunks" in accrue
    assert "entries 3, loans 3" in accrue


def test_progress_fragment_shows_a_run_in_progress(staff_client, gate, eager):
    opened, reached = gate
    set_business_date(date(2026, 5, 4))
    client, _ = staff_client("manager")

    response = client.post(reverse("business-date"), {"action": "run_eod"})
    assert response.status_code == 302
    assert reached.wait(WAIT)
    run = EodRun.objects.get()
    try:
        page = client.get(reverse("eod-run-progress", args=[run.pk])).content.decode()
        assert 'hx-trigger="every 1s"' in page
        assert "Running" in page and "4 of 9 steps done, now gate." in page
        row = page[page.index('data-step="gate"') :]
        row = row[: row.index("</tr>")]
        assert 'data-status="running"' in row
        assert '<progress value="1" max="3" aria-label="Gate">' in row
        assert "1 of 3 items, 1 of 3 chunks" in row
        assert "items 1" in row
        statements = page[page.index('data-step="statements"') :]
        assert "not started" in statements[: statements.index("</tr>")]
        percent = int(100 * (4 + 1 / 3) / 9)
        assert f'<progress class="eod-run-bar" value="{percent}" max="100"' in page
        # the business date page shows the same fragment for the run in progress
        page = client.get(reverse("business-date")).content.decode()
        assert "Running now:" in page and f'id="eod-progress-{run.pk}"' in page
    finally:
        opened.set()
    wait_for(lambda: EodRun.objects.filter(pk=run.pk, status="completed").exists())
    page = client.get(reverse("eod-run-progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in page
    assert "3 of 3 items, 3 of 3 chunks" in page


def test_eager_start_returns_before_the_run_and_the_run_completes_after(staff_client, gate, eager):
    """With no broker, the request does not run end of day: it returns while
    the run is still going (here held at the gate) in a background thread."""
    opened, reached = gate
    set_business_date(date(2026, 5, 4))
    client, manager = staff_client("manager")

    response = client.post(reverse("business-date"), {"action": "run_eod"})

    assert response.status_code == 302
    run = EodRun.objects.get()
    assert run.status in (EodRun.Status.QUEUED, EodRun.Status.RUNNING)
    assert run.finished_at is None
    assert reached.wait(WAIT)  # the thread is at the gate, after the response
    threads = [t for t in threading.enumerate() if t.name == "eod-2026-05-04"]
    assert len(threads) == 1 and threads[0].daemon
    run.refresh_from_db()
    assert run.status == EodRun.Status.RUNNING

    opened.set()
    threads[0].join(WAIT)
    run.refresh_from_db()
    assert run.status == EodRun.Status.COMPLETED
    assert AuditEvent.objects.get(action="eod.completed").actor_id == manager.pk
    assert get_business_date() == date(2026, 5, 5)
    assert list(
        EodStep.objects.filter(run=run).order_by("position").values_list("name", "status")
    ) == [
        ("expire_applications", "done"),
        ("fall_due", "done"),
        ("late_fees", "done"),
        ("accrue", "done"),
        ("gate", "done"),
        ("charge_off", "done"),
        ("statements", "done"),
        ("autopay", "done"),
        ("purge_idempotency_records", "done"),
    ]


def test_a_second_start_while_one_runs_is_refused(staff_client, gate, eager):
    opened, reached = gate
    set_business_date(date(2026, 5, 4))
    client, _ = staff_client("manager")
    assert client.post(reverse("business-date"), {"action": "run_eod"}).status_code == 302
    assert reached.wait(WAIT)
    run = EodRun.objects.get()
    try:
        response = client.post(reverse("business-date"), {"action": "run_eod"})
        assert response.status_code == 409
        page = response.content.decode()
        assert "End of day May 4, 2026 is already running (since" in page
        assert "wait for it to finish." in page
        # nothing was queued again or written
        assert AuditEvent.objects.filter(action="eod.queued").count() == 1
        assert [t.name for t in threading.enumerate()].count("eod-2026-05-04") == 1
        run.refresh_from_db()
        assert run.status == EodRun.Status.RUNNING
    finally:
        opened.set()
    wait_for(lambda: EodRun.objects.filter(pk=run.pk, status="completed").exists())


def test_a_start_while_a_run_is_queued_is_refused(staff_client, empty_queue):
    set_business_date(date(2026, 5, 4))
    client, _ = staff_client("manager")
    assert client.post(reverse("business-date"), {"action": "run_eod"}).status_code == 302

    response = client.post(reverse("business-date"), {"action": "run_eod"})

    assert response.status_code == 409
    assert "End of day May 4, 2026 is already queued (since" in response.content.decode()
    assert len(queued_messages()) == 1
    assert AuditEvent.objects.filter(action="eod.queued").count() == 1
    assert EodRun.objects.get().status == EodRun.Status.QUEUED


def test_run_eod_prints_progress_and_the_page_lists_its_run(
    staff_client,
    make_loan,  # noqa: F811 (the servicing fixture)
):
    make_loan()
    set_business_date(date(2026, 2, 15))
    out = io.StringIO()

    call_command("run_eod", stdout=out)

    lines = out.getvalue().splitlines()
    assert "  accrue: running, 0 of 1 loans, 0 of 1 chunks" in lines
    assert "  accrue: done, 1 of 1 loans, 1 of 1 chunks (entries 1, loans 1)" in lines
    assert lines.index("  accrue: running, 0 of 1 loans, 0 of 1 chunks") < lines.index(
        "  accrue: done, 1 of 1 loans, 1 of 1 chunks (entries 1, loans 1)"
    )
    assert "  late_fees: done, nothing to do" in lines  # no instalment past its grace
    assert "  charge_off: done, nothing to do" in lines
    assert lines[-1] == "End of day 2026-02-15 completed."
    run = EodRun.objects.get()
    assert (run.source, run.requested_by) == ("command", None)

    client, _ = staff_client("manager")
    page = client.get(reverse("business-date")).content.decode()
    assert "manage.py run_eod" in page
    assert "accrue: done, 1 of 1 loans, 1 of 1 chunks, entries 1, loans 1" in page
    page = client.get(reverse("eod-run", args=[run.pk])).content.decode()
    assert "Started via manage.py run_eod," in page and "9 of 9 steps done" not in page  # 8 steps
    assert "8 of 8 steps done" in page

    out = io.StringIO()
    call_command("run_eod", "--date", "2026-02-15", stdout=out)
    assert out.getvalue().splitlines() == [
        "End of day 2026-02-15 had already completed.",
        "End of day 2026-02-15 completed.",
    ]
