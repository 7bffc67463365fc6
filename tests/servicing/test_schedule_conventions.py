"""Issue 13's schedule conventions as product settings, end to end: the
servicing product carries them, boarding copies them onto the loan's terms,
the loan's instalments follow them, validation refuses what the engine
cannot schedule, and loans boarded before the settings existed keep their
figures. Expected figures are Fineract's published ones (see
tests/core/finance/test_schedule_conventions.py) or worked by hand."""

from datetime import date
from decimal import Decimal

import pytest

from core.exceptions import ValidationFailed
from servicing.boarding import BoardingTerms, board_loan
from servicing.models import Installment, Loan
from servicing.services.products import create_product, update_product
from servicing.services.sync import loan_setup, loan_terms
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import BOARD, api_key_client, post_json
from tests.servicing.test_api_boarding import boarding_body

pytestmark = pytest.mark.django_db
D = Decimal


def instalments(loan):
    return [
        (row.principal_due, row.interest_due)
        for row in Installment.objects.filter(loan=loan).order_by("number")
    ]


def board(product, customer, reference="APP-P", **terms):
    """A loan of 100 at 15.678 % over 6 months from 1 January 2024 on `product`."""
    set_business_date(date(2024, 1, 1))
    values = {
        "principal": D("100.00"),
        "annual_rate": D("0.15678"),
        "term": 6,
        "disbursement_date": date(2024, 1, 1),
        **terms,
    }
    return board_loan(
        terms=BoardingTerms(
            origination_reference=reference,
            customer_id=customer.pk,
            product_id=product.pk,
            **values,
        )
    )


@pytest.fixture
def progressive(db):
    return create_product(
        code="progressive",
        name="Progressive (actual/365)",
        day_count="actual/365",
        installment_method="period_rates_adjusted",
    )


def test_a_product_with_period_rates_boards_fineracts_schedule(progressive, customer):
    # Fineract's ProgressiveEMICalculatorTest: 100 at 15.678 %, 365 days a
    # year, six months from 1 January 2024: 17.43 a month, 17.47 last.
    loan = board(progressive, customer)
    assert loan.terms["installment_method"] == "period_rates_adjusted"
    assert loan.terms["equal_principal_rounding"] == "cents"
    assert instalments(loan) == [
        (D("16.10"), D("1.33")),
        (D("16.38"), D("1.05")),
        (D("16.53"), D("0.90")),
        (D("16.77"), D("0.66")),
        (D("16.97"), D("0.46")),
        (D("17.25"), D("0.22")),
    ]
    assert loan_setup(loan).schedule.installment == D("17.43")


def test_the_boarding_request_overrides_the_products_setting(progressive, customer):
    loan = board(progressive, customer, installment_method="nominal_rate")
    assert loan.terms["installment_method"] == "nominal_rate"
    # 100 x r / (1 - (1 + r)^-6) at r = 0.15678 / 12 = 17.4370... -> 17.44; on
    # the same actual/365 interest that leaves 17.40 for the last instalment
    # (the very schedule Fineract's adjustment tries and rejects)
    schedule = loan_setup(loan).schedule
    assert (schedule.installment, schedule.payments[-1]) == (D("17.44"), D("17.40"))


def test_equal_principal_uses_cents_and_an_old_loan_keeps_the_multiple(make_loan):
    # 1,000 over 3 with an instalment multiple of 10, rounded down:
    # the rule now is 333.33, 333.33, 333.34 ...
    loan = make_loan(
        principal="1000.00",
        term=3,
        amortization="equal_principal",
        installment_multiple=D("10"),
        rounding="down",
    )
    assert [p for p, _ in instalments(loan)] == [D("333.33"), D("333.33"), D("333.34")]
    # ... while a loan whose stored terms predate the setting (no key) was
    # scheduled 330, 330, 340 and is still read that way.
    stored = dict(loan.terms)
    del stored["equal_principal_rounding"]
    Loan.objects.filter(pk=loan.pk).update(terms=stored)
    loan.refresh_from_db()
    assert str(loan_terms(loan).equal_principal_rounding) == "installment_multiple"
    assert loan_setup(loan).schedule.principal_parts == (D("330.00"), D("330.00"), D("340.00"))


def test_a_period_rate_method_needs_level_instalments(db):
    with pytest.raises(ValidationFailed) as caught:
        create_product(
            code="bad",
            name="Bad",
            amortization="equal_principal",
            installment_method="period_rates",
        )
    [message] = caught.value.fields["installment_method"]
    assert "equal_installments" in message and "nominal_rate" in message


def test_update_judges_the_method_with_the_products_other_settings(progressive):
    # only the amortisation changes, but the product's method cannot go with it
    with pytest.raises(ValidationFailed) as caught:
        update_product(progressive, changes={"amortization": "equal_principal"}, acting_user=None)
    assert "installment_method" in caught.value.fields
    progressive.refresh_from_db()
    assert progressive.amortization == "equal_installments"
    changed = update_product(
        progressive,
        changes={"installment_method": "nominal_rate", "amortization": "equal_principal"},
        acting_user=None,
    )
    assert (changed.installment_method, changed.amortization) == ("nominal_rate", "equal_principal")


def test_the_boarding_api_takes_the_settings(customer, product):
    set_business_date(date(2024, 1, 1))
    client = api_key_client("loans:read", "loans:write")
    body = boarding_body(
        customer,
        product,
        principal="100.00",
        annual_rate="15.678",
        term=6,
        disbursement_date="2024-01-01",
        day_count="actual/365",
        installment_method="period_rates_adjusted",
    )
    response = post_json(client, BOARD, body, key="board-conventions")
    assert response.status_code == 201, response.json()
    terms = response.json()["terms"]
    assert (terms["installment_method"], terms["equal_principal_rounding"]) == (
        "period_rates_adjusted",
        "cents",
    )
    loan = Loan.objects.get(pk=response.json()["id"])
    assert [p + i for p, i in instalments(loan)] == [D("17.43")] * 5 + [D("17.47")]
    bad = post_json(
        client, BOARD, {**body, "origination_reference": "APP-2", "installment_method": "emi"}
    )
    assert bad.status_code == 400
    assert "installment_method" in bad.json()["fields"]
