"""The staff statements form proposes the last cycle date (the latest day on
or before the business date that falls on the product's statement cycle
day), and generating with what it proposes works; the rule itself is a pure
function with a table of exact dates."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from servicing.boarding import BoardingTerms, board_loan
from servicing.models import Statement
from servicing.services.products import create_product
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("cycle_day", "on", "expected"),
    [
        (1, date(2026, 3, 17), date(2026, 3, 1)),
        (1, date(2026, 3, 1), date(2026, 3, 1)),
        (1, date(2026, 1, 1), date(2026, 1, 1)),
        (15, date(2026, 3, 10), date(2026, 2, 15)),
        (15, date(2026, 3, 15), date(2026, 3, 15)),
        (15, date(2026, 1, 14), date(2025, 12, 15)),
        (28, date(2026, 3, 1), date(2026, 2, 28)),
        (28, date(2024, 2, 29), date(2024, 2, 28)),
        (28, date(2026, 12, 31), date(2026, 12, 28)),
    ],
)
def test_last_cycle_date(cycle_day, on, expected):
    from servicing.services.statements import last_cycle_date

    assert last_cycle_date(cycle_day=cycle_day, on=on) == expected


def _proposed(html: str) -> str:
    tag = re.search(r'<input[^>]*name="statement_date"[^>]*>', html)
    assert tag, "no statement date field"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    assert value, tag.group(0)
    return value.group(1)


def _loan_on_cycle_day(customer, cycle_day: int, reference: str):
    product = create_product(
        code=f"cycle{cycle_day}",
        name=f"Cycle day {cycle_day}",
        statement_cycle_day=cycle_day,
        nsf_fee_amount=Decimal("30.00"),
    )
    set_business_date(date(2026, 1, 5))
    return board_loan(
        terms=BoardingTerms(
            origination_reference=reference,
            customer_id=customer.pk,
            product_id=product.pk,
            principal=Decimal("1200.00"),
            annual_rate=Decimal("0.12"),
            term=12,
            disbursement_date=date(2026, 1, 5),
        )
    )


@pytest.mark.parametrize(
    ("cycle_day", "business_date", "proposed"),
    [
        (1, date(2026, 3, 17), "2026-03-01"),
        (15, date(2026, 3, 10), "2026-02-15"),
        (15, date(2026, 3, 15), "2026-03-15"),
    ],
)
def test_the_form_proposes_the_last_cycle_date_and_it_is_accepted(
    staff_client, customer, cycle_day, business_date, proposed
):
    loan = _loan_on_cycle_day(customer, cycle_day, f"APP-C{cycle_day}")
    set_business_date(business_date)
    agent, _ = staff_client("servicing_agent")
    page = agent.get(reverse("servicing:statements", args=[loan.pk]))
    assert page.status_code == 200
    assert _proposed(page.content.decode()) == proposed

    # Submitting what the form proposes makes the statement.
    response = agent.post(
        reverse("servicing:statement-generate", args=[loan.pk]), {"statement_date": proposed}
    )
    assert response.status_code == 302, response.content.decode()
    statement = Statement.objects.get(loan=loan)
    assert statement.statement_date == date.fromisoformat(proposed)
    assert statement.statement_date.day == cycle_day


def test_before_the_first_cycle_the_form_says_when_the_first_statement_is(staff_client, customer):
    loan = _loan_on_cycle_day(customer, 1, "APP-EARLY")  # disbursed Jan 5, 2026
    set_business_date(date(2026, 1, 20))
    agent, _ = staff_client("servicing_agent")
    page = agent.get(reverse("servicing:statements", args=[loan.pk]))
    html = page.content.decode()
    assert _proposed(html) == "2026-02-01"
    assert "The first statement of this loan is dated Feb 1, 2026." in " ".join(html.split())
    # and it is refused until that day comes, with nothing written
    response = agent.post(
        reverse("servicing:statement-generate", args=[loan.pk]), {"statement_date": "2026-02-01"}
    )
    assert response.status_code == 400
    assert Statement.objects.count() == 0
