"""Days past due, delinquent days and late fees through the services.

Days past due count from the due date of the oldest periodic payment
(principal and interest) not paid in full; fees are not part of it and no
grace delays it (Regulation X, 12 CFR 1024.31 "delinquency"). Delinquent
days are the days past due beyond the product's arrears grace. No late fee
until the payment is more than the product's late-fee grace days late, and
a late fee never makes a later full, on-time payment late (16 CFR 444.4).

The loan: 1,200.00 at 12 % over 12 months, disbursed 2025-12-01, so 106.62
(94.62 principal + 12.00 interest) falls due on the 1st of every month from
2026-01-01. The product charges a flat 25.00 late fee after 10 days' grace
and allocates fees first (its default order).
"""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from core.exceptions import Conflict
from servicing.models import Loan, LoanEvent, ServicingProduct
from servicing.services.fees import assess_late_fees
from servicing.services.locks import lock_loan
from servicing.services.payments import post_payment
from servicing.services.products import update_product
from servicing.services.statements import late_fee_warning
from servicing.services.sync import sync_loan
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal
JAN1, JAN11, JAN12, FEB1, FEB4 = (
    date(2026, 1, 1),
    date(2026, 1, 11),
    date(2026, 1, 12),
    date(2026, 2, 1),
    date(2026, 2, 4),
)


@pytest.fixture
def loan(make_loan):
    return make_loan(disbursement_date=date(2025, 12, 1), business_date=date(2025, 12, 1))


