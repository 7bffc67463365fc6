"""Staff pages, statements: the list, generating one, its PDF."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from servicing.models import Statement
from tests.servicing.conftest import set_business_date
from tests.servicing.page_helpers import url

pytestmark = pytest.mark.django_db


def test_statements_page_generate_and_pdf(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 1))
    agent, _ = staff_client("servicing_agent")
    assert (
        agent.post(url("statement-generate", loan.pk), {"statement_date": "2026-03-02"}).status_code
        == 400
    )
    assert (
        agent.post(url("statement-generate", loan.pk), {"statement_date": "2026-03-01"}).status_code
        == 302
    )
    statement = Statement.objects.get()
    page = agent.get(url("statements", loan.pk))
    assert b"213.24" in page.content
    pdf = agent.get(url("statement-pdf", statement.pk))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "213.24" in text
