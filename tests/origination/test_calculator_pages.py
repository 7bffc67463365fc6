"""Staff and portal calculator pages, their CSV and PDF downloads, and the
APR calculator page: the same figures as the API, as a person sees them."""

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

pytestmark = pytest.mark.django_db

QUERY = (
    "principal=10000&annual_rate=12&term=12&disbursement_date=2026-01-15"
    "&fee-TOTAL_FORMS=2&fee-INITIAL_FORMS=0"
)
WITH_FEE = (
    QUERY
    + "&fee-0-name=Origination&fee-0-amount=200&fee-0-treatment=withheld&fee-0-finance_charge=on"
)


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([a-z-]+)">([^<]+)<', html))


def test_staff_calculator_shows_tila_figures_and_schedule(staff_client):
    client, _ = staff_client("underwriter")
    page = client.get(f"/staff/origination/calculator/?{WITH_FEE}").content.decode()
    assert figures(page) == {
        "apr": "15.85%",
        "finance-charge": "$861.86",
        "amount-financed": "$9,800.00",
        "total-of-payments": "$10,661.86",
        "total-interest": "$661.86",
    }
    assert "11 payments of <strong>$888.49</strong> from Feb 15, 2026" in page
    assert "1 payment of <strong>$888.47</strong> from Jan 15, 2027" in page
    assert page.count("<tr><td>") == 12  # one table row per instalment
    assert 'id="schedule-chart-data"' in page


def test_calculator_form_errors_are_shown_and_nothing_is_computed(staff_client):
    client, _ = staff_client("loan_officer")
    response = client.get(
        "/staff/origination/calculator/?principal=10000&annual_rate=12&term=12"
        "&disbursement_date=2026-01-15&first_payment_date=2026-01-10"
        "&fee-TOTAL_FORMS=2&fee-INITIAL_FORMS=0"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Must be after the disbursement date." in page
    assert 'data-figure="apr"' not in page


def test_fee_row_without_amount_is_a_form_error(staff_client):
    client, _ = staff_client("loan_officer")
    page = client.get(f"/staff/origination/calculator/?{QUERY}&fee-0-name=Doc").content.decode()
    assert "Enter the fee amount." in page
    assert 'data-figure="apr"' not in page


def test_csv_download_is_the_schedule(staff_client):
    client, _ = staff_client("servicing_agent")
    response = client.get(f"/staff/origination/calculator/schedule.csv?{QUERY}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().splitlines()
    assert (
        lines[0]
        == "number,due_date,days,opening_balance,principal,interest,fees,payment,closing_balance"
    )
    # amounts as on the page (two decimals, thousands separators, so quoted)
    assert lines[1] == '1,2026-02-15,31,"10,000.00",788.49,100.00,0.00,888.49,"9,211.51"'
    assert lines[12] == "12,2027-01-15,31,879.67,879.67,8.80,0.00,888.47,0.00"
    assert lines[13] == 'total,,365,,"10,000.00",661.86,0.00,"10,661.86",'
    assert len(lines) == 14


def test_pdf_download_carries_the_figures(staff_client):
    client, _ = staff_client("collections_agent")
    response = client.get(f"/staff/origination/calculator/schedule.pdf?{WITH_FEE}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("15.85%", "$861.86", "$9,800.00", "$10,661.86", "888.47", "Appendix J"):
        assert expected in text, expected


def test_download_with_bad_terms_is_400_with_the_form(staff_client):
    client, _ = staff_client("loan_officer")
    response = client.get(
        "/staff/origination/calculator/schedule.csv?principal=abc&fee-TOTAL_FORMS=0&fee-INITIAL_FORMS=0"
    )
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()


def test_portal_calculator_is_open_to_prospects():
    page = Client().get(f"/portal/calculator/?{QUERY}").content.decode()
    assert figures(page)["apr"] == "12.00%"
    assert figures(page)["total-of-payments"] == "$10,661.86"
    # No fee section for borrowers; the lender's fees come with an offer.
    assert "Origination fees" not in page
    csv = Client().get(f"/portal/calculator/schedule.csv?{QUERY}")
    assert csv.status_code == 200 and csv.content.decode().count("\n") == 14


def test_staff_calculator_requires_staff():
    assert Client().get("/staff/origination/calculator/").status_code == 302


def test_apr_calculator_page_with_a_payment_run(staff_client):
    client, _ = staff_client("underwriter")
    page = client.get(
        "/staff/origination/apr/",
        {"advances": "2026-01-10 5,000.00", "payments": "36 x 166.07 from 2026-02-10 monthly"},
    ).content.decode()
    assert figures(page) == {"apr": "11.9994%"}
    assert "$978.52" in page  # finance charge: 36 x 166.07 - 5,000.00


def test_apr_calculator_names_the_bad_line(staff_client):
    client, _ = staff_client("underwriter")
    page = client.get(
        "/staff/origination/apr/",
        {"advances": "2026-01-10 5000", "payments": "2026-02-10 100\nnext month 100"},
    ).content.decode()
    assert "Line 2 (&#x27;next month 100&#x27;)" in page
    assert 'data-figure="apr"' not in page
