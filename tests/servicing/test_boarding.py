"""board_loan is board_loans for a list of one: the batch boards exactly
what board_loan boards one by one, and one loan takes a fixed number of
queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.exceptions import NotFound
from servicing.boarding import BoardingTerms, board_loan, board_loans
from servicing.models import Installment, JournalEntry, Loan, Posting
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def terms(ref, customer, product, principal="2400.00", rate="0.0999", term=12, fees=()):
    return BoardingTerms(
        origination_reference=ref,
        customer_id=customer.pk,
        product_id=product.pk,
        principal=D(principal),
        annual_rate=D(rate),
        term=term,
        disbursement_date=date(2026, 1, 15),
        fees=fees,
    )


def picture(loan):
    """Everything boarding writes for a loan, without ids and references."""
    loan.refresh_from_db()
    return (
        loan.state,
        loan.principal,
        loan.annual_rate,
        loan.term,
        loan.first_payment_date,
        loan.disbursed_amount,
        loan.principal_balance,
        loan.interest_balance,
        loan.days_past_due,
        loan.next_due_date,
        loan.next_due_amount,
        [
            (i.number, i.due_date, i.principal_due, i.interest_due, i.status)
            for i in Installment.objects.filter(loan=loan).order_by("number")
        ],
        sorted(
            (p.entry.source, p.account.code, p.debit, p.credit, p.effective_date)
            for p in Posting.objects.filter(loan=loan).select_related("entry", "account")
        ),
    )


def test_batch_boarding_equals_one_by_one(product, customer):
    set_business_date(date(2026, 4, 20))  # three instalments have fallen due
    fee = ({"name": "origination", "amount": "48.00", "treatment": "withheld"},)
    variants = [("2400.00", "0.0999", 12, ()), ("10000.00", "0.1850", 36, fee)]
    singles = [
        board_loan(terms=terms(f"ONE-{n}", customer, product, p, r, t, f))
        for n, (p, r, t, f) in enumerate(variants)
    ]
    batch = board_loans(
        terms=[
            terms(f"BAT-{n}", customer, product, p, r, t, f)
            for n, (p, r, t, f) in enumerate(variants)
        ]
    )

    assert [loan.origination_reference for loan in batch] == ["BAT-0", "BAT-1"]
    for one, many in zip(singles, batch, strict=True):
        assert picture(one) == picture(many)
        assert many.loan_number == f"L-{many.pk:07d}"
    # Idempotent per reference: a re-run boards nothing and returns the same loans.
    again = board_loans(
        terms=[terms("BAT-0", customer, product), terms("BAT-9", customer, product)]
    )
    assert again[0].pk == batch[0].pk and again[1].origination_reference == "BAT-9"
    assert Loan.objects.count() == 5


def test_batch_boarding_is_all_or_nothing(product, customer):
    set_business_date(date(2026, 1, 15))
    good = terms("OK-1", customer, product)
    bad = BoardingTerms(
        **{**good.__dict__, "origination_reference": "BAD-1", "customer_id": 999999}
    )
    entries = JournalEntry.objects.count()
    with pytest.raises(NotFound):
        board_loans(terms=[good, bad])
    assert Loan.objects.count() == 0 and JournalEntry.objects.count() == entries


def test_board_loan_takes_the_queries_of_a_batch_of_one(product, customer):
    """A list of one through board_loans: the checks (existing reference,
    product, customers), the inserts (loan, loan number, parties,
    instalments, entry, postings, audit) and one sync, in savepoints."""
    set_business_date(date(2026, 1, 15))
    board_loan(terms=terms("WARM", customer, product))  # the product's accounts, cached
    with CaptureQueriesContext(connection) as queries:
        loan = board_loan(terms=terms("ONE", customer, product))
    assert len(queries) == 20
    with CaptureQueriesContext(connection) as queries:
        assert board_loan(terms=terms("ONE", customer, product)) == loan
    assert len(queries) == 3  # boarded already: one read in a savepoint
