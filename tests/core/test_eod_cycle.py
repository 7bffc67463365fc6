"""End of day as a cycle (issue 13), in one process: a failing item is
isolated by bisection, recorded and skipped while the rest of its chunk
commits; the run completes with failures, the page lists them, and running
the date again retries only them (in their step and the later steps over
the same items); missed days are caught up in order, one run per day.

Expected calls and figures are worked out by hand from the steps below."""

from datetime import date

import pytest
from django.urls import reverse

from core import audit
from core.businessdate import get_business_date
from core.eod import (
    dates_to_close,
    last_closed_date,
    register_step,
    run_end_of_day,
    unregister_step,
)
from core.models import AuditCategory, AuditEvent, BusinessDate, EodChunk, EodFailure, EodRun

pytestmark = pytest.mark.django_db


def _set(d: date) -> None:
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": d})


def processed(action: str) -> list[int]:
    return sorted(
        int(i) for i in AuditEvent.objects.filter(action=action).values_list("object_id", flat=True)
    )


@pytest.fixture
def loan_steps():
    """Three test steps over "loans" 1..10 (between charge-off and
    statements): `isolate` (chunks of five, names its items) writes an
    event per loan and raises on the loans in `bad`; `after` (one chunk,
    names its items) and `whole` (one chunk, no items) only record their
    calls."""
    bad: set[int] = set()
    calls: dict[str, list[list[int]]] = {"isolate": [], "after": [], "whole": []}

    def isolate(business_date, chunk):
        calls["isolate"].append(list(chunk))
        for loan_id in chunk:
            # written before the raise: the savepoint must take it back
            audit.record(
                action="test.isolate",
                category=AuditCategory.UPDATE,
                object_type="loan",
                object_id=str(loan_id),
            )
            if loan_id in bad:
                raise ValueError(f"loan {loan_id} is broken")
        return {"loans": len(chunk)}

    def recorder(name):
        def run(business_date, chunk):
            calls[name].append(list(chunk))
            return {"loans": len(chunk)}

        return run

    def items(business_date, chunk):
        return list(chunk)

    chunks = [list(range(1, 6)), list(range(6, 11))]
    register_step("isolate", 35, chunks=lambda d: chunks, run=isolate, items=items, unit="loans")
    register_step(
        "after",
        36,
        chunks=lambda d: [list(range(1, 11))],
        run=recorder("after"),
        items=items,
        unit="loans",
    )
    register_step("whole", 37, chunks=lambda d: [list(range(1, 11))], run=recorder("whole"))
    yield bad, calls
    for name in calls:
        unregister_step(name)


