"""The Idempotency-Key header on the servicing POSTs other than payments
(core.idempotency): a retry with the same key and body returns the first
answer (200, `Idempotent-Replayed: true`) and writes nothing; the same key
with another body is 422; without a key every request acts; a failed
request stores nothing, so its key may be retried; keys are per caller."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent, IdempotencyRecord
from servicing.models import LoanEvent, Modification, PayoffQuote, ServiceRequest
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import api_key_client, post_json
from tests.servicing.test_concurrency import race
from tests.servicing.test_portal import board, make_borrower
from tests.servicing.test_service_requests import ask

pytestmark = pytest.mark.django_db
D = Decimal
REPLAYED = "Idempotent-Replayed"


def url(pk, tail) -> str:
    return f"/api/v1/loans/{pk}/{tail}"


def assert_replay(response, first) -> None:
    assert response.status_code == 200, response.json()
    assert response[REPLAYED] == "true"
    assert response.json() == first.json()


def assert_reused(response) -> None:
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert body["fields"] == {"Idempotency-Key": ["Use a new key for a new request."]}


def test_fee_replay_mismatch_and_no_key(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 20))
    client = api_key_client("loans:write")
    body = {"amount": "15.00", "kind": "other", "note": "Courier"}

    first = post_json(client, url(loan.pk, "fees/"), body, key="fee-0001")
    assert first.status_code == 201, first.json()
    assert REPLAYED not in first
    fee = LoanEvent.objects.get(kind="fee")
    assert first.json()["id"] == fee.pk
    other_loan = make_loan("APP-2")
    audits = AuditEvent.objects.count()

    assert_replay(post_json(client, url(loan.pk, "fees/"), body, key="fee-0001"), first)
    # Key order and the loan's path are part of the request; JSON key order is not.
    reordered = {"note": "Courier", "kind": "other", "amount": "15.00"}
    assert_replay(post_json(client, url(loan.pk, "fees/"), reordered, key="fee-0001"), first)
    assert_reused(
        post_json(client, url(loan.pk, "fees/"), {**body, "amount": "16.00"}, key="fee-0001")
    )
    assert_reused(post_json(client, url(other_loan.pk, "fees/"), body, key="fee-0001"))
    assert LoanEvent.objects.filter(kind="fee").count() == 1
    assert AuditEvent.objects.count() == audits
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.response_status) == ("fee-0001", 201)
    assert record.scope == "servicing.api.fees.FeeCreateView"
    assert record.response_body == first.json()

    # Without a key every request is a new fee.
    for _ in range(2):
        assert post_json(client, url(loan.pk, "fees/"), body).status_code == 201
    assert LoanEvent.objects.filter(kind="fee").count() == 3
    assert IdempotencyRecord.objects.count() == 1


def test_bad_key_is_400_and_writes_nothing(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 20))
    body = {"amount": "15.00", "kind": "other", "note": "Courier"}
    for key in ("has space", "x" * 101, "caf\u00e9"):
        response = post_json(api_key_client("loans:write"), url(loan.pk, "fees/"), body, key=key)
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert not LoanEvent.objects.filter(kind="fee").exists()
    assert not IdempotencyRecord.objects.exists()


def test_failed_recovery_is_not_stored_and_the_key_can_be_retried(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    manager, _ = staff_client("manager")
    recoveries = url(loan.pk, "recoveries/")

    # 409: the loan is not charged off yet. Nothing kept, not even the key.
    response = post_json(manager, recoveries, {"amount": "50.00"}, key="rec-1")
    assert response.status_code == 409
    assert response.json()["code"] == "loan_not_charged_off"
    assert not IdempotencyRecord.objects.exists()
    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "Fraud"}, key="co-1")
    assert response.status_code == 200, response.json()
    assert_replay(
        post_json(manager, url(loan.pk, "charge-off/"), {"reason": "Fraud"}, "co-1"), response
    )

    # 400: invalid body; then the same key with a corrected body succeeds.
    response = post_json(manager, recoveries, {"amount": "0"}, key="rec-1")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["amount"]
    assert IdempotencyRecord.objects.filter(key="rec-1").count() == 0
    first = post_json(manager, recoveries, {"amount": "50.00", "note": "Agency"}, key="rec-1")
    assert first.status_code == 201, first.json()
    assert_replay(
        post_json(manager, recoveries, {"amount": "50.00", "note": "Agency"}, key="rec-1"), first
    )
    assert_reused(post_json(manager, recoveries, {"amount": "60.00"}, key="rec-1"))
    recovery = LoanEvent.objects.get(kind="recovery")
    assert (recovery.pk, recovery.amount) == (first.json()["id"], D("50.00"))


def test_two_callers_may_use_the_same_key_for_proposals(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    first_key, second_key = api_key_client("loans:write"), api_key_client("loans:write")
    body = {"effective_date": "2026-02-15", "annual_rate": "6", "note": "Hardship"}
    proposals = url(loan.pk, "modifications/")

    first = post_json(first_key, proposals, body, key="mod-1")
    assert first.status_code == 201, first.json()
    second = post_json(second_key, proposals, body, key="mod-1")
    assert second.status_code == 201, second.json()
    assert REPLAYED not in second
    assert first.json()["id"] != second.json()["id"]
    assert Modification.objects.count() == 2

    assert_replay(post_json(first_key, proposals, body, key="mod-1"), first)
    assert_replay(post_json(second_key, proposals, body, key="mod-1"), second)
    assert_reused(post_json(second_key, proposals, {**body, "annual_rate": "5"}, key="mod-1"))
    assert Modification.objects.count() == 2
    principals = set(IdempotencyRecord.objects.values_list("principal", flat=True))
    assert len(principals) == 2
    assert all(p.startswith("users.apikey:") for p in principals)


def test_staff_user_keys_and_payoff_quote(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    agent, user = staff_client("servicing_agent")
    manager, _ = staff_client("manager")
    body = {"good_through": "2026-01-30"}
    first = post_json(agent, url(loan.pk, "payoff-quotes/"), body, key="quote-1")
    assert first.status_code == 201, first.json()
    assert_replay(post_json(agent, url(loan.pk, "payoff-quotes/"), body, key="quote-1"), first)
    assert PayoffQuote.objects.count() == 1
    assert IdempotencyRecord.objects.get().principal == f"user:{user.pk}"
    # Another person's key of the same name is theirs.
    response = post_json(manager, url(loan.pk, "payoff-quotes/"), body, key="quote-1")
    assert response.status_code == 201
    assert PayoffQuote.objects.count() == 2


def test_fee_waiver_and_refund(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 20))
    client = api_key_client("loans:write")
    fee = post_json(client, url(loan.pk, "fees/"), {"amount": "15.00", "note": "Courier"})
    waive = url(loan.pk, f"fees/{fee.json()['id']}/waive/")
    body = {"amount": "5.00", "reason": "Goodwill"}
    first = post_json(client, waive, body, key="waive-1")
    assert first.status_code == 201, first.json()
    assert_replay(post_json(client, waive, body, key="waive-1"), first)
    assert LoanEvent.objects.filter(kind="waiver").count() == 1

    # More than the credit balance: 400, the key stays free.
    refunds = url(loan.pk, "refunds/")
    response = post_json(client, refunds, {"amount": "1.00"}, key="refund-1")
    assert response.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="refund-1").exists()


@pytest.fixture
def service_request(product):
    loan = board(product, make_borrower("bo@example.com"), "APP-R1")
    return ask(loan)


def test_service_request_resolve_replays_instead_of_409(service_request, staff_client):
    agent, _ = staff_client("servicing_agent")
    resolve = f"/api/v1/service-requests/{service_request.pk}/resolve/"
    body = {"resolution": "Agreed a payment holiday."}
    first = post_json(agent, resolve, body, key="sr-resolve-1")
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "resolved"
    assert REPLAYED not in first
    resolved = AuditEvent.objects.filter(action="service_request.resolved")
    assert resolved.count() == 1

    assert_replay(post_json(agent, resolve, body, key="sr-resolve-1"), first)
    assert_reused(post_json(agent, resolve, {"resolution": "Other."}, key="sr-resolve-1"))
    # Without the key (or with a new one) a second resolve is refused as before.
    assert post_json(agent, resolve, body).status_code == 409
    assert post_json(agent, resolve, body, key="sr-resolve-2").status_code == 409
    assert resolved.count() == 1
    service_request.refresh_from_db()
    assert service_request.resolution == "Agreed a payment holiday."


def test_service_request_start_without_body(service_request, staff_client):
    agent, user = staff_client("servicing_agent")
    start = f"/api/v1/service-requests/{service_request.pk}/start/"
    first = agent.post(start, HTTP_IDEMPOTENCY_KEY="sr-start-1")
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["assigned_to"]) == (
        "in_progress",
        user.get_username(),
    )
    assert_replay(agent.post(start, HTTP_IDEMPOTENCY_KEY="sr-start-1"), first)
    assert AuditEvent.objects.filter(action="service_request.started").count() == 1
    assert ServiceRequest.objects.get().status == "in_progress"


def test_schema_documents_the_key():
    spec = json.loads(Client().get("/api/v1/schema/?format=json").content)
    keyed = [
        ("/api/v1/loans/{id}/fees/", "post"),
        ("/api/v1/loans/{id}/fees/{event_id}/waive/", "post"),
        ("/api/v1/loans/{id}/refunds/", "post"),
        ("/api/v1/loans/{id}/payoff-quotes/", "post"),
        ("/api/v1/loans/{id}/modifications/", "post"),
        ("/api/v1/loans/{id}/charge-off/", "post"),
        ("/api/v1/loans/{id}/recoveries/", "post"),
        ("/api/v1/service-requests/{id}/resolve/", "post"),
    ]
    for path, method in keyed:
        op = spec["paths"][path][method]
        assert "Idempotency-Key" in [p["name"] for p in op.get("parameters", [])], path
        assert "422" in op["responses"], path
        assert "returns the first result" in op["description"], path
        assert "not stored" not in op["description"], path


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_requests_with_one_key_assess_one_fee(make_loan):
    """Ten clients race the same key: the first holds the record's row (and
    waits for the loan lock held here), the others wait on the unique index;
    exactly one fee is written and every other answer is its replay."""
    loan = make_loan("APP-IDEM-FEE")
    set_business_date(date(2026, 1, 20))
    client = api_key_client("loans:read", "loans:write")
    # One call first so that no worker updates the key's last_used_at.
    assert client.get(f"/api/v1/loans/{loan.pk}/").status_code == 200
    body = {"amount": "15.00", "kind": "other", "note": "Courier"}

    def post(_i):
        worker = Client(**client.defaults)  # a client per thread, the same API key
        response = post_json(worker, url(loan.pk, "fees/"), body, key="fee-race-1")
        return response.status_code, response.json(), response.get(REPLAYED)

    results = race(loan.pk, 10, post)
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] * 9 + [201], [r[1] for r in results if r[0] not in (200, 201)]
    fee = LoanEvent.objects.get(kind="fee")
    first = next(body for status, body, _ in results if status == 201)
    assert first["id"] == fee.pk
    assert all(body == first for _, body, _ in results)
    assert [replayed for status, _, replayed in results if status == 200] == ["true"] * 9
    assert IdempotencyRecord.objects.get().response_body == first
    loan.refresh_from_db()
    assert loan.fees_balance == D("15.00")
