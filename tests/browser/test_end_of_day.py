"""A manager starts end of day from the business date page in Chromium: the
request returns at once to the run's page, which shows each step's progress
while the run goes on in the background and then its final counts, updated
in place (htmx polling) without reloading the page."""

import re
import threading
from datetime import date

import pytest
from playwright.sync_api import expect

from core.businessdate import get_business_date
from core.eod import register_step, unregister_step
from core.models import EodRun
from tests.factories import PASSWORD, UserFactory, current_totp, totp_device
from tests.servicing.conftest import set_business_date

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def join_eod_threads() -> None:
    """Wait for background end-of-day threads (eager mode) to end, so none
    writes after the test's database is flushed."""
    for thread in threading.enumerate():
        if thread.name.startswith("eod-"):
            thread.join(60)


@pytest.fixture
def gate():
    """A test step whose second of three chunks waits for the test, so the
    page can be seen mid-run."""
    opened = threading.Event()

    def run(business_date, chunk):
        if chunk == [2] and not opened.wait(60):
            raise RuntimeError("the test never opened the gate")
        return {"items": len(chunk)}

    register_step("gate", 35, chunks=lambda d: [[1], [2], [3]], run=run, unit="items")
    yield opened
    opened.set()
    join_eod_threads()
    unregister_step("gate")


def test_manager_starts_end_of_day_and_watches_it_finish(page, settings, gate):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker: the run goes to a thread
    set_business_date(date(2026, 5, 4))
    manager = UserFactory(username="maria", role="manager")
    device = totp_device(manager)

    page.goto("/staff/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.locator("input[name=token]").fill(current_totp(device))
    page.get_by_role("button", name="Verify").click()

    page.get_by_role("navigation", name="Staff areas").get_by_role(
        "link", name="Business date"
    ).click()
    page.get_by_role("button", name="Run end of day").click()

    run = EodRun.objects.get()
    expect(page).to_have_url(re.compile(rf"/staff/business-date/eod/{run.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("End of day May 4, 2026")
    progress = page.locator(f"#eod-progress-{run.pk}")
    gate_row = progress.locator('tr[data-step="gate"]')
    # mid-run: the gate step has done one chunk of three, later steps wait
    expect(progress).to_contain_text("Running")
    expect(gate_row).to_contain_text("1 of 3 items, 1 of 3 chunks")
    expect(gate_row.locator("progress")).to_have_attribute("value", "1")
    expect(gate_row.locator("progress")).to_have_attribute("max", "3")
    expect(progress.locator('tr[data-step="autopay"]')).to_contain_text("not started")
    page.evaluate("window.stillTheSamePage = true")

    gate.set()

    expect(progress).to_contain_text("Completed", timeout=30_000)
    # the gate, core's purge, origination's expiry and servicing's six steps (fall_due added)
    expect(progress).to_contain_text("9 of 9 steps done")
    expect(gate_row).to_contain_text("3 of 3 items, 3 of 3 chunks")
    expect(gate_row.locator("progress")).to_have_attribute("value", "3")
    expect(progress.locator(".eod-run-bar")).to_have_attribute("value", "100")
    expect(progress.locator('tr[data-step="autopay"]')).to_contain_text("not_configured 1")
    expect(progress.locator('tr[data-step="expire_applications"]')).to_contain_text("expired 0")
    # updated in place: the same document, and it has stopped polling
    assert page.evaluate("window.stillTheSamePage") is True
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("every"))
    join_eod_threads()
    assert get_business_date() == date(2026, 5, 5)
