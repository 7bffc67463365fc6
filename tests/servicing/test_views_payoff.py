"""Staff pages, payoff: the quote page, its letter (PDF), a bad date refused."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from servicing.models import PayoffQuote
from tests.servicing.conftest import set_business_date
from tests.servicing.page_helpers import url

pytestmark = pytest.mark.django_db


def test_payoff_quote_page_and_pdf(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    client, _ = staff_client("collections_agent")
    assert client.get(url("payoff-quote", loan.pk)).status_code == 200
    response = client.post(url("payoff-quote", loan.pk), {"good_through": "2026-01-30"})
    quote = PayoffQuote.objects.get()
    assert response.status_code == 302 and response["Location"] == url(
        "payoff-quote-detail", quote.pk
    )
    page = client.get(url("payoff-quote-detail", quote.pk))
    assert b"1206.00" in page.content and b"0.40" in page.content
    pdf = client.get(url("payoff-quote-pdf", quote.pk))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "1,206.00" in text and "0.40" in text
    bad = client.post(url("payoff-quote", loan.pk), {"good_through": "2026-01-01"})
    assert bad.status_code == 400 and PayoffQuote.objects.count() == 1
