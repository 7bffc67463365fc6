"""Servicing REST API, payments: posting with Idempotency-Key (replay and
mismatch), options, backdating and excess, invalid input writing nothing,
reversal and its history."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import Payment
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    api_key_client,
    payments_url,
    post_json,
    reverse_url,
    row_counts,
)
from users.models import User

pytestmark = pytest.mark.django_db
D = Decimal


def test_post_payment_then_replay_and_mismatch(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    client = api_key_client("loans:read", "loans:write")
    body = {"amount": "106.62", "method": "ach", "reference": "TRACE-1"}

    response = post_json(client, payments_url(loan.pk), body, key="pay-0001")
    assert response.status_code == 201, response.json()
    payment = Payment.objects.get()
    first = response.json()
    assert first == {
        "id": payment.pk,
        "loan_id": loan.pk,
        "event_id": payment.event_id,
        "amount": "106.62",
        "received_on": "2026-02-15",  # the business date
        "method": "ach",
        "channel": "api",
        "reference": "TRACE-1",
        "excess": "prepayment",
        "status": "posted",
        "reversal_reason": "",
        "reversal_event_id": None,
        "created_at": first["created_at"],
        "allocation": [
            {"component": "interest", "installment_number": 1, "amount": "12.00"},
            {"component": "principal", "installment_number": 1, "amount": "94.62"},
        ],
    }
    assert payment.idempotency_key == "pay-0001"
    assert payment.created_by.kind == User.Kind.INTEGRATION
    loan.refresh_from_db()
    assert loan.principal_balance == D("1105.38")
    counts = row_counts()

    replay = post_json(client, payments_url(loan.pk), body, key="pay-0001")
    assert replay.status_code == 200
    assert replay.json() == first
    assert replay["Idempotent-Replayed"] == "true"
    # the same body written differently (order, an explicit null) is the same request
    same = {"reference": "TRACE-1", "method": "ach", "amount": "106.62", "received_on": None}
    assert post_json(client, payments_url(loan.pk), same, key="pay-0001").status_code == 200
    assert row_counts() == counts

    for changed in ({**body, "amount": "100.00"}, {**body, "received_on": "2026-02-15"}):
        response = post_json(client, payments_url(loan.pk), changed, key="pay-0001")
        assert response.status_code == 422
        assert response.json() == {
            "code": "idempotency_key_reused",
            "message": "This Idempotency-Key was already used for a different payment.",
            "fields": {"Idempotency-Key": ["Use a new key for a new payment."]},
        }
    # keys are global: the same key and body on another loan is a different request
    other = make_loan("APP-2")
    set_business_date(date(2026, 2, 15))
    counts = row_counts()
    response = post_json(client, payments_url(other.pk), body, key="pay-0001")
    assert response.status_code == 422
    assert row_counts() == counts
    assert Payment.objects.count() == 1


def test_payment_options_backdating_and_excess(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    client = api_key_client("loans:write")
    body = {
        "amount": "150.00",
        "method": "check",
        "received_on": "2026-02-15",
        "excess": "unapplied",
    }
    response = post_json(client, payments_url(loan.pk), body, key="pay-excess")
    assert response.status_code == 201, response.json()
    assert response.json()["received_on"] == "2026-02-15"
    assert response.json()["excess"] == "unapplied"
    assert response.json()["allocation"] == [
        {"component": "interest", "installment_number": 1, "amount": "12.00"},
        {"component": "principal", "installment_number": 1, "amount": "94.62"},
        {"component": "unapplied", "installment_number": None, "amount": "43.38"},
    ]
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.unapplied_balance) == (D("1105.38"), D("43.38"))


@pytest.mark.parametrize(
    ("body", "key", "fields"),
    [
        ({"amount": "50.00", "method": "ach"}, None, {"Idempotency-Key"}),
        ({"amount": "50.00", "method": "ach"}, "   ", {"Idempotency-Key"}),
        ({"amount": "50.00", "method": "ach"}, "has space", {"Idempotency-Key"}),
        ({"amount": "50.00", "method": "ach"}, "x" * 101, {"Idempotency-Key"}),
        ({"method": "ach"}, None, {"amount", "Idempotency-Key"}),
        ({"amount": "0.00", "method": "ach"}, "k1", {"amount"}),
        ({"amount": "-5", "method": "ach"}, "k2", {"amount"}),
        ({"amount": "10.005", "method": "ach"}, "k3", {"amount"}),
        ({"amount": "ten", "method": "ach"}, "k4", {"amount"}),
        ({"amount": "50.00", "method": "bitcoin"}, "k5", {"method"}),
        ({"amount": "50.00"}, "k6", {"method"}),
        ({"amount": "50.00", "method": "ach", "excess": "gift"}, "k7", {"excess"}),
        ({"amount": "50.00", "method": "ach", "received_on": "15/02/2026"}, "k8", {"received_on"}),
        ({"amount": "50.00", "method": "ach", "received_on": "2026-02-21"}, "k9", {"received_on"}),
        ({"amount": "50.00", "method": "ach", "received_on": "2026-01-14"}, "k10", {"received_on"}),
        ({"amount": "50.00", "method": "ach", "reference": "r" * 101}, "k11", {"reference"}),
    ],
)
def test_invalid_payment_writes_nothing(make_loan, body, key, fields):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    client = api_key_client("loans:write")
    counts = row_counts()
    response = post_json(client, payments_url(loan.pk), body, key=key)
    assert response.status_code == 400, response.json()
    error = response.json()
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields
    assert row_counts() == counts


def test_missing_key_message(make_loan):
    loan = make_loan()
    response = post_json(api_key_client("loans:write"), payments_url(loan.pk), {})
    assert response.status_code == 400
    assert response.json()["fields"]["Idempotency-Key"] == [
        "This header is required: send a new unique key (e.g. a UUID) per payment "
        "and the same key when you retry it."
    ]
    assert response.json()["fields"]["amount"] == ["This field is required."]


def test_reversal_and_history(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    client, agent = staff_client("servicing_agent")
    response = post_json(
        client,
        payments_url(loan.pk),
        {"amount": "106.62", "method": "ach", "received_on": "2026-02-15"},
        key="rev-1",
    )
    assert response.status_code == 201
    payment_id = response.json()["id"]

    other = make_loan("APP-2")
    set_business_date(date(2026, 2, 20))
    assert (
        post_json(client, reverse_url(other.pk, payment_id), {"reason": "nsf"}).status_code == 404
    )
    assert post_json(client, reverse_url(loan.pk, 999999), {"reason": "nsf"}).status_code == 404
    counts = row_counts()
    response = post_json(client, reverse_url(loan.pk, payment_id), {"reason": "stolen"})
    assert response.status_code == 400 and set(response.json()["fields"]) == {"reason"}
    assert row_counts() == counts

    response = post_json(
        client, reverse_url(loan.pk, payment_id), {"reason": "nsf", "note": "R01"}, key="rev-key"
    )
    assert response.status_code == 200, response.json()
    reversed_body = response.json()
    payment = Payment.objects.get(pk=payment_id)
    assert reversed_body["status"] == "reversed"
    assert reversed_body["reversal_reason"] == "nsf"
    assert reversed_body["reversal_event_id"] == payment.reversal_event_id
    assert reversed_body["allocation"] == []  # all taken back
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.interest_balance, loan.fees_balance) == (
        D("1200.00"),
        D("12.00"),
        D("30.00"),
    )
    counts = row_counts()
    again = post_json(client, reverse_url(loan.pk, payment_id), {"reason": "chargeback"})
    assert again.status_code == 200
    assert again.json() == reversed_body
    assert row_counts() == counts

    response = client.get(f"/api/v1/loans/{loan.pk}/transactions/")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [(e["kind"], e["effective_date"], e["amount"]) for e in events] == [
        ("fee", "2026-02-20", "30.00"),
        ("reversal", "2026-02-15", "106.62"),
        ("payment", "2026-02-15", "106.62"),
    ]
    fee, reversal, paid = events
    # the NSF fee is charged (negative: owed, not paid) to the oldest unpaid instalment
    assert fee["allocation"] == [{"component": "fees", "installment_number": 1, "amount": "-30.00"}]
    assert fee["payment"] is None and fee["details"]["fee_kind"] == "nsf"
    assert reversal["reverses_id"] == paid["id"]
    assert paid["reversed_by_id"] == reversal["id"]
    assert paid["payment"] == {
        "id": payment_id,
        "method": "ach",
        "channel": "api",
        "reference": "",
        "status": "reversed",
        "reversal_reason": "nsf",
    }
    assert paid["allocation"] == []
    assert payment.created_by == agent
