"""Servicing REST API: loans list/detail/schedule/transactions/ledger, posting
and reversing payments with Idempotency-Key, boarding; scopes and errors."""

import secrets
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent
from servicing.models import Installment, JournalEntry, Loan, LoanEvent, Payment, Posting
from servicing.services.payments import post_payment
from tests.factories import UserFactory
from tests.servicing.conftest import set_business_date
from users.authentication import hash_secret
from users.models import ApiKey, User

pytestmark = pytest.mark.django_db
D = Decimal
LIST = "/api/v1/loans/"
BOARD = "/api/v1/loans/board/"


def detail(pk) -> str:
    return f"/api/v1/loans/{pk}/"


def payments_url(pk) -> str:
    return f"/api/v1/loans/{pk}/payments/"


def reverse_url(pk, payment_id) -> str:
    return f"/api/v1/loans/{pk}/payments/{payment_id}/reverse/"


def api_key_client(*scopes: str) -> Client:
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(4)
    owner = UserFactory(kind=User.Kind.INTEGRATION)
    ApiKey.objects.create(
        name=f"Partner {prefix}",
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=list(scopes),
        user=owner,
        created_by=owner,
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {prefix}.{secret}")


def post_json(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, content_type="application/json", **headers)


def row_counts():
    return tuple(
        m.objects.count()
        for m in (Loan, LoanEvent, Payment, JournalEntry, Posting, Installment, AuditEvent)
    )


def pay(loan, amount, on):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff"
    ).payment


# --- reads ---------------------------------------------------------------------------------


def list_item(loan, **overrides) -> dict:
    loan.refresh_from_db()
    item = {
        "id": loan.pk,
        "loan_number": loan.loan_number,
        "origination_reference": loan.origination_reference,
        "customer_id": loan.customer_id,
        "state": "active",
        "principal_balance": "1200.00",
        "interest_balance": "0.00",
        "fees_balance": "0.00",
        "penalties_balance": "0.00",
        "unapplied_balance": "0.00",
        "overpayment_balance": "0.00",
        "days_past_due": 0,
        "next_due_date": "2026-02-15",
        "next_due_amount": "106.62",
    }
    item.update(overrides)
    return item


