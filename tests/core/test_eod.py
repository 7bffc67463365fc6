"""The end-of-day runner (core.eod): order, chunks, resume after a failure,
advancing the business date, the command, the task and the staff page."""

from datetime import date, timedelta

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from core import audit, eod
from core.businessdate import get_business_date
from core.eod import register_step, run_end_of_day, steps, unregister_step
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory, AuditEvent, BusinessDate, EodChunk, EodRun
from core.selectors.eod import recent_eod_runs
from core.services import eod as eod_services
from core.tasks import run_end_of_day_task

pytestmark = pytest.mark.django_db


def _set(d: date) -> None:
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": d})


@pytest.fixture
def flaky():
    """A test step between charge-off and statements over three id-list
    chunks; its second chunk writes an audit event and then raises, the
    first time only. `calls` lists the chunks it was given."""
    calls = []
    state = {"fail": True}

    def run(business_date, chunk):
        calls.append(chunk)
        audit.record(
            action="test.flaky_chunk",
            category=AuditCategory.UPDATE,
            object_type="test",
            object_id=str(chunk[0]),
        )
        if chunk == [2] and state["fail"]:
            state["fail"] = False
            raise RuntimeError("boom")
        return {"items": len(chunk)}

    register_step("flaky", 35, chunks=lambda d: [[1], [2], [3]], run=run, unit="items")
    yield calls
    unregister_step("flaky")


def test_registered_steps_run_in_order():
    assert [s.name for s in steps()] == [
        "expire_applications",
        "fall_due",
        "late_fees",
        "accrue",
        "charge_off",
        "statements",
        "autopay",
        "purge_idempotency_records",
    ]


def test_failed_chunk_stops_the_run_and_a_rerun_resumes_there(flaky):
    _set(date(2026, 5, 4))

    run = run_end_of_day()

    assert run.status == EodRun.Status.FAILED
    assert run.error == "flaky chunk 1: RuntimeError: boom"
    assert run.finished_at is not None
    chunks = EodChunk.objects.filter(run=run, step="flaky").order_by("index")
    assert [(c.index, c.ids, c.status, c.counts) for c in chunks] == [
        (0, [1], "done", {"items": 1}),
        (1, [2], "failed", {}),
        (2, [3], "pending", {}),
    ]
    assert "RuntimeError: boom" in chunks[1].error
    # the failed chunk's own writes rolled back; later steps never started
    assert list(
        AuditEvent.objects.filter(action="test.flaky_chunk").values_list("object_id", flat=True)
    ) == ["1"]
    assert not EodChunk.objects.filter(run=run, step="autopay").exists()
    assert get_business_date() == date(2026, 5, 4)
    failed = AuditEvent.objects.get(action="eod.failed")
    assert failed.actor_label == "system:eod"
    assert failed.metadata == {
        "step": "flaky",
        "chunk": 1,
        "error": "flaky chunk 1: RuntimeError: boom",
    }

    again = run_end_of_day()

    assert again.pk == run.pk
    assert again.status == EodRun.Status.COMPLETED
    assert again.error == ""
    assert flaky == [[1], [2], [2], [3]]  # chunk 0 was not redone
    assert (
        list(
            EodChunk.objects.filter(run=run, step="flaky")
            .order_by("index")
            .values_list("status", "counts")
        )
        == [("done", {"items": 1})] * 3
    )
    assert get_business_date() == date(2026, 5, 5)
    assert [
        e.action for e in AuditEvent.objects.filter(action__startswith="eod.").order_by("id")
    ] == [
        "eod.started",
        "eod.failed",
        "eod.resumed",
        "eod.completed",
    ]
    completed = AuditEvent.objects.get(action="eod.completed")
    assert completed.metadata["counts"]["flaky"] == {"items": 3}
    assert completed.metadata["counts"]["autopay"] == {
        "posted": 0,
        "already": 0,
        "skipped": 0,
        "not_configured": 1,
    }

    # a completed day is a no-op: no step runs, the date stays put
    assert run_end_of_day(date(2026, 5, 4)).pk == run.pk
    assert flaky == [[1], [2], [2], [3]]
    assert get_business_date() == date(2026, 5, 5)
    assert EodRun.objects.count() == 1


def test_no_advance_and_past_dates_leave_the_business_date():
    _set(date(2026, 5, 4))
    call_command("run_eod", "--date", "2026-05-03")
    assert run_end_of_day(date(2026, 5, 2)).status == EodRun.Status.COMPLETED
    call_command("run_eod", "--no-advance")
    assert list(EodRun.objects.values_list("business_date", "status")) == [
        (date(2026, 5, 4), "completed"),
        (date(2026, 5, 3), "completed"),
        (date(2026, 5, 2), "completed"),
    ]
    assert get_business_date() == date(2026, 5, 4)
    # today's run is done: running it again with advancing only moves the date
    run_end_of_day()
    assert get_business_date() == date(2026, 5, 5)
    assert EodRun.objects.count() == 3
    assert AuditEvent.objects.filter(action="eod.completed").count() == 3


