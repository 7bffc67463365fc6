"""Servicing REST API, loan reads: the list with its filters and pinned query
count, detail, schedule, transactions and ledger; 404s, scopes and roles."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from servicing.models import Payment
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    BOARD,
    LIST,
    api_key_client,
    detail,
    pay,
    payments_url,
    post_json,
    reverse_url,
)

pytestmark = pytest.mark.django_db
D = Decimal


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