def test_list_fields_filters_and_search(make_loan, staff_client):
    client, _ = staff_client("servicing_agent")
    first = make_loan("APP-1")
    behind = make_loan("APP-2")
    paid_off = make_loan("APP-3", principal="500.00", term=5)
    set_business_date(date(2026, 3, 20))
    pay(behind, "10.00", date(2026, 3, 20))
    pay(paid_off, "600.00", date(2026, 3, 20))

    response = client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert [row["id"] for row in body["results"]] == [paid_off.pk, behind.pk, first.pk]
    assert body["results"][2] == list_item(first)
    # 10.00 paid on 2026-03-20 went to instalment 1's 12.00 interest; instalment 2
    # (due 2026-03-15) added 11.05 interest on 1105.38: 2.00 + 11.05 unpaid. The next
    # due is the oldest unpaid instalment: 106.62 - 10.00.
    assert body["results"][1] == list_item(
        behind,
        interest_balance="13.05",
        days_past_due=33,
        next_due_date="2026-02-15",
        next_due_amount="96.62",
    )
    assert body["results"][0]["state"] == "overpaid"

    def ids(query):
        response = client.get(LIST, query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids({"state": "overpaid"}) == [paid_off.pk]
    assert ids({"state": "active"}) == [behind.pk, first.pk]
    assert ids({"dpd_min": 30}) == [behind.pk]
    assert ids({"dpd_max": 0}) == [paid_off.pk, first.pk]
    assert ids({"dpd_min": 1, "dpd_max": 32}) == []
    assert ids({"customer": first.customer_id}) == [paid_off.pk, behind.pk, first.pk]
    assert ids({"customer": first.customer_id + 1000}) == []
    assert ids({"search": behind.loan_number.lower()}) == [behind.pk]
    assert ids({"search": "app-3"}) == [paid_off.pk]
    assert ids({"search": first.customer.customer_number}) == [
        paid_off.pk,
        behind.pk,
        first.pk,
    ]
    assert ids({"search": "rivera"}) == [paid_off.pk, behind.pk, first.pk]
    assert ids({"search": "nobody"}) == []
    assert ids({"ordering": "-days_past_due"})[0] == behind.pk
    assert ids({"page_size": 2, "page": 2}) == [first.pk]

    response = client.get(LIST, {"state": "dormant", "dpd_min": "many"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"state", "dpd_min"}


def test_list_query_count_does_not_grow_with_the_page(make_loan, django_assert_num_queries):
    client = api_key_client("loans:read")
    for n in range(3):
        make_loan(f"APP-{n}")
    client.get(LIST)  # touch the key's last_used_at once, outside the measured calls
    # API key lookup, count, page
    with django_assert_num_queries(3):
        assert len(client.get(LIST).json()["results"]) == 3
    for n in range(3, 8):
        make_loan(f"APP-{n}")
    with django_assert_num_queries(3):
        assert len(client.get(LIST).json()["results"]) == 8


def test_detail_and_schedule(make_loan, staff_client):
    client, _ = staff_client("collections_agent")
    loan = make_loan()
    response = client.get(detail(loan.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["loan_number"] == loan.loan_number
    assert body["customer_id"] == loan.customer_id
    assert body["customer_number"] == loan.customer.customer_number
    assert body["customer_name"] == "Dana Rivera"
    assert (body["product_code"], body["product_version"]) == ("personal", 1)
    assert (body["state"], body["currency"], body["term"]) == ("active", "USD", 12)
    assert (body["principal"], body["annual_rate"], body["disbursed_amount"]) == (
        "1200.00",
        "12.0000",
        "1200.00",
    )
    assert (body["disbursement_date"], body["first_payment_date"]) == (
        "2026-01-15",
        "2026-02-15",
    )
    assert body["terms"]["annual_rate"] == "0.12"
    assert body["terms"]["principal"] == "1200.00"
    assert body["balances"] == {
        "principal": "1200.00",
        "interest": "0.00",
        "fees": "0.00",
        "penalties": "0.00",
        "unapplied": "0.00",
        "overpayment": "0.00",
        "total_outstanding": "1200.00",
    }
    assert (body["next_due_date"], body["next_due_amount"], body["days_past_due"]) == (
        "2026-02-15",
        "106.62",
        0,
    )

    response = client.get(f"/api/v1/loans/{loan.pk}/schedule/")
    assert response.status_code == 200
    schedule = response.json()
    assert (schedule["loan_id"], schedule["loan_number"]) == (loan.pk, loan.loan_number)
    assert len(schedule["installments"]) == 12
    assert schedule["installments"][0] == {
        "number": 1,
        "due_date": "2026-02-15",
        "status": "not_due",
        "principal_due": "94.62",
        "interest_due": "12.00",
        "fees_due": "0.00",
        "penalties_due": "0.00",
        "total_due": "106.62",
        "principal_paid": "0.00",
        "interest_paid": "0.00",
        "fees_paid": "0.00",
        "penalties_paid": "0.00",
        "total_paid": "0.00",
        "outstanding": "106.62",
    }
    assert sum(D(i["principal_due"]) for i in schedule["installments"]) == D("1200.00")


def test_unknown_loan_is_404_everywhere(staff_client):
    client, _ = staff_client("servicing_agent")
    for suffix in ("", "schedule/", "transactions/", "ledger/"):
        response = client.get(f"/api/v1/loans/999999/{suffix}")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "No loan 999999.", "fields": {}}
    response = post_json(client, payments_url(999999), {"amount": "1.00"}, key="k-404")
    assert response.status_code == 404


def test_scopes_and_roles(make_loan, staff_client):
    loan = make_loan()
    body = {"amount": "50.00", "method": "ach"}
    reader = api_key_client("loans:read")
    assert reader.get(detail(loan.pk)).status_code == 200
    response = post_json(reader, payments_url(loan.pk), body, key="scope-1")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "This API key lacks the scope loans:write.",
        "fields": {},
    }
    other = api_key_client("customers:read")
    response = other.get(LIST)
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the scope loans:read."

    underwriter, _ = staff_client("underwriter")
    assert underwriter.get(detail(loan.pk)).status_code == 200
    response = post_json(underwriter, payments_url(loan.pk), body, key="scope-2")
    assert response.status_code == 403
    assert response.json()["message"] == "Your role does not allow this."
    collections, _ = staff_client("collections_agent")  # may post, may not reverse or board
    assert post_json(collections, payments_url(loan.pk), body, key="scope-3").status_code == 201
    payment = Payment.objects.get()
    response = post_json(collections, reverse_url(loan.pk, payment.pk), {"reason": "nsf"})
    assert response.status_code == 403
    assert post_json(collections, BOARD, {}).status_code == 403
    assert Client().get(LIST).status_code in (401, 403)
    assert Payment.objects.count() == 1


# --- payments ----------------------------------------------------------------------------


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


def test_transactions_show_reapplied_allocation(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    client, _ = staff_client("servicing_agent")
    later = pay(loan, "106.62", date(2026, 3, 16))
    pay(loan, "106.62", date(2026, 2, 15))
    response = client.get(f"/api/v1/loans/{loan.pk}/transactions/")
    by_id = {e["id"]: e for e in response.json()["results"]}
    # Backdated February payment paid instalment 1; the March one now pays instalment 2.
    lines = by_id[later.event_id]["allocation"]
    assert {(line["component"], line["installment_number"]) for line in lines} == {
        ("interest", 2),
        ("principal", 2),
    }
    assert sum(D(line["amount"]) for line in lines) == D("106.62")


def test_ledger_entries_balance_and_queries_are_pinned(
    make_loan, staff_client, django_assert_num_queries
):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    client = api_key_client("loans:read")
    client.get(LIST)
    pay(loan, "106.62", date(2026, 2, 15))
    url = f"/api/v1/loans/{loan.pk}/ledger/"
    # key, loan, count, entries, chart of accounts, postings
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    entries = response.json()["results"]
    assert [(e["entry_type"], e["source"]) for e in entries] == [
        ("disbursement", "disbursement"),
        ("accrual", "accrual:1"),
        ("payment", f"event:{Payment.objects.get().event_id}"),
    ]
    for entry in entries:
        assert sum(D(p["debit"]) for p in entry["postings"]) == sum(
            D(p["credit"]) for p in entry["postings"]
        )
    disbursement = {(p["role"], p["debit"], p["credit"]) for p in entries[0]["postings"]}
    assert disbursement == {
        ("principal_receivable", "1200.00", "0.00"),
        ("cash_clearing", "0.00", "1200.00"),
    }
    # transactions: key, loan, count, events, allocations
    pay(loan, "10.00", date(2026, 2, 15))
    with django_assert_num_queries(5):
        response = client.get(f"/api/v1/loans/{loan.pk}/transactions/")
    assert len(response.json()["results"]) == 2


# --- boarding -----------------------------------------------------------------------------


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
