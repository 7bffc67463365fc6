"""Servicing REST API, boarding: create then replay, fees and product
options, invalid terms writing nothing."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import Loan
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import BOARD, api_key_client, detail, post_json, row_counts
from users.models import User

pytestmark = pytest.mark.django_db
D = Decimal


def boarding_body(customer, product, **overrides) -> dict:
    body = {
        "origination_reference": "APP-API-1",
        "customer_id": customer.pk,
        "product_id": product.pk,
        "principal": "1200.00",
        "annual_rate": "12",
        "term": 12,
        "disbursement_date": "2026-01-15",
        "underwriting_notes": "Stable income.",
        "documents": [{"name": "Signed note", "kind": "note", "reference": "DOC-1"}],
    }
    body.update(overrides)
    return body


def test_boarding_creates_then_replays(customer, product):
    set_business_date(date(2026, 1, 15))
    client = api_key_client("loans:read", "loans:write")
    body = boarding_body(customer, product)
    response = post_json(client, BOARD, body, key="board-1")
    assert response.status_code == 201, response.json()
    loan = Loan.objects.get()
    assert response["Location"] == detail(loan.pk)
    created = response.json()
    assert created["loan_number"] == f"L-{loan.pk:07d}"
    assert (created["annual_rate"], created["terms"]["annual_rate"]) == ("12.0000", "0.12")
    assert loan.annual_rate == D("0.12")
    assert created["next_due_amount"] == "106.62"
    assert created["underwriting_notes"] == "Stable income."
    assert created["documents"] == [
        {"name": "Signed note", "kind": "note", "sha256": "", "reference": "DOC-1"}
    ]
    assert loan.boarded_by.kind == User.Kind.INTEGRATION
    counts = row_counts()

    replay = post_json(client, BOARD, body)
    assert replay.status_code == 200
    assert replay.json() == created
    assert row_counts() == counts

    response = post_json(client, BOARD, {**body, "principal": "1300.00", "term": 24})
    assert response.status_code == 409
    assert response.json()["code"] == "origination_reference_taken"
    assert set(response.json()["fields"]) == {"principal", "term"}
    assert row_counts() == counts


def test_boarding_with_fees_and_product_options(customer, product, staff_client):
    client, _ = staff_client("servicing_agent")
    body = boarding_body(
        customer,
        product,
        origination_reference="APP-FEES",
        annual_rate="7.25",
        fees=[{"name": "Origination fee", "amount": "50.00"}],
        disbursed_amount="1150.00",
        day_count="actual/365",
    )
    response = post_json(client, BOARD, body)
    assert response.status_code == 201, response.json()
    loan = Loan.objects.get()
    assert (loan.annual_rate, loan.disbursed_amount) == (D("0.0725"), D("1150.00"))
    assert response.json()["annual_rate"] == "7.2500"
    assert loan.terms["day_count"] == "actual/365"


@pytest.mark.parametrize(
    ("overrides", "status", "fields"),
    [
        ({"term": 0}, 400, {"term"}),
        ({"annual_rate": "-1"}, 400, {"annual_rate"}),
        ({"annual_rate": "12.00001"}, 400, {"annual_rate"}),
        ({"principal": "abc"}, 400, {"principal"}),
        ({"disbursement_date": "soon"}, 400, {"disbursement_date"}),
        ({"repayment_unit": "fortnights"}, 400, {"repayment_unit"}),
        ({"fees": [{"name": "", "amount": "-1"}]}, 400, {"fees.0.name", "fees.0.amount"}),
        ({"documents": [{"name": "x", "sha256": "nothex"}]}, 400, {"documents.0.sha256"}),
        ({"origination_reference": ""}, 400, {"origination_reference"}),
        ({"annual_rate": "2000"}, 400, {"annual_rate"}),
        ({"disbursed_amount": "1000.00"}, 409, {"disbursed_amount"}),
        ({"customer_id": 999999}, 404, {"customer_id"}),
        ({"product_id": 999999}, 404, {"product_id"}),
    ],
)
def test_invalid_boarding_writes_nothing(customer, product, overrides, status, fields):
    set_business_date(date(2026, 1, 15))
    client = api_key_client("loans:write")
    counts = row_counts()
    response = post_json(client, BOARD, boarding_body(customer, product, **overrides))
    assert response.status_code == status, response.json()
    assert set(response.json()["fields"]) == fields
    assert row_counts() == counts
