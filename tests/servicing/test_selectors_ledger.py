"""Servicing ledger selectors: a loan's entries and balances as of a date, a
credit balance, the trial balance."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import Loan
from servicing.selectors.ledger import balances_as_of, gl_summary, loan_postings
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import pay

pytestmark = pytest.mark.django_db
D = Decimal


def test_ledger_and_balances_as_of(make_loan, django_assert_num_queries):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    pay(loan, "106.62", date(2026, 2, 15))
    with django_assert_num_queries(2):
        entries = list(loan_postings(loan))
        postings = [
            (e.entry_type, p.account.code, p.component, p.installment_number, p.debit, p.credit)
            for e in entries
            for p in e.postings.all()
        ]
    assert [e.entry_type for e in entries] == ["disbursement", "accrual", "payment"]
    assert len(postings) == 7
    payment = [p for p in postings if p[0] == "payment"]
    assert sorted((p[2], p[3] or 0, p[4], p[5]) for p in payment) == [
        ("", 0, D("106.62"), D("0.00")),
        ("interest", 1, D("0.00"), D("12.00")),
        ("principal", 1, D("0.00"), D("94.62")),
    ]

    before = balances_as_of(loan, date(2026, 2, 14))
    assert (before.principal, before.interest, before.net_owed) == (
        D("1200.00"),
        D("0.00"),
        D("1200.00"),
    )
    now = balances_as_of(loan)
    assert (now.principal, now.interest, now.unapplied, now.overpayment) == (
        D("1105.38"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )


def test_overpayment_shows_as_credit_and_gl_balances(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    pay(loan, "1300.00", date(2026, 2, 15))
    balances = balances_as_of(loan)
    assert (balances.overpayment, balances.receivable, balances.net_owed) == (
        D("88.00"),
        D("0.00"),
        D("-88.00"),
    )
    rows = {row["code"]: row for row in gl_summary()}
    assert sum(row["balance"] for row in rows.values()) == D("0.00")
    assert Loan.objects.get(pk=loan.pk).state == "overpaid"