def test_command_reports_a_failure_and_refuses_a_future_date(flaky):
    _set(date(2026, 5, 4))
    with pytest.raises(CommandError, match="flaky chunk 1: RuntimeError: boom"):
        call_command("run_eod", "--no-advance")
    with pytest.raises(CommandError, match="ahead of the business date"):
        call_command("run_eod", "--date", "2026-05-05")
    assert not EodRun.objects.filter(business_date=date(2026, 5, 5)).exists()
    call_command("run_eod")
    assert EodRun.objects.get().status == EodRun.Status.COMPLETED
    assert get_business_date() == date(2026, 5, 5)


def test_future_date_is_refused_and_writes_nothing():
    _set(date(2026, 5, 4))
    with pytest.raises(ValidationFailed) as excinfo:
        run_end_of_day(date(2026, 5, 5))
    assert excinfo.value.fields == {"business_date": ["Pick a date on or before 2026-05-04."]}
    assert not EodRun.objects.exists()
    assert not AuditEvent.objects.exists()


def test_task_runs_today_and_is_in_the_beat_schedule(staff_client):
    _set(date(2026, 5, 4))
    entry = settings.CELERY_BEAT_SCHEDULE["end-of-day"]
    assert entry["task"] == run_end_of_day_task.name == "core.run_end_of_day"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({23}, {30})
    # longer than the fleet's ten-minute default, which a real book outlasts
    assert (run_end_of_day_task.soft_time_limit, run_end_of_day_task.time_limit) == (
        4 * 3600,
        4 * 3600 + 300,
    )
    assert run_end_of_day_task(**entry["kwargs"]) == {
        "business_date": "2026-05-04",
        "status": "completed",
        "error": "",
    }
    assert get_business_date() == date(2026, 5, 5)
    assert run_end_of_day_task("2026-05-04")["status"] == "completed"
    assert get_business_date() == date(2026, 5, 5)
    run = EodRun.objects.get()
    assert (run.source, run.requested_by) == ("beat", None)
    assert AuditEvent.objects.get(action="eod.started").actor_label == "system:eod"

    # the beat's run is listed on the business date page like any other
    client, _ = staff_client("manager")
    page = client.get(reverse("business-date")).content.decode()
    assert "Schedule (beat)" in page
    assert "accrue: done, nothing to do</li>" in page
    assert "autopay: done, 1 of 1 chunks, already 0, not_configured 1, posted 0" in page


def test_recent_runs_summarise_steps(flaky):
    _set(date(2026, 5, 4))
    run_end_of_day()
    [summary] = recent_eod_runs()
    assert summary.run.status == "failed"
    fields = ("name", "status", "chunks_total", "chunks_done", "chunks_failed")
    fields += ("items_total", "items_done", "counts")
    assert [tuple(getattr(s, f) for f in fields) for s in summary.steps] == [
        ("expire_applications", "done", 1, 1, 0, None, 0, {"expired": 0}),
        ("fall_due", "done", 0, 0, 0, 0, 0, {}),
        ("late_fees", "done", 0, 0, 0, 0, 0, {}),
        ("accrue", "done", 0, 0, 0, 0, 0, {}),
        ("flaky", "failed", 3, 1, 1, 3, 1, {"items": 1}),
        ("charge_off", "pending", None, 0, 0, None, 0, {}),
        ("statements", "pending", None, 0, 0, None, 0, {}),
        ("autopay", "pending", None, 0, 0, None, 0, {}),
        ("purge_idempotency_records", "pending", None, 0, 0, None, 0, {}),
    ]
    assert summary.steps_done == 4
    assert summary.percent == int(100 * (4 + 1 / 3) / 9)
    assert summary.current.name == "flaky"
    assert summary.steps[4].summary == "1 of 3 items, 1 of 3 chunks, 1 failed"