def pay(loan, amount: str, on: date):
    set_business_date(on)
    post_payment(loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff")


def late_fees_on(loan, day: date) -> list[tuple[int, Decimal]]:
    set_business_date(day)
    return [
        (fee.details["installment_number"], fee.amount)
        for fee in assess_late_fees(loan=loan, business_date=day)
    ]


def figures_on(loan, day: date) -> tuple[int, int]:
    """(days past due, delinquent days) cached on the loan on `day`."""
    set_business_date(day)
    with transaction.atomic():
        sync_loan(loan=lock_loan(loan.pk))
    loan = Loan.objects.get(pk=loan.pk)
    return loan.days_past_due, loan.delinquent_days


def test_the_schedule_under_test(loan):
    first = loan.installments.get(number=1)
    assert (first.due_date, first.principal_due, first.interest_due) == (JAN1, D("94.62"), D("12"))
    assert loan.installments.get(number=2).due_date == FEB1


@pytest.mark.parametrize(
    "order", [None, ["interest", "principal", "fees", "penalties"]], ids=["fees first", "fees last"]
)
def test_the_issue_check_3_days_past_due_on_feb_4_not_34(loan, order):
    """January's principal and interest paid, its late fee not: on February 4
    only February (due Feb 1) is past due, 3 days, not 34 (from January 1)."""
    if order is not None:
        ServicingProduct.objects.filter(pk=loan.product_id).update(allocation_order=order)
    assert late_fees_on(loan, JAN12) == [(1, D("25.00"))]
    pay(loan, "106.62", date(2026, 1, 20))
    assert figures_on(loan, FEB4) == (3, 3)
    loan.refresh_from_db()
    # The fee is still owed: as the fee (fees last) or as the principal it
    # was paid from (fees first).
    assert loan.fees_balance + loan.principal_balance == D("25.00") + D("1200.00") - D("94.62")


def test_days_past_due_are_not_delayed_by_a_grace_and_delinquent_days_are(loan):
    update_product(loan.product, changes={"arrears_grace_days": 5}, acting_user=None)
    assert figures_on(loan, JAN1) == (0, 0)
    assert figures_on(loan, date(2026, 1, 6)) == (5, 0)
    assert figures_on(loan, date(2026, 1, 7)) == (6, 1)
    assert figures_on(loan, FEB4) == (34, 29)  # nothing paid: from January 1
    pay(loan, "106.62", FEB4)  # pays January, the oldest: now from February 1
    assert figures_on(loan, FEB4) == (3, 0)


def test_no_late_fee_until_the_payment_is_more_than_10_days_late(loan):
    assert late_fees_on(loan, JAN11) == []  # 10 days late: not yet
    assert late_fees_on(loan, JAN12) == [(1, D("25.00"))]  # 11 days late
    assert late_fees_on(loan, JAN12) == []  # once


def test_a_payment_made_10_days_late_is_charged_nothing(loan):
    pay(loan, "106.62", JAN11)
    assert late_fees_on(loan, JAN12) == []
    assert late_fees_on(loan, date(2026, 1, 30)) == []


def test_a_payment_made_11_days_late_is_charged_even_on_the_day_it_is_made(loan):
    pay(loan, "106.62", JAN12)
    assert late_fees_on(loan, JAN12) == [(1, D("25.00"))]


def test_a_day_caught_up_after_a_later_payment_still_charges_the_late_payment(loan):
    pay(loan, "106.62", date(2026, 1, 14))
    # End of day for January 12 runs late, after the payment of the 14th.
    assert late_fees_on(loan, JAN12) == [(1, D("25.00"))]
    assert LoanEvent.objects.get(loan=loan, kind="fee").effective_date == JAN12


def test_an_unpaid_late_fee_never_causes_another(loan):
    """Fees first: the 25.00 January fee takes part of February's payment;
    February was still paid in full on its due date, so it is charged
    nothing and nothing is past due (16 CFR 444.4)."""
    assert late_fees_on(loan, JAN12) == [(1, D("25.00"))]
    pay(loan, "106.62", date(2026, 1, 20))
    pay(loan, "106.62", FEB1)
    assert late_fees_on(loan, date(2026, 2, 12)) == []
    assert late_fees_on(loan, date(2026, 2, 28)) == []
    assert figures_on(loan, date(2026, 2, 28)) == (0, 0)
    loan.refresh_from_db()
    # The fee took 25.00 of principal's share: 1,200.00 less January's and
    # February's principal (94.62, 95.57), plus 25.00 still to pay.
    assert (loan.fees_balance, loan.principal_balance) == (0, D("1034.81"))


def test_the_late_fee_grace_is_stated_as_regulations_state_it(loan):
    product = loan.product
    help_text = ServicingProduct._meta.get_field("late_fee_grace_days").help_text
    assert help_text.startswith("No late fee until the payment is more than this many days late")
    assert late_fee_warning(product) == (
        "If your payment is more than 10 days late, a late fee of $25.00 will be charged."
    )
    product.late_fee_grace_days = 1
    assert late_fee_warning(product) == (
        "If your payment is more than 1 day late, a late fee of $25.00 will be charged."
    )


def test_the_late_fee_grace_of_a_product_with_loans_cannot_change(loan):
    """A shorter grace would make payments made in time under the old one
    late, and charge them at the next end of day: a new version instead."""
    pay(loan, "106.62", date(2026, 1, 8))  # 7 days late: in time with 10 days' grace
    with pytest.raises(Conflict) as caught:
        update_product(loan.product, changes={"late_fee_grace_days": 5}, acting_user=None)
    assert "late_fee_grace_days" in caught.value.fields
    assert ServicingProduct.objects.get(pk=loan.product_id).late_fee_grace_days == 10
    assert late_fees_on(loan, date(2026, 1, 20)) == []
    # The arrears grace only measures: it may change.
    update_product(loan.product, changes={"arrears_grace_days": 3}, acting_user=None)
    assert figures_on(loan, FEB4) == (3, 0)


def test_verify_ledger_re_derives_delinquent_days(loan):
    update_product(loan.product, changes={"arrears_grace_days": 5}, acting_user=None)
    assert late_fees_on(loan, JAN12) == [(1, D("25.00"))]
    pay(loan, "106.62", date(2026, 1, 20))
    assert figures_on(loan, FEB4) == (3, 0)
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("1 loans checked, 0 mismatches (")
    Loan.objects.filter(pk=loan.pk).update(delinquent_days=3)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out)
    assert f"{loan.loan_number} delinquent_days: cached 3, replay 0" in out.getvalue().splitlines()
