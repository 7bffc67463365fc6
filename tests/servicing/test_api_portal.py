"""The borrower API (/api/v1/me/loans/...): the signed-in borrower reads and
acts on their own loans; a second borrower gets 404 on every route of the
first borrower's loan and writes nothing; anonymous callers, staff and API
keys are refused. Built through the real services on real PostgreSQL."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from openapi_spec_validator import validate

from core.models import AuditEvent, IdempotencyRecord
from servicing.models import (
    AutopayAuthorization,
    JournalEntry,
    LoanEvent,
    Payment,
    ServiceRequest,
    Statement,
)
from servicing.selectors.requests import service_request_queue
from servicing.services import autopay
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import api_key_client
from tests.servicing.test_portal import GOOD_CARD, ROUTING, board, client_for, make_borrower

pytestmark = pytest.mark.django_db

DECLINED_CARD = "4000 0000 0000 0002"


def url(pk, tail="") -> str:
    return f"/api/v1/me/loans/{pk}/{tail}"


def post_json(client, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body, content_type="application/json", **headers)


def card_body(amount, card=GOOD_CARD, **extra) -> dict:
    return {
        "amount": str(amount),
        "method": "card",
        "card_number": card,
        "exp_month": 12,
        "exp_year": 2030,
        "cvc": "123",
        **extra,
    }


def snapshot() -> tuple:
    return (
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
        ServiceRequest.objects.count(),
        IdempotencyRecord.objects.count(),
        AuditEvent.objects.count(),
        list(AutopayAuthorization.objects.order_by("pk").values_list("pk", "active")),
    )


@pytest.fixture
def borrower(db):
    return make_borrower("ann@example.com", "Ann")


@pytest.fixture
def loan(product, borrower):
    loan = board(product, borrower, "APP-ME1")
    set_business_date(date(2026, 2, 15))
    return loan


@pytest.fixture
def client(borrower):
    return client_for(borrower)


# --- the owner ---------------------------------------------------------------------


def test_my_loans_lists_only_my_loans(product, loan, client):
    other = make_borrower("eve@example.com", "Eve")
    other_loan = board(product, other, "APP-ME2")
    response = client.get("/api/v1/me/loans/")
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [loan.pk]
    assert other_loan.pk not in ids
    assert response.json()["results"][0]["loan_number"] == loan.loan_number


def test_owner_reads_balances_schedule_and_transactions(loan, client):
    detail = client.get(url(loan.pk)).json()
    assert detail["loan_number"] == loan.loan_number
    assert detail["balances"]["principal"] == "1200.00"
    assert detail["payable"] is True and detail["autopay_active"] is False
    assert "underwriting_notes" not in detail  # staff-only data is not exposed

    schedule = client.get(url(loan.pk, "schedule/")).json()
    assert [row["number"] for row in schedule["installments"]] == list(range(1, 13))
    first = loan.installments.get(number=1)
    assert schedule["installments"][0]["principal_due"] == str(first.principal_due)
    assert schedule["installments"][0]["total_paid"] == "0.00"

    assert client.get(url(loan.pk, "transactions/")).json() == []


def test_card_payment_posts_and_principal_drops_by_its_principal_part(loan, client):
    loan.refresh_from_db()
    first = loan.installments.get(number=1)
    due = loan.next_due_amount
    response = post_json(client, url(loan.pk, "payments/"), card_body(due), key="pay-1")
    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get(loan=loan)
    assert body["id"] == payment.pk
    assert (payment.amount, payment.method, payment.channel) == (due, "card", "portal")
    assert payment.created_by == loan.customer.user
    assert "4242" in payment.reference and "4242 4242" not in payment.reference
    principal_part = sum(
        Decimal(line["amount"]) for line in body["allocation"] if line["component"] == "principal"
    )
    assert principal_part == first.principal_due

    detail = client.get(url(loan.pk)).json()
    assert Decimal(detail["balances"]["principal"]) == Decimal("1200.00") - principal_part
    assert detail["balances"]["interest"] == "0.00"
    transactions = client.get(url(loan.pk, "transactions/")).json()
    assert [(t["kind"], t["principal"]) for t in transactions] == [
        ("payment", str(first.principal_due))
    ]

    # A retry with the same key and body replays the first payment; nothing new is charged.
    replay = post_json(client, url(loan.pk, "payments/"), card_body(due), key="pay-1")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == payment.pk
    assert Payment.objects.count() == 1
    # The same key with another body is refused.
    other = post_json(client, url(loan.pk, "payments/"), card_body("10.00"), key="pay-1")
    assert other.status_code == 422
    assert Payment.objects.count() == 1


def test_payment_without_idempotency_key_is_400_and_writes_nothing(loan, client):
    before = snapshot()
    response = post_json(client, url(loan.pk, "payments/"), card_body("50.00"))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"card": DECLINED_CARD}, None),
        ({"card": "4242 4242 4242 4241"}, "card_number"),
        ({"amount": "5000.00"}, "amount"),
        ({"method": "cash"}, "method"),
    ],
)
def test_bad_or_declined_payment_is_400_and_writes_nothing(loan, client, changes, field):
    amount = changes.pop("amount", "50.00")
    body = card_body(amount, **({"card_number": changes.pop("card")} if "card" in changes else {}))
    body.update(changes)
    before = snapshot()
    response = post_json(client, url(loan.pk, "payments/"), body, key="k-bad")
    assert response.status_code == 400, response.content
    if field:
        assert field in response.json()["fields"]
    else:
        assert "declined" in response.json()["message"]
    assert snapshot() == before


def test_bank_payment_posts_as_ach(loan, client):
    body = {
        "amount": "40.00",
        "method": "ach",
        "routing_number": ROUTING,
        "account_number": "000123456789",
        "account_type": "checking",
    }
    response = post_json(client, url(loan.pk, "payments/"), body, key="ach-1")
    assert response.status_code == 201, response.content
    payment = Payment.objects.get(loan=loan)
    assert (payment.method, payment.amount) == ("ach", Decimal("40.00"))
    assert "6789" in payment.reference and "000123456789" not in payment.reference


def test_payoff_quote_figures_and_window(loan, client):
    set_business_date(date(2026, 1, 15))
    response = post_json(client, url(loan.pk, "payoff-quote/"), {"good_through": "2026-01-30"})
    assert response.status_code == 200, response.content
    quote = response.json()
    assert quote["total"] == "1206.00"
    assert quote["principal"] == "1200.00"
    assert quote["interest_accrued"] == "6.00"
    assert quote["per_diem"] == "0.40"
    before = snapshot()
    for bad in ("2026-01-14", "2026-02-15", "not-a-date"):
        refused = post_json(client, url(loan.pk, "payoff-quote/"), {"good_through": bad})
        assert refused.status_code == 400, bad
        assert "good_through" in refused.json()["fields"]
    assert snapshot() == before


def test_statement_list_and_pdf(loan, client):
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    listing = client.get(url(loan.pk, "statements/")).json()
    assert [(s["id"], s["statement_date"]) for s in listing] == [(statement.pk, "2026-02-01")]
    pdf = client.get(url(loan.pk, f"statements/{statement.pk}/pdf/"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get(url(loan.pk, f"statements/{statement.pk + 999}/pdf/")).status_code == 404


def test_autopay_setup_and_cancel(loan, client):
    status = client.get(url(loan.pk, "autopay/")).json()
    assert status["active"] is None and status["authorization_text"]
    body = {"routing_number": ROUTING, "account_number": "000123456789", "account_type": "checking"}
    refused = post_json(client, url(loan.pk, "autopay/"), {**body, "agree": False})
    assert refused.status_code == 400 and "agree" in refused.json()["fields"]
    assert not AutopayAuthorization.objects.exists()

    response = post_json(client, url(loan.pk, "autopay/"), {**body, "agree": True}, key=None)
    assert response.status_code == 201, response.content
    auth = AutopayAuthorization.objects.get(loan=loan, active=True)
    assert (auth.channel, auth.account_last4, auth.created_by) == (
        "portal",
        "6789",
        loan.customer.user,
    )
    assert response.json()["active"]["account_last4"] == "6789"

    cancelled = post_json(client, url(loan.pk, "autopay/cancel/"), {})
    assert cancelled.status_code == 200
    assert cancelled.json()["cancelled"] is True
    auth.refresh_from_db()
    assert not auth.active and auth.revoked_by == loan.customer.user


def test_help_request_reaches_the_staff_queue(loan, client):
    before = snapshot()
    refused = post_json(client, url(loan.pk, "requests/"), {"kind": "hardship", "message": "  "})
    assert refused.status_code == 400
    refused = post_json(client, url(loan.pk, "requests/"), {"kind": "lottery", "message": "hi"})
    assert refused.status_code == 400 and "kind" in refused.json()["fields"]
    assert snapshot() == before

    response = post_json(
        client, url(loan.pk, "requests/"), {"kind": "hardship", "message": "I lost my job."}
    )
    assert response.status_code == 201, response.content
    queue = list(service_request_queue(today=date(2026, 2, 15)))
    assert [(r.pk, r.loan_id, r.kind, r.message, r.status) for r in queue] == [
        (response.json()["id"], loan.pk, "hardship", "I lost my job.", "open")
    ]
    event = AuditEvent.objects.get(action="service_request.hardship")
    assert event.actor_id == loan.customer.user.pk


# --- isolation -----------------------------------------------------------------------


ROUTES = [
    ("get", ""),
    ("get", "schedule/"),
    ("get", "transactions/"),
    ("get", "statements/"),
    ("get", "statements/{sid}/pdf/"),
    ("post", "payments/"),
    ("post", "payoff-quote/"),
    ("get", "autopay/"),
    ("post", "autopay/"),
    ("post", "autopay/cancel/"),
    ("post", "requests/"),
]
BODIES = {
    "payments/": card_body("50.00"),
    "payoff-quote/": {"good_through": "2026-02-20"},
    "autopay/": {
        "routing_number": ROUTING,
        "account_number": "000555566667",
        "account_type": "savings",
        "agree": True,
    },
    "autopay/cancel/": {},
    "requests/": {"kind": "hardship", "message": "Please let me off."},
}


@pytest.fixture
def victim(loan):
    """A's loan with a statement and an active autopay; returns (loan, statement)."""
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    autopay.set_up_autopay(
        loan=loan,
        routing=ROUTING,
        account="000123456789",
        account_type="checking",
        authorization_text_version=autopay.CURRENT_AUTHORIZATION_VERSION,
        ip_address="127.0.0.1",
        user_agent="test",
        channel=AutopayAuthorization.Channel.PORTAL,
    )
    return loan, statement