def test_business_date_page_starts_end_of_day_in_the_background(
    staff_client, flaky, django_capture_on_commit_callbacks
):
    """The page only queues the run (after commit) and redirects to its
    progress page; the run itself is the task's. A failed run is started
    again from the page and resumes."""
    _set(date(2025, 3, 14))
    client, manager = staff_client("manager")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("business-date"), {"action": "run_eod"})
    run = EodRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("eod-run", args=[run.pk])
    assert (run.status, run.source, run.requested_by, run.started_at) == (
        "queued",
        "staff",
        manager,
        None,
    )
    assert len(callbacks) == 1 and flaky == [] and not EodChunk.objects.exists()
    queued = AuditEvent.objects.get(action="eod.queued")
    assert (queued.actor_id, queued.metadata["source"]) == (manager.pk, "staff")
    page = client.get(response["Location"]).content.decode()
    assert "End of day March 14, 2025" in page and "Queued" in page
    assert f'hx-get="{reverse("eod-run-progress", args=[run.pk])}"' in page

    # what the worker does with the queued message
    result = run_end_of_day_task("2025-03-14", acting_user_id=manager.pk, source="staff")
    assert result["status"] == "failed"
    assert AuditEvent.objects.get(action="eod.started").actor_id == manager.pk
    page = client.get(reverse("eod-run-progress", args=[run.pk])).content.decode()
    assert "flaky chunk 1: RuntimeError: boom" in page
    assert "hx-trigger" not in page  # the run ended: no more polling
    page = client.get(reverse("business-date")).content.decode()
    assert "flaky: failed, 1 of 3 items, 1 of 3 chunks, 1 failed, items 1" in page
    assert get_business_date() == date(2025, 3, 14)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("business-date"), {"action": "run_eod"})
    assert response.status_code == 302 and len(callbacks) == 1
    run.refresh_from_db()
    assert (run.status, run.error) == ("queued", "")
    assert AuditEvent.objects.filter(action="eod.queued").order_by("id").last().metadata[
        "previous_status"
    ] == ("failed")
    run_end_of_day_task("2025-03-14", acting_user_id=manager.pk, source="staff")
    page = client.get(reverse("business-date")).content.decode()
    assert "flaky: done, 3 of 3 items, 3 of 3 chunks, items 3" in page
    assert "autopay: done, 1 of 1 chunks" in page
    assert "Saturday, March 15, 2025" in page
    assert AuditEvent.objects.get(action="business_date.advanced").actor_id == manager.pk

    # the finished date again: nothing is queued or run, the page says so
    _set(date(2025, 3, 14))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("business-date"), {"action": "run_eod"}, follow=True)
    assert callbacks == []
    assert "End of day March 14, 2025 had already completed; nothing was run again." in (
        response.content.decode()
    )
    assert flaky == [[1], [2], [2], [3]]
    assert AuditEvent.objects.filter(action="eod.queued").count() == 2
    assert get_business_date() == date(2025, 3, 15)


def test_business_date_page_needs_its_permission(staff_client):
    _set(date(2025, 3, 14))
    client, _ = staff_client("servicing_agent")
    response = client.post(reverse("business-date"), {"action": "run_eod"})
    assert response.status_code == 403
    run = run_end_of_day(date(2025, 3, 13))
    for url in (reverse("eod-run", args=[run.pk]), reverse("eod-run-progress", args=[run.pk])):
        assert client.get(url).status_code == 403
    assert EodRun.objects.get() == run
    assert get_business_date() == date(2025, 3, 14)
    manager, _ = staff_client("manager")
    assert manager.get(reverse("eod-run", args=[run.pk + 1])).status_code == 404
    assert manager.get(reverse("eod-run-progress", args=[run.pk + 1])).status_code == 404


class ProcessKilled(BaseException):
    """What a killed worker looks like from inside: not an Exception, so the
    run cannot record a failure and is left running (its lock dies with it)."""


def test_a_run_left_running_by_a_dead_process_can_be_started_again(
    staff_client, django_capture_on_commit_callbacks
):
    _set(date(2026, 5, 4))
    state = {"killed": False}

    def run(business_date, chunk):
        if not state["killed"]:
            state["killed"] = True
            raise ProcessKilled
        return {"items": 1}

    register_step("dies", 35, chunks=lambda d: [[1]], run=run)
    try:
        with pytest.raises(ProcessKilled):
            run_end_of_day()
        assert EodRun.objects.get().status == EodRun.Status.RUNNING
        client, _ = staff_client("manager")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(reverse("business-date"), {"action": "run_eod"})
        assert response.status_code == 302 and len(callbacks) == 1
        queued = AuditEvent.objects.get(action="eod.queued")
        assert queued.metadata["previous_status"] == "running"
        assert run_end_of_day_task("2026-05-04", source="staff")["status"] == "completed"
        assert EodChunk.objects.get(step="dies").counts == {"items": 1}
    finally:
        unregister_step("dies")


def test_a_queued_run_no_worker_took_stops_blocking(
    staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    _set(date(2026, 5, 4))
    client, _ = staff_client("manager")
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("business-date"), {"action": "run_eod"})
    assert client.post(reverse("business-date"), {"action": "run_eod"}).status_code == 409
    monkeypatch.setattr(eod_services, "QUEUED_STALE_AFTER", timedelta(0))  # as if long ago
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("business-date"), {"action": "run_eod"})
    assert response.status_code == 302 and len(callbacks) == 1
    assert AuditEvent.objects.filter(action="eod.queued").count() == 2


def test_a_second_concurrent_run_is_refused():
    _set(date(2026, 5, 4))
    params = {
        k: v
        for k, v in connection.get_connection_params().items()
        if k in ("dbname", "user", "password", "host", "port")
    }
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [eod._LOCK_KEY])
        with pytest.raises(Conflict) as excinfo:
            run_end_of_day()
        assert excinfo.value.code == "eod_running"
        # the page's start is refused too (a run_eod in another terminal)
        with pytest.raises(Conflict, match=r"End of day is already running\."):
            eod_services.start_end_of_day()
        # Release explicitly: closing the connection frees the lock only once
        # the server backend has exited, which can lag behind the client.
        other.execute("SELECT pg_advisory_unlock(%s)", [eod._LOCK_KEY])
    assert not EodRun.objects.exists()
    assert get_business_date() == date(2026, 5, 4)
    assert run_end_of_day().status == EodRun.Status.COMPLETED  # the lock is free again
