"""Servicing transaction selectors: each event with where its money is now."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.selectors.transactions import loan_transactions
from servicing.services.payments import reverse_payment
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import pay

pytestmark = pytest.mark.django_db
D = Decimal


def lines(row):
    return [(line.component, line.installment_number, line.amount) for line in row.lines]


def test_transactions_show_where_the_money_is_now(make_loan, django_assert_num_queries):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    march = pay(loan, "106.62", date(2026, 3, 16))
    (row,) = loan_transactions(loan)
    assert lines(row) == [("interest", 1, D("12.00")), ("principal", 1, D("94.62"))]
    assert (row.status, row.entries, row.reapplied) == ("posted", 1, False)

    feb = pay(loan, "106.62", date(2026, 2, 15))  # backdated: March moves to instalment 2
    rows = {r.event.pk: r for r in loan_transactions(loan)}
    assert lines(rows[march.event_id]) == [
        ("interest", 2, D("11.05")),
        ("principal", 2, D("95.57")),
    ]
    assert rows[march.event_id].reapplied
    assert lines(rows[feb.event_id]) == [("interest", 1, D("12.00")), ("principal", 1, D("94.62"))]

    reverse_payment(payment=feb, reason="nsf")  # March moves back; a 30.00 NSF fee
    with django_assert_num_queries(3):
        rows = loan_transactions(loan)
    kinds = [(r.event.kind, r.status) for r in rows]
    assert kinds == [
        ("fee", "posted"),
        ("payment", "posted"),
        ("reversal", "posted"),
        ("payment", "reversed"),
    ]
    fee, march_row, _, feb_row = rows
    assert lines(march_row) == [("interest", 1, D("12.00")), ("principal", 1, D("94.62"))]
    assert march_row.entries == 3 and march_row.allocated == D("106.62")
    assert march_row.is_reversible_payment and not feb_row.is_reversible_payment
    assert lines(feb_row) == [] and feb_row.entries == 2
    assert fee.event.details["fee_kind"] == "nsf"
    assert lines(fee) == [("fees", 2, D("-30.00"))]  # the fee was added to instalment 2
