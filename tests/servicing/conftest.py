"""Servicing fixtures: a product, a customer and a boarded loan, all built
through the real services."""

from datetime import date
from decimal import Decimal

import pytest

from core.models import BusinessDate
from customers import services as customer_services
from servicing.boarding import BoardingTerms, board_loan
from servicing.selectors.ledger import clear_account_cache
from servicing.services.payments import post_payment
from servicing.services.products import create_product


def set_business_date(d: date) -> None:
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": d})


@pytest.fixture(autouse=True)
def _account_cache():
    clear_account_cache()
    yield
    clear_account_cache()


@pytest.fixture
def product(db):
    return create_product(
        code="personal",
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
        nsf_fee_amount=Decimal("30.00"),
    )


@pytest.fixture
def customer(db):
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Dana",
            "last_name": "Rivera",
            "date_of_birth": date(1988, 4, 12),
            "email": "dana@example.com",
        }
    )


@pytest.fixture
def make_loan(product, customer):
    """make_loan(reference="APP-1", principal="1200.00", annual_rate="0.12", term=12)."""

    def _make(reference="APP-1", *, principal="1200.00", annual_rate="0.12", term=12, **extra):
        set_business_date(extra.pop("business_date", date(2026, 1, 15)))
        return board_loan(
            terms=BoardingTerms(
                origination_reference=reference,
                customer_id=customer.pk,
                product_id=product.pk,
                principal=Decimal(principal),
                annual_rate=Decimal(annual_rate),
                term=term,
                disbursement_date=extra.pop("disbursement_date", date(2026, 1, 15)),
                **extra,
            )
        )

    return _make


@pytest.fixture
def paid_loan(make_loan):
    """1,200 at 12% over 12 months, the Feb 15 instalment paid; business date Feb 15."""
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan,
        amount=Decimal("106.62"),
        received_on=date(2026, 2, 15),
        method="ach",
        channel="staff",
    )
    return loan
