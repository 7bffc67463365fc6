"""A prospect uses the portal loan calculator in Chromium: the schedule,
the chart and the CSV download."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_prospect_prices_a_loan_and_downloads_the_schedule(page, tmp_path):
    page.goto("/portal/calculator/")
    page.get_by_label("Loan amount ($)").fill("10000")
    page.get_by_label("Interest rate (% a year)").fill("12")
    page.get_by_label("Number of payments").fill("12")
    page.get_by_label("Disbursement date").fill("2026-01-15")
    page.get_by_role("button", name="Calculate").click()

    expect(page.locator('[data-figure="apr"]')).to_have_text("12.00%")
    expect(page.locator('[data-figure="total-of-payments"]')).to_have_text("$10,661.86")
    rows = page.locator("table.schedule tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.last).to_contain_text("888.47")
    # The chart library drew on the canvas (Chart.js registers the instance).
    page.wait_for_function("() => window.Chart && Chart.getChart('schedule-chart') !== undefined")
    assert (
        page.evaluate("() => Chart.getChart('schedule-chart').data.datasets[0].data.length") == 12
    )
    # htmx swapped the result in and pushed a shareable URL.
    assert "principal=10000" in page.url

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "schedule.csv"
    download_info.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[1] == '1,2026-02-15,31,"10,000.00",788.49,100.00,0.00,888.49,"9,211.51"'
    assert len(lines) == 14