def test_a_failing_loan_is_skipped_and_listed_and_a_rerun_retries_only_it(loan_steps, staff_client):
    bad, calls = loan_steps
    bad |= {3, 8}
    _set(date(2026, 5, 4))

    run = run_end_of_day()

    # Bisection: the chunk fails whole, then its halves are tried, each in
    # a savepoint, down to the loan that fails alone.
    assert calls["isolate"] == [
        [1, 2, 3, 4, 5],
        [1, 2],
        [3, 4, 5],
        [3],
        [4, 5],
        [6, 7, 8, 9, 10],
        [6, 7],
        [8, 9, 10],
        [8],
        [9, 10],
    ]
    # the good loans committed once each; the failing ones' writes did not
    assert processed("test.isolate") == [1, 2, 4, 5, 6, 7, 9, 10]
    chunks = EodChunk.objects.filter(run=run, step="isolate").order_by("index")
    assert [(c.status, c.counts) for c in chunks] == [
        ("done", {"loans": 4}),
        ("done", {"loans": 4}),
    ]
    failures = EodFailure.objects.filter(run=run).order_by("object_id")
    assert [(f.step, f.object_id, f.error, f.attempts) for f in failures] == [
        ("isolate", 3, "ValueError: loan 3 is broken", 1),
        ("isolate", 8, "ValueError: loan 8 is broken", 1),
    ]
    assert all("in isolate" in f.traceback for f in failures)
    assert [f.chunk_id for f in failures] == [c.pk for c in chunks]
    # the run goes on: later steps ran, the day closed with failures
    assert calls["after"] == [list(range(1, 11))] and calls["whole"] == [list(range(1, 11))]
    assert (run.status, run.error) == (EodRun.Status.COMPLETED_WITH_FAILURES, "")
    assert get_business_date() == date(2026, 5, 5)
    completed = AuditEvent.objects.get(action="eod.completed")
    assert completed.metadata["failures"] == 2
    assert completed.metadata["counts"]["isolate"] == {"loans": 8}

    # the run's page lists the loans to look at, and offers the re-run
    client, _ = staff_client("manager")
    page = client.get(reverse("eod-run-progress", args=[run.pk])).content.decode()
    assert "Completed with failures" in page and "hx-trigger" not in page
    assert "Items to look at: 2" in page
    row = page[page.index('data-failure="isolate:3"') :]
    row = row[: row.index("</tr>")]
    assert f'href="{reverse("servicing:loan-detail", args=[3])}">loan 3</a>' in row
    assert "ValueError: loan 3 is broken" in row
    step = page[page.index('data-step="isolate"') :]
    assert "10 of 10 loans, 2 of 2 chunks, 2 loans failed" in step[: step.index("</tr>")]
    assert 'name="action" value="rerun"' in page

    # Loan 3 is fixed, 8 still broken: running the date again (from the
    # page) retries those two only, in `isolate` and in `after`, not in
    # `whole` (no items) nor loans that went through.
    bad.discard(3)
    for name in calls:
        calls[name].clear()
    response = client.post(reverse("eod-run", args=[run.pk]), {"action": "rerun"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == EodRun.Status.QUEUED
    run = run_end_of_day(date(2026, 5, 4))
    assert calls == {"isolate": [[3, 8], [3], [8]], "after": [[3, 8]], "whole": []}
    assert processed("test.isolate") == [1, 2, 3, 4, 5, 6, 7, 9, 10]
    assert run.status == EodRun.Status.COMPLETED_WITH_FAILURES
    assert [
        (f.object_id, f.attempts, f.resolved_at is None)
        for f in EodFailure.objects.filter(run=run).order_by("object_id")
    ] == [(3, 1, False), (8, 2, True)]
    retry = EodChunk.objects.get(run=run, step="isolate", retry=True)
    assert (retry.index, retry.ids, retry.counts) == (2, [3, 8], {"loans": 1})

    bad.clear()
    for name in calls:
        calls[name].clear()
    run = run_end_of_day(date(2026, 5, 4))
    assert calls == {"isolate": [[8]], "after": [[8]], "whole": []}
    assert run.status == EodRun.Status.COMPLETED
    assert processed("test.isolate") == list(range(1, 11))  # each loan once
    assert not EodFailure.objects.filter(resolved_at__isnull=True).exists()
    assert get_business_date() == date(2026, 5, 5)  # advanced once, on the first run
    assert list(
        AuditEvent.objects.filter(action__startswith="eod.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "eod.started",
        "eod.completed",
        "eod.queued",
        "eod.resumed",
        "eod.completed",
        "eod.resumed",
        "eod.completed",
    ]
    page = client.get(reverse("eod-run", args=[run.pk])).content.decode()
    assert "Items to look at: 0" in page
    assert "2 failed items processed since by running the date again." in page
    assert 'value="rerun"' not in page

    # and now the date is closed for good: running it again does nothing
    run_end_of_day(date(2026, 5, 4))
    assert calls == {"isolate": [[8]], "after": [[8]], "whole": []}


def test_a_step_without_items_still_fails_its_chunk_and_the_run(loan_steps):
    _set(date(2026, 5, 4))

    def whole(business_date, chunk):
        raise ValueError("the whole step is broken")

    register_step("whole", 37, chunks=lambda d: [[1]], run=whole)
    run = run_end_of_day()
    assert run.status == EodRun.Status.FAILED
    assert run.error == "whole chunk 0: ValueError: the whole step is broken"
    assert not EodFailure.objects.exists()
    assert get_business_date() == date(2026, 5, 4)


def test_a_chunk_whose_items_all_fail_fails_the_run(loan_steps):
    """Every loan failing alone says the step is broken, not its loans: the
    run fails (as a step without items would) instead of closing the day
    with all of them listed."""
    bad, calls = loan_steps
    bad |= set(range(1, 6))
    _set(date(2026, 5, 4))
    run = run_end_of_day()
    assert run.status == EodRun.Status.FAILED
    assert run.error == "isolate chunk 0: ValueError: loan 1 is broken"
    assert not EodFailure.objects.exists()
    assert not AuditEvent.objects.filter(action="test.isolate").exists()
    assert calls["after"] == []
    assert get_business_date() == date(2026, 5, 4)


@pytest.fixture
def days():
    """A test step recording the business dates it is run for; it fails
    the run on the dates in `failing`."""
    seen: list[date] = []
    failing: set[date] = set()

    def run(business_date, chunk):
        if business_date in failing:
            raise RuntimeError(f"cannot close {business_date}")
        seen.append(business_date)
        return {"days": 1}

    register_step("days", 35, chunks=lambda d: [[1]], run=run)
    yield seen, failing
    unregister_step("days")


def test_missed_days_are_caught_up_in_order_one_run_per_day(days):
    seen, _ = days
    _set(date(2026, 5, 1))
    run_end_of_day()
    assert last_closed_date() == date(2026, 5, 1)
    # three days go by with no end of day (the date moved on by hand)
    _set(date(2026, 5, 4))
    assert dates_to_close(date(2026, 5, 4)) == [
        date(2026, 5, 2),
        date(2026, 5, 3),
        date(2026, 5, 4),
    ]

    run = run_end_of_day()

    assert run.business_date == date(2026, 5, 4)
    assert seen == [date(2026, 5, d) for d in (1, 2, 3, 4)]
    assert list(
        EodRun.objects.order_by("business_date").values_list("business_date", "status")
    ) == [(date(2026, 5, d), "completed") for d in (1, 2, 3, 4)]
    started = AuditEvent.objects.filter(action="eod.started").order_by("id")
    assert [e.metadata["business_date"] for e in started] == [
        "2026-05-01",
        "2026-05-02",
        "2026-05-03",
        "2026-05-04",
    ]
    # the business date moved on after the day that was today only
    assert get_business_date() == date(2026, 5, 5)
    assert last_closed_date() == date(2026, 5, 4)

    # the same date twice is a no-op
    assert run_end_of_day(date(2026, 5, 4)).pk == run.pk
    assert seen == [date(2026, 5, d) for d in (1, 2, 3, 4)]
    assert EodRun.objects.count() == 4
    # a past date before the last closed one is run alone (nothing to catch up)
    assert dates_to_close(date(2026, 4, 20)) == [date(2026, 4, 20)]


def test_catch_up_stops_at_a_day_that_fails_and_resumes_from_it(days):
    seen, failing = days
    _set(date(2026, 5, 1))
    run_end_of_day()
    _set(date(2026, 5, 4))
    failing.add(date(2026, 5, 3))

    run = run_end_of_day()

    assert (run.business_date, run.status) == (date(2026, 5, 3), EodRun.Status.FAILED)
    assert run.error == "days chunk 0: RuntimeError: cannot close 2026-05-03"
    assert not EodRun.objects.filter(business_date=date(2026, 5, 4)).exists()
    assert seen == [date(2026, 5, 1), date(2026, 5, 2)]
    assert get_business_date() == date(2026, 5, 4)

    failing.clear()
    run = run_end_of_day()
    assert (run.business_date, run.status) == (date(2026, 5, 4), EodRun.Status.COMPLETED)
    assert seen == [date(2026, 5, d) for d in (1, 2, 3, 4)]
    assert get_business_date() == date(2026, 5, 5)


def test_the_page_says_missed_days_close_first(
    days, staff_client, django_capture_on_commit_callbacks
):
    _set(date(2026, 5, 1))
    run_end_of_day()
    _set(date(2026, 5, 4))
    client, _ = staff_client("manager")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("business-date"), {"action": "run_eod"}, follow=True)
    assert len(callbacks) == 1
    page = response.content.decode()
    assert (
        "End of day May 4, 2026 started. Missed days close first, one run per day: May 2 to May 3."
        in page
    )
    assert EodRun.objects.get(business_date=date(2026, 5, 4)).status == EodRun.Status.QUEUED
