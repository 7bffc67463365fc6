"""Servicing selectors: search, access, transactions with allocations,
the ledger and balances as of a date."""

from datetime import date
from decimal import Decimal

import pytest

from core.exceptions import NotFound
from customers import services as customer_services
from servicing.boarding import BoardingTerms, board_loan
from servicing.models import Loan
from servicing.selectors import loans as selectors
from servicing.services.payments import post_payment, reverse_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, on, **kw):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff", **kw
    ).payment


def lines(row):
    return [(line.component, line.installment_number, line.amount) for line in row.lines]


@pytest.fixture
def other_customer(db):
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Omar",
            "last_name": "Haddad",
            "date_of_birth": date(1979, 9, 3),
        }
    )


@pytest.fixture
def two_loans(make_loan, product, other_customer):
    mine = make_loan("APP-100")
    theirs = board_loan(
        terms=BoardingTerms(
            origination_reference="APP-200",
            customer_id=other_customer.pk,
            product_id=product.pk,
            principal=D("5000.00"),
            annual_rate=D("0.10"),
            term=24,
            disbursement_date=date(2026, 1, 15),
        )
    )
    return mine, theirs


def test_search_by_numbers_names_and_reference(two_loans, customer, other_customer):
    mine, theirs = two_loans
    number = int(mine.loan_number.split("-")[1])
    assert list(selectors.search_loans(mine.loan_number)) == [mine]
    assert list(selectors.search_loans(f"l{number}")) == [mine]
    assert list(selectors.search_loans(customer.customer_number)) == [mine]
    assert list(selectors.search_loans("rivera")) == [mine]
    assert list(selectors.search_loans("omar  HADDAD")) == [theirs]
    assert list(selectors.search_loans("app-200")) == [theirs]
    assert list(selectors.search_loans("")) == [theirs, mine]  # newest first
    assert list(selectors.search_loans("nobody")) == []
    assert list(selectors.search_loans(customer_id=other_customer.pk)) == [theirs]


def test_search_by_state_and_days_past_due(two_loans):
    mine, theirs = two_loans
    set_business_date(date(2026, 2, 25))
    pay(theirs, "1.00", date(2026, 2, 25))  # syncs: 10 days past due
    pay(mine, "1300.00", date(2026, 2, 25))  # pays off with a credit
    theirs.refresh_from_db()
    assert theirs.days_past_due == 10
    assert list(selectors.search_loans(state="overpaid")) == [mine]
    assert list(selectors.search_loans(state="active")) == [theirs]
    assert list(selectors.search_loans(dpd_min=1)) == [theirs]
    assert list(selectors.search_loans(dpd_min=11)) == []
    assert list(selectors.search_loans(dpd_max=9)) == [mine]
    assert list(selectors.search_loans(dpd_min=10, dpd_max=10)) == [theirs]


def test_get_loan_and_customer_access(two_loans, customer, other_customer):
    mine, theirs = two_loans
    assert selectors.get_loan(mine.pk) == mine
    with pytest.raises(NotFound):
        selectors.get_loan(theirs.pk + 1000)
    assert list(selectors.get_loans_for_customer(customer)) == [mine]
    assert list(selectors.get_loans_for_customer(other_customer)) == [theirs]


def test_transactions_show_where_the_money_is_now(make_loan, django_assert_num_queries):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    march = pay(loan, "106.62", date(2026, 3, 16))
    (row,) = selectors.loan_transactions(loan)
    assert lines(row) == [("interest", 1, D("12.00")), ("principal", 1, D("94.62"))]
    assert (row.status, row.entries, row.reapplied) == ("posted", 1, False)

    feb = pay(loan, "106.62", date(2026, 2, 15))  # backdated: March moves to instalment 2
    rows = {r.event.pk: r for r in selectors.loan_transactions(loan)}
    assert lines(rows[march.event_id]) == [
        ("interest", 2, D("11.05")),
        ("principal", 2, D("95.57")),
    ]
    assert rows[march.event_id].reapplied
    assert lines(rows[feb.event_id]) == [("interest", 1, D("12.00")), ("principal", 1, D("94.62"))]

    reverse_payment(payment=feb, reason="nsf")  # March moves back; a 30.00 NSF fee
    with django_assert_num_queries(3):
        rows = selectors.loan_transactions(loan)
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


def test_ledger_and_balances_as_of(make_loan, django_assert_num_queries):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    pay(loan, "106.62", date(2026, 2, 15))
    with django_assert_num_queries(2):
        entries = list(selectors.loan_postings(loan))
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

    before = selectors.balances_as_of(loan, date(2026, 2, 14))
    assert (before.principal, before.interest, before.net_owed) == (
        D("1200.00"),
        D("0.00"),
        D("1200.00"),
    )
    now = selectors.balances_as_of(loan)
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
    balances = selectors.balances_as_of(loan)
    assert (balances.overpayment, balances.receivable, balances.net_owed) == (
        D("88.00"),
        D("0.00"),
        D("-88.00"),
    )
    rows = {row["code"]: row for row in selectors.gl_summary()}
    assert sum(row["balance"] for row in rows.values()) == D("0.00")
    assert Loan.objects.get(pk=loan.pk).state == "overpaid"
