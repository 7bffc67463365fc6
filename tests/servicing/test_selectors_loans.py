"""Servicing loan selectors: search by numbers, names, reference, state and
days past due; one loan and the portal's access function."""

from datetime import date
from decimal import Decimal

import pytest

from core.exceptions import NotFound
from customers import services as customer_services
from servicing.boarding import BoardingTerms, board_loan
from servicing.selectors.loans import get_loan, get_loans_for_customer, search_loans
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import pay

pytestmark = pytest.mark.django_db
D = Decimal


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
    assert list(search_loans(mine.loan_number)) == [mine]
    assert list(search_loans(f"l{number}")) == [mine]
    assert list(search_loans(customer.customer_number)) == [mine]
    assert list(search_loans("rivera")) == [mine]
    assert list(search_loans("omar  HADDAD")) == [theirs]
    assert list(search_loans("app-200")) == [theirs]
    assert list(search_loans("")) == [theirs, mine]  # newest first
    assert list(search_loans("nobody")) == []
    assert list(search_loans(customer_id=other_customer.pk)) == [theirs]


def test_search_by_state_and_days_past_due(two_loans):
    mine, theirs = two_loans
    set_business_date(date(2026, 2, 25))
    pay(theirs, "1.00", date(2026, 2, 25))  # syncs: 10 days past due
    pay(mine, "1300.00", date(2026, 2, 25))  # pays off with a credit
    theirs.refresh_from_db()
    assert theirs.days_past_due == 10
    assert list(search_loans(state="overpaid")) == [mine]
    assert list(search_loans(state="active")) == [theirs]
    assert list(search_loans(dpd_min=1)) == [theirs]
    assert list(search_loans(dpd_min=11)) == []
    assert list(search_loans(dpd_max=9)) == [mine]
    assert list(search_loans(dpd_min=10, dpd_max=10)) == [theirs]


def test_get_loan_and_customer_access(two_loans, customer, other_customer):
    mine, theirs = two_loans
    assert get_loan(mine.pk) == mine
    with pytest.raises(NotFound):
        get_loan(theirs.pk + 1000)
    assert list(get_loans_for_customer(customer)) == [mine]
    assert list(get_loans_for_customer(other_customer)) == [theirs]