def _request(client, method, path, tail, key="intruder-key"):
    if method == "get":
        return client.get(path)
    return post_json(client, path, BODIES[tail], key=key)


def test_routes_cover_every_me_loan_route():
    from servicing.api import portal

    names = {p.name for p in portal.api_patterns} - {"me-api-loans"}
    # One (method, tail) per route and method: 10 routes, autopay/ has GET and POST.
    assert len(names) == len({tail for _, tail in ROUTES}) == 10
    assert len(ROUTES) == 11


@pytest.mark.parametrize(("method", "tail"), ROUTES)
def test_second_borrower_gets_404_and_writes_nothing(product, victim, method, tail):
    loan, statement = victim
    other = make_borrower("eve@example.com", "Eve")
    own = board(product, other, "APP-ME2")
    set_business_date(date(2026, 2, 15))
    intruder = client_for(other)
    before = snapshot()

    response = _request(intruder, method, url(loan.pk, tail.format(sid=statement.pk)), tail)
    assert response.status_code == 404, (tail, response.content)
    assert response.json()["code"] == "not_found"
    assert loan.loan_number not in response.content.decode()
    # The same through the intruder's own loan id with A's statement.
    if "{sid}" in tail:
        assert intruder.get(url(own.pk, tail.format(sid=statement.pk))).status_code == 404
    # A loan id that does not exist answers the same: nothing tells them apart.
    missing = _request(intruder, method, url(loan.pk + 9999, tail.format(sid=1)), tail)
    assert missing.status_code == 404
    assert snapshot() == before
    assert AutopayAuthorization.objects.get(loan=loan).active
    assert Statement.objects.filter(loan=loan).count() == 1


