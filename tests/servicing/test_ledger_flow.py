"""Boarding, payments, backdating and reversal on the double-entry ledger."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from servicing.models import JournalEntry, Loan, Payment, Posting
from servicing.selectors.ledger import balances_by_role
from servicing.services.payments import post_payment, reverse_payment
from servicing.services.sync import sync_loan
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, on, **kw):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff", **kw
    ).payment


def assert_balanced():
    for entry in JournalEntry.objects.all():
        postings = entry.postings.all()
        assert sum(p.debit for p in postings) == sum(p.credit for p in postings), entry.key


def test_boarding_posts_the_disbursement_and_schedule(make_loan):
    loan = make_loan()
    assert loan.loan_number == f"L-{loan.pk:07d}"
    assert loan.installments.count() == 12
    first = loan.installments.get(number=1)
    assert (first.due_date, first.principal_due, first.interest_due) == (
        date(2026, 2, 15),
        D("94.62"),
        D("12.00"),
    )
    roles = balances_by_role(loan)
    assert roles["principal_receivable"] == D("1200.00")
    assert roles["cash_clearing"] == D("-1200.00")
    assert loan.principal_balance == D("1200.00")
    assert make_loan().pk == loan.pk  # idempotent on the origination reference
    assert Loan.objects.count() == 1


def test_on_time_payment_splits_interest_then_principal(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    pay(loan, "106.62", date(2026, 2, 15))
    loan.refresh_from_db()
    assert loan.principal_balance == D("1105.38")
    assert loan.interest_balance == D("0.00")
    roles = balances_by_role(loan)
    assert roles["interest_income"] == D("-12.00")
    assert roles["principal_receivable"] == D("1105.38")
    assert roles["interest_receivable"] == D("0.00")
    assert loan.installments.get(number=1).status == "paid"
    assert_balanced()


def test_backdated_payment_reapplies_the_later_one(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    later = pay(loan, "106.62", date(2026, 3, 16))
    # Before the backdated one, the March payment paid instalment 1 (overdue).
    assert loan.installments.get(number=1).status == "paid"
    pay(loan, "106.62", date(2026, 2, 15))
    loan.refresh_from_db()
    inst = {i.number: i.status for i in loan.installments.all()}
    assert inst[1] == "paid" and inst[2] == "paid"
    assert loan.days_past_due == 0
    kinds = list(later.event.entries.values_list("entry_type", flat=True).order_by("id"))
    assert kinds == ["payment", "reapplication"]
    assert_balanced()
    # Syncing again posts nothing new.
    count = JournalEntry.objects.count()
    sync_loan(loan=loan)
    assert JournalEntry.objects.count() == count


def test_nsf_reversal_restores_balance_and_charges_the_fee(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    payment = pay(loan, "106.62", date(2026, 2, 15))
    reverse_payment(payment=payment, reason="nsf")
    loan.refresh_from_db()
    assert loan.principal_balance == D("1200.00")
    assert loan.interest_balance == D("12.00")
    assert loan.fees_balance == D("30.00")
    assert loan.days_past_due == 5
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REVERSED
    assert reverse_payment(payment=payment, reason="nsf").pk == payment.pk  # idempotent
    assert loan.fees_balance == D("30.00")
    assert_balanced()


def test_payoff_and_overpayment(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    pay(loan, "1300.00", date(2026, 2, 15))
    loan.refresh_from_db()
    assert loan.state == "overpaid"
    assert loan.principal_balance == D("0.00")
    assert loan.overpayment_balance == D("88.00")  # 1300 - 1200 principal - 12 interest
    assert balances_by_role(loan)["overpayment_liability"] == D("-88.00")


INSERT_UNBALANCED = (
    "INSERT INTO servicing_posting"
    " (entry_id, loan_id, account_id, component, debit, credit, effective_date)"
    " SELECT %s, %s, account_id, '', 1.00, 0, effective_date"
    " FROM servicing_posting WHERE entry_id = %s LIMIT 1"
)


def test_database_refuses_unbalanced_entries_and_edits(make_loan):
    loan = make_loan()
    entry = JournalEntry.objects.get(loan=loan, source="disbursement")
    with (
        pytest.raises(DatabaseError, match="unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(INSERT_UNBALANCED, [entry.pk, loan.pk, entry.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    posting = Posting.objects.filter(entry=entry).first()
    for sql in (
        "UPDATE servicing_posting SET debit = debit + 1 WHERE id = %s",
        "DELETE FROM servicing_posting WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [posting.pk])


def test_balance_check_covers_every_entry_a_statement_touches(make_loan):
    """The statement-level check sums each touched entry's postings, old and
    new: a balanced pair added to an entry passes; a statement that leaves any
    one of several entries unbalanced is refused, naming it."""
    loan = make_loan()
    entry = JournalEntry.objects.get(loan=loan, source="disbursement")
    before = Posting.objects.filter(entry=entry).count()
    pair = (
        "INSERT INTO servicing_posting"
        " (entry_id, loan_id, account_id, component, debit, credit, effective_date)"
        " SELECT %s, %s, account_id, '', d, c, effective_date"
        " FROM servicing_posting, (VALUES (%s::numeric, 0::numeric), (0, %s)) v(d, c)"
        " WHERE entry_id = %s ORDER BY servicing_posting.id LIMIT 2"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(pair, [entry.pk, loan.pk, "2.50", "2.50", entry.pk])
        assert Posting.objects.filter(entry=entry).count() == before + 2
        transaction.set_rollback(True)  # the ledger itself stays as it was
    other = JournalEntry.objects.create(
        loan=loan, entry_type="adjustment", effective_date=entry.effective_date, key="t", source="t"
    )
    both = (
        "INSERT INTO servicing_posting"
        " (entry_id, loan_id, account_id, component, debit, credit, effective_date)"
        " SELECT e, %s, account_id, '', d, c, effective_date"
        " FROM (SELECT account_id, effective_date FROM servicing_posting WHERE entry_id = %s"
        " LIMIT 1) a,"
        " (VALUES (%s::bigint, 1.00, 0.00), (%s, 0.00, 1.00), (%s, 1.00, 0.00)) v(e, d, c)"
    )
    with (
        pytest.raises(DatabaseError, match=f"journal entry {other.pk} is unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(both, [loan.pk, entry.pk, entry.pk, entry.pk, other.pk])
    assert Posting.objects.filter(entry=entry).count() == before
