"""post_payment is post_payments for a list of one: the same queries for
one payment as for a batch of several."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicing.models import Payment
from servicing.services.payments import PaymentRow, post_payment, post_payments
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def test_one_payment_takes_the_queries_of_a_batch(make_loan):
    loans = [make_loan(f"APP-{n}") for n in range(4)]
    set_business_date(date(2026, 3, 1))
    with CaptureQueriesContext(connection) as one:
        posted = post_payment(
            loan=loans[0],
            amount=D("120.00"),
            received_on=date(2026, 2, 15),
            method="ach",
            channel="staff",
        )
    assert posted.created and len(one) == 16
    rows = [
        PaymentRow(
            loan_id=loan.pk,
            amount=D("120.00"),
            received_on=date(2026, 2, 15),
            method="ach",
            channel="batch",
        )
        for loan in loans[1:]
    ]
    with CaptureQueriesContext(connection) as batch:
        results = post_payments(rows)
    assert all(isinstance(r, Payment) for r in results)
    # post_payment's own savepoint (2) is the only difference
    assert len(batch) == len(one) - 2