@pytest.mark.parametrize(("method", "tail"), ROUTES)
def test_anonymous_staff_and_api_keys_are_refused(victim, staff_client, method, tail):
    loan, statement = victim
    path = url(loan.pk, tail.format(sid=statement.pk))
    before = snapshot()
    assert _request(Client(), method, path, tail).status_code in (401, 403)
    staff, _ = staff_client("manager")
    assert _request(staff, method, path, tail).status_code == 403
    keyed = api_key_client("loans:read", "loans:write")
    assert _request(keyed, method, path, tail).status_code == 403
    assert snapshot() == before


def test_list_is_refused_to_staff_and_anonymous(staff_client):
    staff, _ = staff_client("servicing_agent")
    assert staff.get("/api/v1/me/loans/").status_code == 403
    assert Client().get("/api/v1/me/loans/").status_code in (401, 403)


def test_post_without_csrf_token_is_refused(loan, borrower):
    client = Client(enforce_csrf_checks=True)
    client.force_login(borrower.user)
    before = snapshot()
    response = post_json(client, url(loan.pk, "payments/"), card_body("50.00"), key="csrf-1")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert snapshot() == before


# --- schema --------------------------------------------------------------------------


def test_schema_lists_the_me_operations():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    operations = {
        (path, method): (op["operationId"], op["tags"])
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    base = "/api/v1/me/loans/{id}/"
    expected = {
        ("/api/v1/me/loans/", "get"): "me_loans_list",
        (base, "get"): "me_loans_retrieve",
        (base + "schedule/", "get"): "me_loans_schedule",
        (base + "transactions/", "get"): "me_loans_transactions",
        (base + "statements/", "get"): "me_loans_statements_list",
        (base + "statements/{statement_id}/pdf/", "get"): "me_loans_statements_pdf",
        (base + "payments/", "post"): "me_loans_payments_create",
        (base + "payoff-quote/", "post"): "me_loans_payoff_quote",
        (base + "autopay/", "get"): "me_loans_autopay_retrieve",
        (base + "autopay/", "post"): "me_loans_autopay_create",
        (base + "autopay/cancel/", "post"): "me_loans_autopay_cancel",
        (base + "requests/", "post"): "me_loans_requests_create",
    }
    for key, operation_id in expected.items():
        assert operations[key] == (operation_id, ["me"]), key


# --- co-borrowers ----------------------------------------------------------------------


@pytest.fixture
def joint_loan(product, borrower):
    """A's loan boarded with a co-borrower; returns (loan, co-borrower, statement)."""
    from servicing.boarding import BoardingParty, BoardingTerms, board_loan

    co = make_borrower("cody@example.com", "Cody")
    set_business_date(date(2026, 1, 15))
    loan = board_loan(
        terms=BoardingTerms(
            origination_reference="APP-ME-JOINT",
            customer_id=borrower.pk,
            product_id=product.pk,
            principal=Decimal("1200.00"),
            annual_rate=Decimal("0.12"),
            term=12,
            disbursement_date=date(2026, 1, 15),
            parties=(BoardingParty(customer_id=co.pk, role="co_borrower"),),
        )
    )
    set_business_date(date(2026, 2, 15))
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    return loan, co, statement


def test_a_co_borrower_reads_and_pays_through_the_borrower_api(joint_loan, client):
    loan, co, statement = joint_loan
    co_client = client_for(co)
    listing = co_client.get("/api/v1/me/loans/").json()["results"]
    assert [row["id"] for row in listing] == [loan.pk]
    detail = co_client.get(url(loan.pk)).json()
    assert detail["parties"] == [
        {"name": "Ann Rower", "role": "borrower", "is_me": False},
        {"name": "Cody Rower", "role": "co_borrower", "is_me": True},
    ]
    assert client.get(url(loan.pk)).json()["parties"][0]["is_me"] is True
    for tail in ("schedule/", "transactions/", "statements/", "autopay/"):
        assert co_client.get(url(loan.pk, tail)).status_code == 200, tail
    pdf = co_client.get(url(loan.pk, f"statements/{statement.pk}/pdf/"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    quote = post_json(co_client, url(loan.pk, "payoff-quote/"), {"good_through": "2026-02-20"})
    assert quote.status_code == 200, quote.content
    paid = post_json(co_client, url(loan.pk, "payments/"), card_body("106.62"), key="co-pay-1")
    assert paid.status_code == 201, paid.content
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.created_by) == (Decimal("106.62"), co.user)
    # The primary borrower sees the co-borrower's payment.
    assert [row["amount"] for row in client.get(url(loan.pk, "transactions/")).json()] == ["106.62"]


@pytest.mark.parametrize(("method", "tail"), ROUTES)
def test_a_third_borrower_gets_404_on_a_joint_loan_and_writes_nothing(joint_loan, method, tail):
    loan, _co, statement = joint_loan
    intruder = client_for(make_borrower("eve@example.com", "Eve"))
    before = snapshot()
    response = _request(intruder, method, url(loan.pk, tail.format(sid=statement.pk)), tail)
    assert response.status_code == 404, (tail, response.content)
    assert response.json()["code"] == "not_found"
    assert snapshot() == before
    assert intruder.get("/api/v1/me/loans/").json()["results"] == []
