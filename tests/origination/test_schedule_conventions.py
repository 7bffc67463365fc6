"""Issue 13's schedule conventions in origination: the quote contract and the
calculator take them, and a loan product refuses a combination the engine
cannot schedule. Figures: Fineract's published progressive schedule (100 at
9.4822 %, 360/30, six months from 1 January 2024) and hand-worked ones."""

from decimal import Decimal

import pytest

from core.exceptions import ValidationFailed
from origination.services.products import create_product, default_product_data
from tests.core.finance.test_schedule_conventions import FINERACT_30_360

pytestmark = pytest.mark.django_db

FINERACT = {
    "principal": "100.00",
    "annual_rate": "9.4822",
    "term": 6,
    "disbursement_date": "2024-01-01",
    "day_count": "30/360",
    "installment_method": "period_rates_adjusted",
}


@pytest.fixture
def client(staff_client):
    return staff_client("loan_officer")[0]


def post(client, body):
    return client.post("/api/v1/quotes", body, content_type="application/json")


def test_the_quote_takes_the_progressive_method(client):
    response = post(client, FINERACT)
    assert response.status_code == 200, response.json()
    rows = response.json()["installments"]
    assert [(r["principal"], r["interest"], r["payment"]) for r in rows] == [
        tuple(map(str, row)) for row in FINERACT_30_360
    ]


def test_the_quotes_equal_principal_ignores_the_multiple_unless_asked(client):
    body = {
        "principal": "1000.00",
        "annual_rate": "12",
        "term": 3,
        "disbursement_date": "2024-01-01",
        "amortization": "equal_principal",
        "installment_multiple": "10",
        "rounding": "down",
    }
    rows = post(client, body).json()["installments"]
    assert [r["principal"] for r in rows] == ["333.33", "333.33", "333.34"]  # 1000 / 3
    rows = post(client, {**body, "equal_principal_rounding": "installment_multiple"}).json()[
        "installments"
    ]
    assert [r["principal"] for r in rows] == ["330.00", "330.00", "340.00"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"installment_method": "progressive"}, "is not a valid choice"),
        ({"equal_principal_rounding": "dollars"}, "is not a valid choice"),
        ({"amortization": "interest_only"}, "needs equal_installments"),
    ],
)
def test_a_bad_convention_is_400_with_the_field_named(client, change, message):
    response = post(client, {**FINERACT, **change})
    assert response.status_code == 400
    fields = response.json()["fields"]
    name = next(iter(change)) if "interest_only" not in str(change) else "installment_method"
    assert message in " ".join(fields[name])


def test_the_calculator_page_takes_the_method(staff_client):
    client, _ = staff_client("underwriter")
    query = (
        "principal=100&annual_rate=15.678&term=6&disbursement_date=2024-01-01"
        "&day_count=actual/365&installment_method=period_rates_adjusted"
        "&fee-TOTAL_FORMS=2&fee-INITIAL_FORMS=0"
    )
    page = client.get(f"/staff/origination/calculator/?{query}").content.decode()
    # ProgressiveEMICalculatorTest: 17.43 five times, 17.47 last
    assert "5 payments of <strong>$17.43</strong>" in page
    assert "1 payment of <strong>$17.47</strong>" in page
    assert 'name="installment_method"' in page


def test_a_loan_product_refuses_a_method_its_amortisation_cannot_use(db):
    data = {
        **default_product_data(),
        "amortization": "equal_principal",
        "installment_method": "period_rates",
    }
    with pytest.raises(ValidationFailed) as caught:
        create_product(code="bad-product", data=data)
    assert "equal_installments" in caught.value.fields["installment_method"]
    with pytest.raises(ValidationFailed) as caught:
        create_product(
            code="bad-product", data={**default_product_data(), "installment_method": "x"}
        )
    assert (
        "nominal_rate, period_rates, period_rates_adjusted"
        in (caught.value.fields["installment_method"])
    )
    product = create_product(
        code="good-product",
        data={**default_product_data(), "installment_method": "period_rates"},
    )
    assert (product.installment_method, product.equal_principal_rounding) == (
        "period_rates",
        "cents",
    )
    assert product.min_amount == Decimal("1000.00")
