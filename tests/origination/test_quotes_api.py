"""POST /api/v1/quotes and POST /api/v1/apr: the integrators' contract."""

from decimal import Decimal

import numpy_financial as npf
import pytest
from django.test import Client

from tests.factories import UserFactory
from users.authentication import hash_secret
from users.models import ApiKey, User

pytestmark = pytest.mark.django_db

BASIC = {
    "principal": "10000.00",
    "annual_rate": "12",
    "term": 12,
    "disbursement_date": "2026-01-15",
}


def api_key_client(*scopes: str) -> Client:
    owner = User.objects.create(
        username=f"api:test-{'-'.join(scopes) or 'none'}", kind="integration"
    )
    admin = UserFactory()
    ApiKey.objects.create(
        name="test",
        prefix=f"lk_{owner.pk:08d}",
        key_hash=hash_secret("s3cret"),
        scopes=list(scopes),
        user=owner,
        created_by=admin,
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key lk_{owner.pk:08d}.s3cret")


@pytest.fixture
def client(staff_client):
    return staff_client("loan_officer")[0]


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_quote_12_month_annuity_exact(client):
    response = post(client, "/api/v1/quotes", BASIC)
    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == {
        "number_of_installments": 12,
        "installment": "888.49",
        "loan_amount": "10000.00",
        "disbursed_amount": "10000.00",
        "principal": "10000.00",
        "interest": "661.86",
        "fees": "0.00",
        "payments": "10661.86",
    }
    assert body["installments"][0] == {
        "number": 1,
        "due_date": "2026-02-15",
        "days": 31,
        "opening_balance": "10000.00",
        "principal": "788.49",
        "interest": "100.00",
        "fees": "0.00",
        "payment": "888.49",
        "closing_balance": "9211.51",
    }
    last = body["installments"][-1]
    assert (last["due_date"], last["payment"], last["closing_balance"]) == (
        "2027-01-15",
        "888.47",
        "0.00",
    )
    tila = body["tila"]
    assert tila["amount_financed"] == "10000.00"
    assert tila["finance_charge"] == "661.86"
    assert tila["total_of_payments"] == "10661.86"
    assert tila["apr_disclosed"] == "12.00"
    assert tila["payment_summary"] == [
        {"count": 11, "amount": "888.49", "first_due_date": "2026-02-15"},
        {"count": 1, "amount": "888.47", "first_due_date": "2027-01-15"},
    ]


def test_quote_with_prepaid_fee_lowers_amount_financed_and_raises_apr(client):
    body = dict(
        BASIC,
        fees=[
            {
                "name": "Origination",
                "amount": "200.00",
                "treatment": "withheld",
                "finance_charge": True,
            }
        ],
    )
    tila = post(client, "/api/v1/quotes", body).json()["tila"]
    assert tila["amount_financed"] == "9800.00"
    assert tila["finance_charge"] == "861.86"
    assert tila["total_of_payments"] == "10661.86"
    assert tila["apr_disclosed"] == "15.85"


def test_quote_every_field_of_the_contract_is_accepted(client):
    body = dict(
        BASIC,
        repayment_every=2,
        repayment_unit="weeks",
        first_payment_date="2026-02-02",
        interest_method="declining_balance",
        amortization="equal_principal",
        day_count="actual/365",
        installment_multiple="1",
        rounding="up",
        grace_principal_periods=1,
        grace_interest_periods=0,
        interest_free_periods=1,
        balloon_amount="0.00",
        fees=[{"name": "Doc", "amount": "50.00", "treatment": "financed", "finance_charge": False}],
    )
    response = post(client, "/api/v1/quotes", body)
    assert response.status_code == 200, response.json()
    rows = response.json()["installments"]
    assert rows[0]["due_date"] == "2026-02-02"
    assert rows[0]["interest"] == "0.00"  # interest-free first period
    assert rows[0]["principal"] == "0.00"  # principal grace
    assert rows[1]["due_date"] == "2026-02-16"
    assert rows[-1]["closing_balance"] == "0.00"
    assert sum(float(r["principal"]) for r in rows) == pytest.approx(10050.00)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"principal": "-5"}, "principal"),
        ({"term": 0}, "term"),
        ({"day_count": "actual/999"}, "day_count"),
        ({"repayment_unit": "fortnights"}, "repayment_unit"),
        ({"disbursement_date": "2026-02-30"}, "disbursement_date"),
        ({"first_payment_date": "2026-01-01"}, "first_payment_date"),
        ({"first_payment_date": "2026-01-15"}, "first_payment_date"),
    ],
)
def test_bad_terms_are_400_with_the_field_named(client, change, field):
    response = post(client, "/api/v1/quotes", dict(BASIC, **change))
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert field in body["fields"], body
    assert all(isinstance(m, str) and m for m in body["fields"][field])


def test_missing_required_fields_all_reported(client):
    response = post(client, "/api/v1/quotes", {})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "principal",
        "annual_rate",
        "term",
        "disbursement_date",
    }


def test_apr_endpoint_appendix_j_single_advance_monthly():
    # 5,000 advanced, 36 monthly payments of 166.07, first one month later: 12.00 %.
    payments = [
        {"date": f"{2026 + (m // 12)}-{m % 12 + 1:02d}-10", "amount": "166.07"}
        for m in range(1, 37)
    ]
    client = api_key_client("quotes:read")
    response = post(
        client,
        "/api/v1/apr",
        {"advances": [{"date": "2026-01-10", "amount": "5000.00"}], "payments": payments},
    )
    assert response.status_code == 200
    apr = response.json()["apr"]
    assert len(apr.split(".")[1]) == 4
    # Disclosed to two places as in the appendix, and equal to an independent
    # solve of the regular monthly stream (12 x the monthly IRR) to 4 places.
    assert Decimal(apr).quantize(Decimal("0.01")) == Decimal("12.00")
    expected = Decimal(str(npf.rate(36, -166.07, 5000, 0) * 1200)).quantize(Decimal("0.0001"))
    assert Decimal(apr) == expected == Decimal("11.9994")


def test_apr_endpoint_rejects_empty_and_negative_flows():
    client = api_key_client("quotes:read")
    response = post(
        client,
        "/api/v1/apr",
        {"advances": [], "payments": [{"date": "2026-02-01", "amount": "-1"}]},
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "advances" in fields and "payments.0.amount" in fields


def test_api_key_needs_the_quotes_scope():
    assert post(api_key_client("quotes:read"), "/api/v1/quotes", BASIC).status_code == 200
    response = post(api_key_client("customers:read"), "/api/v1/quotes", BASIC)
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the scope quotes:read."


def test_borrower_session_cannot_use_the_staff_api():
    borrower = UserFactory(kind="borrower")
    client = Client()
    client.force_login(borrower)
    assert post(client, "/api/v1/quotes", BASIC).status_code == 403
