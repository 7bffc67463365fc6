"""The borrower's instruction for an overpayment: the portal's pay page and
the batch payment CSV import both say whether anything beyond what is due
prepays principal or is held as unapplied credit (blank: the product's
default), and a bad instruction writes nothing."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from servicing.models import Payment
from servicing.services.imports import import_payments_csv
from tests.servicing.conftest import set_business_date
from tests.servicing.test_portal import board, client_for, counts, make_borrower, pay_data

pytestmark = pytest.mark.django_db
D = Decimal
PRINCIPAL = D("1200.00")
EXTRA = D("100.00")


@pytest.fixture
def borrower(db):
    return make_borrower("excess@example.com")


@pytest.fixture
def loan(product, borrower):
    loan = board(product, borrower, "APP-X1")
    set_business_date(date(2026, 2, 15))
    loan.refresh_from_db()
    return loan


@pytest.fixture
def client(borrower):
    return client_for(borrower)


def _first_due(loan):
    first = loan.installments.get(number=1)
    assert loan.next_due_amount == first.principal_due + first.interest_due
    return first


# --- portal ------------------------------------------------------------------------


def test_pay_page_offers_the_choice_preselecting_the_product_default(loan, client):
    url = reverse("portal:loan-pay", args=[loan.pk])
    page = client.get(url)
    assert page.context["form"].initial["excess"] == "prepayment"
    html = page.content.decode()
    assert "Reduce my principal (prepayment)" in html
    assert "Keep it as credit for my next payments (unapplied)" in html
    checked = re.findall(r'<input[^>]*name="excess"[^>]*value="(\w+)"[^>]*checked', html)
    assert checked == ["prepayment"]

    loan.product.excess_default = "unapplied"
    loan.product.save(update_fields=["excess_default"])
    html = client.get(url).content.decode()
    checked = re.findall(r'<input[^>]*name="excess"[^>]*value="(\w+)"[^>]*checked', html)
    assert checked == ["unapplied"]


def test_portal_overpayment_kept_as_unapplied_credit(loan, client):
    first = _first_due(loan)
    amount = loan.next_due_amount + EXTRA

    response = client.post(
        reverse("portal:loan-pay", args=[loan.pk]), pay_data(amount, excess="unapplied")
    )

    assert response.status_code == 302
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.excess, payment.channel) == (amount, "unapplied", "portal")
    loan.refresh_from_db()
    # Only the instalment's principal is paid; the extra 100 is held as credit.
    assert loan.principal_balance == PRINCIPAL - first.principal_due
    assert loan.interest_balance == D("0.00")
    assert loan.unapplied_balance == EXTRA
    receipt = client.get(response["Location"])
    assert receipt.context["split"]["principal"] == first.principal_due
    assert receipt.context["split"]["credit"] == EXTRA


def test_portal_overpayment_as_prepayment_reduces_principal(loan, client):
    first = _first_due(loan)
    amount = loan.next_due_amount + EXTRA

    response = client.post(
        reverse("portal:loan-pay", args=[loan.pk]), pay_data(amount, excess="prepayment")
    )

    assert response.status_code == 302
    payment = Payment.objects.get(loan=loan)
    assert payment.excess == "prepayment"
    loan.refresh_from_db()
    assert loan.principal_balance == PRINCIPAL - first.principal_due - EXTRA
    assert loan.unapplied_balance == D("0.00")
    receipt = client.get(response["Location"])
    assert receipt.context["split"]["principal"] == first.principal_due + EXTRA
    assert receipt.context["split"]["credit"] == D("0.00")


def test_portal_payment_without_a_choice_takes_the_product_default(loan, client):
    loan.product.excess_default = "unapplied"
    loan.product.save(update_fields=["excess_default"])
    first = _first_due(loan)

    response = client.post(
        reverse("portal:loan-pay", args=[loan.pk]), pay_data(loan.next_due_amount + EXTRA)
    )

    assert response.status_code == 302
    assert Payment.objects.get(loan=loan).excess == "unapplied"
    loan.refresh_from_db()
    assert loan.principal_balance == PRINCIPAL - first.principal_due
    assert loan.unapplied_balance == EXTRA


def test_invalid_excess_choice_is_a_form_error_and_posts_nothing(loan, client):
    before = counts()

    response = client.post(
        reverse("portal:loan-pay", args=[loan.pk]),
        pay_data(loan.next_due_amount + EXTRA, excess="refund-me"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["excess"] == [
        "Choose to reduce your principal or keep a credit."
    ]
    assert "Choose to reduce your principal or keep a credit." in response.content.decode()
    assert counts() == before
    loan.refresh_from_db()
    assert loan.principal_balance == PRINCIPAL
    assert loan.unapplied_balance == D("0.00")


# --- batch CSV import ----------------------------------------------------------------


def test_csv_excess_column_sets_each_rows_instruction(product, make_loan):
    product.excess_default = "unapplied"  # so a blank cell visibly takes the default
    product.save(update_fields=["excess_default"])
    unapplied = make_loan("APP-1")
    prepay = make_loan("APP-2")
    blank = make_loan("APP-3")
    shouted = make_loan("APP-4")
    invalid = make_loan("APP-5")
    set_business_date(date(2026, 2, 20))
    first = unapplied.installments.get(number=1)
    due = first.principal_due + first.interest_due
    amount = due + EXTRA
    text = (
        "loan_number,amount,received_on,method,reference,excess\n"
        f"{unapplied.loan_number},{amount},2026-02-15,ach,R-1,unapplied\n"
        f"{prepay.loan_number},{amount},2026-02-15,ach,R-2,prepayment\n"
        f"{blank.loan_number},{amount},2026-02-15,ach,R-3,\n"
        f"{shouted.loan_number},{amount},2026-02-15,ach,R-4,PREPAYMENT\n"
        f"{invalid.loan_number},{amount},2026-02-15,ach,R-5,refund\n"
    )

    result = import_payments_csv(text=text, filename="excess.csv")

    assert [r["line"] for r in result.accepted] == [2, 3, 4, 5]
    assert result.rejected == [
        {
            "line": 6,
            "loan_number": invalid.loan_number,
            "reason": "Excess 'refund' is not one of prepayment, unapplied "
            "(or blank for the product default).",
            "item": invalid.loan_number,
            "detail": "",
        }
    ]
    assert not Payment.objects.filter(loan=invalid).exists()
    excess = {p.loan_id: p.excess for p in Payment.objects.all()}
    assert excess == {
        unapplied.pk: "unapplied",
        prepay.pk: "prepayment",
        blank.pk: "unapplied",
        shouted.pk: "prepayment",
    }
    balances = {}
    for loan in (unapplied, prepay, blank, shouted, invalid):
        loan.refresh_from_db()
        balances[loan.pk] = (loan.principal_balance, loan.unapplied_balance)
    after_due = PRINCIPAL - first.principal_due
    assert balances == {
        unapplied.pk: (after_due, EXTRA),
        prepay.pk: (after_due - EXTRA, D("0.00")),
        blank.pk: (after_due, EXTRA),
        shouted.pk: (after_due - EXTRA, D("0.00")),
        invalid.pk: (PRINCIPAL, D("0.00")),
    }


def test_csv_without_the_excess_column_takes_the_product_default(product, make_loan):
    loan = make_loan("APP-1")
    set_business_date(date(2026, 2, 20))
    first = loan.installments.get(number=1)
    amount = first.principal_due + first.interest_due + EXTRA
    text = (
        "loan_number,amount,received_on,method,reference\n"
        f"{loan.loan_number},{amount},2026-02-15,ach,R-1\n"
    )

    result = import_payments_csv(text=text, filename="old-format.csv")

    assert [r["line"] for r in result.accepted] == [2] and result.rejected == []
    assert Payment.objects.get(loan=loan).excess == "prepayment"  # the product default
    loan.refresh_from_db()
    assert loan.principal_balance == PRINCIPAL - first.principal_due - EXTRA
    assert loan.unapplied_balance == D("0.00")
