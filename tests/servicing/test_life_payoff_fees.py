"""Payoff quotes and payoff payments, late fees, manual fees and waivers."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from core.exceptions import ValidationFailed
from servicing.models import LoanEvent, PayoffQuote, ServicingProduct
from servicing.services.fees import assess_fee, assess_late_fees, waive_fee
from servicing.services.payments import post_payment
from servicing.services.payoff import payoff_quote, record_payoff_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, on):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff"
    ).payment


def test_payoff_quote_mid_period_itemised(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    quote = payoff_quote(loan=loan, good_through=date(2026, 1, 30))
    # 15 days of 30/360 interest on 1,200.00 at 12%: 6.00; per diem 1200 x 0.12 / 360 = 0.40
    assert quote.itemisation == {
        "principal": "1200.00",
        "interest_due": "0.00",
        "interest_accrued": "6.00",
        "interest": "6.00",
        "fees": "0.00",
        "penalties": "0.00",
        "credit": "0.00",
        "total": "1206.00",
        "per_diem": "0.40",
    }
    assert (quote.amount, quote.per_diem) == (D("1206.00"), D("0.40"))
    assert len(quote.sha256) == 64 and bytes(quote.pdf).startswith(b"%PDF")


def test_payoff_quote_in_the_future_with_a_missed_instalment(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 10))
    quote = payoff_quote(loan=loan, good_through=date(2026, 2, 25))
    # instalment 1 (12.00 interest) falls due on Feb 15; then 10 days on 1,105.38
    assert quote.itemisation["interest_due"] == "12.00"
    assert quote.itemisation["principal"] == "1200.00"
    assert quote.amount == D(quote.itemisation["principal"]) + D(quote.itemisation["interest"])


def test_payoff_quote_refuses_past_date_and_writes_nothing(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    with pytest.raises(ValidationFailed) as exc:
        payoff_quote(loan=loan, good_through=date(2026, 1, 29))
    assert "good_through" in exc.value.fields
    assert PayoffQuote.objects.count() == 0


def test_payoff_payment_pays_off_and_emails_once(make_loan, django_capture_on_commit_callbacks):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    quote = payoff_quote(loan=loan, good_through=date(2026, 1, 30))
    with django_capture_on_commit_callbacks(execute=True):
        record_payoff_payment(
            loan=loan, amount=quote.amount, received_on=date(2026, 1, 30), method="ach"
        )
    loan.refresh_from_db()
    assert loan.state == "paid_off"
    assert loan.principal_balance == D("0.00")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.com"]
    assert loan.loan_number in mail.outbox[0].subject


def test_partial_payment_sends_no_notice(make_loan, django_capture_on_commit_callbacks):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    with django_capture_on_commit_callbacks(execute=True):
        record_payoff_payment(
            loan=loan, amount=D("106.62"), received_on=date(2026, 2, 15), method="ach"
        )
    loan.refresh_from_db()
    assert loan.state == "active"
    assert mail.outbox == []


def test_flat_late_fee_once_per_instalment_after_grace(make_loan):
    loan = make_loan()
    # due Feb 15, grace 10 days: nothing on Feb 25, the fee on Feb 26
    set_business_date(date(2026, 2, 25))
    assert assess_late_fees(loan=loan, business_date=date(2026, 2, 25)) == []
    set_business_date(date(2026, 2, 26))
    fees = assess_late_fees(loan=loan, business_date=date(2026, 2, 26))
    assert [(f.amount, f.details["installment_number"]) for f in fees] == [(D("25.00"), 1)]
    assert assess_late_fees(loan=loan, business_date=date(2026, 2, 26)) == []
    set_business_date(date(2026, 3, 1))
    assert assess_late_fees(loan=loan, business_date=date(2026, 3, 1)) == []
    loan.refresh_from_db()
    assert loan.fees_balance == D("25.00")
    # instalment 2 (due Mar 15) gets its own fee after its grace
    set_business_date(date(2026, 3, 26))
    fees = assess_late_fees(loan=loan, business_date=date(2026, 3, 26))
    assert [(f.amount, f.details["installment_number"]) for f in fees] == [(D("25.00"), 2)]
    assert LoanEvent.objects.filter(loan=loan, kind="fee").count() == 2


def test_paid_instalment_gets_no_late_fee(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    pay(loan, "106.62", date(2026, 2, 15))
    set_business_date(date(2026, 3, 1))
    assert assess_late_fees(loan=loan, business_date=date(2026, 3, 1)) == []


def test_percent_late_fee_with_cap(make_loan, product):
    ServicingProduct.objects.filter(pk=product.pk).update(
        late_fee_type="percent", late_fee_percent=D("0.05"), late_fee_cap=D("5.00")
    )
    loan = make_loan()
    set_business_date(date(2026, 2, 26))
    fees = assess_late_fees(loan=loan, business_date=date(2026, 2, 26))
    # 5% of 106.62 = 5.33, capped at 5.00
    assert [f.amount for f in fees] == [D("5.00")]
    ServicingProduct.objects.filter(pk=product.pk).update(late_fee_cap=None)
    set_business_date(date(2026, 3, 26))
    fees = assess_late_fees(loan=loan, business_date=date(2026, 3, 26))
    assert [f.amount for f in fees] == [D("5.33")]


def test_manual_fee_and_waiver(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 20))
    fee = assess_fee(loan=loan, amount=D("15.00"), kind="other", note="Document copy")
    loan.refresh_from_db()
    assert loan.fees_balance == D("15.00")
    waive_fee(loan=loan, fee_event_id=fee.pk, amount=D("10.00"), reason="Goodwill")
    loan.refresh_from_db()
    assert loan.fees_balance == D("5.00")
    count = LoanEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        waive_fee(loan=loan, fee_event_id=fee.pk, amount=D("5.01"), reason="Too much")
    assert "amount" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        assess_fee(loan=loan, amount=D("-1"), kind="bogus", note="")
    assert set(exc.value.fields) == {"amount", "kind", "note"}
    assert LoanEvent.objects.count() == count
