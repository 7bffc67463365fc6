"""Statements in the borrower portal: once generated they are listed on the
loan page (date, amount due, due date), the PDF opens and says what the
borrower owes, by when, what happened in the period and what a late payment
costs; another borrower cannot open it."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from core.exceptions import ValidationFailed
from servicing.models import Statement
from servicing.services.payments import post_payment
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date
from tests.servicing.test_portal import board, client_for, make_borrower

pytestmark = pytest.mark.django_db
D = Decimal


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def borrower(db):
    return make_borrower("bo@example.com")


@pytest.fixture
def loan(product, borrower):
    return board(product, borrower, "APP-S1")


def _statements_list(body: str) -> list[str]:
    section = body.split("<h2>Statements</h2>", 1)[1].split("</ul>", 1)[0]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", li.split(">", 1)[1]).split())
        for li in section.split("<li")[1:]
    ]


def test_generated_statements_are_listed_and_their_pdf_shows_what_is_due(product, borrower, loan):
    client = client_for(borrower)
    detail = reverse("portal:loan-detail", args=[loan.pk])
    assert "No statements yet." in client.get(detail).content.decode()

    set_business_date(date(2026, 2, 1))
    first = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    assert (first.amount_due, first.due_date) == (D("106.62"), date(2026, 2, 15))

    # the borrower pays the first instalment in the next period
    set_business_date(date(2026, 2, 20))
    post_payment(
        loan=loan,
        amount=D("106.62"),
        received_on=date(2026, 2, 15),
        method="ach",
        channel="staff",
    )
    set_business_date(date(2026, 3, 1))
    second = generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    assert (second.period_start, second.period_end) == (date(2026, 2, 2), date(2026, 3, 1))
    assert second.due_date == date(2026, 3, 15)
    assert (second.amount_due, second.past_due_amount) == (D("106.62"), D("0.00"))

    items = _statements_list(client.get(detail).content.decode())
    assert items == [
        f"Statement of Mar 1, 2026 · amount due {second.amount_due:,} by Mar 15, 2026 (PDF)",
        "Statement of Feb 1, 2026 · amount due 106.62 by Feb 15, 2026 (PDF)",
    ]

    text = pdf_text(client.get(reverse("portal:loan-statement-pdf", args=[loan.pk, second.pk])))
    assert loan.loan_number in text
    assert "AMOUNT DUE Pay this amount by the due date. $106.62" in text
    assert "PAYMENT DUE DATE Mar 15, 2026" in text
    # the activity since the last statement: the payment of Feb 15, nothing before Feb 2
    activity = text.split("Activity this period", 1)[1]
    assert activity.startswith(" Date Description Amount Feb 15, 2026 Payment -106.62 Late")
    assert "Principal 95.57 Interest 11.05 Fees 0.00" in text
    assert "Principal balance after this statement: $1,105.38" in text
    assert "Jan 15, 2026" not in activity
    # The late-fee grace in the words regulations use: no fee until the
    # payment is more than 10 days late (issue 13).
    assert "If your payment is more than 10 days late, a late fee of $25.00 will be charged." in (
        text
    )

    first_text = pdf_text(
        client.get(reverse("portal:loan-statement-pdf", args=[loan.pk, first.pk]))
    )
    assert "AMOUNT DUE Pay this amount by the due date. $106.62" in first_text
    assert "PAYMENT DUE DATE Feb 15, 2026" in first_text
    assert "Payment -106.62" not in first_text  # that payment is in the next period


def test_a_second_borrower_gets_404_for_the_pdf_and_sees_no_statements(product, borrower, loan):
    set_business_date(date(2026, 2, 1))
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    other = make_borrower("eve@example.com", "Eve")
    other_loan = board(product, other, "APP-S2")
    intruder = client_for(other)

    url = reverse("portal:loan-statement-pdf", args=[loan.pk, statement.pk])
    assert intruder.get(url).status_code == 404
    # nor through their own loan's URL
    crossed = reverse("portal:loan-statement-pdf", args=[other_loan.pk, statement.pk])
    assert intruder.get(crossed).status_code == 404
    own = intruder.get(reverse("portal:loan-detail", args=[other_loan.pk])).content.decode()
    assert _statements_list(own) == ["No statements yet."]
    assert client_for(borrower).get(url).status_code == 200


def test_a_statement_on_a_wrong_date_is_refused_and_nothing_is_listed(product, borrower, loan):
    set_business_date(date(2026, 2, 10))
    with pytest.raises(ValidationFailed) as exc:
        generate_statement(loan=loan, statement_date=date(2026, 2, 5))
    assert exc.value.fields == {"statement_date": ["Statements are dated on day 1 of the month."]}
    assert Statement.objects.count() == 0
    body = client_for(borrower).get(reverse("portal:loan-detail", args=[loan.pk])).content
    assert _statements_list(body.decode()) == ["No statements yet."]
