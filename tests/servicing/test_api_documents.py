"""Servicing REST API, documents: statement and payoff letter PDFs, the loan's
audit history, autopay set-up and cancellation; scopes, roles, other loans'
ids, invalid input writing nothing, and the OpenAPI schema."""

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate
from pypdf import PdfReader

from core.models import AuditEvent
from servicing.models import AutopayAuthorization, PayoffQuote, Statement
from servicing.services import payoff
from servicing.services.chargeoff import charge_off
from servicing.services.fees import assess_fee
from servicing.services.payments import post_payment
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import api_key_client, post_json

pytestmark = pytest.mark.django_db
D = Decimal

AUTOPAY = {
    "routing_number": "122000247",
    "account_number": "000123456789",
    "account_type": "checking",
    "authorization_text_version": "2026-01",
    "borrower_agreed": True,
}


def url(pk, tail) -> str:
    return f"/api/v1/loans/{pk}/{tail}"


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(page.extract_text() for page in reader.pages)


def autopay_counts():
    return (
        AutopayAuthorization.objects.count(),
        AutopayAuthorization.objects.filter(active=True).count(),
        AuditEvent.objects.count(),
    )


def test_statement_pdf_is_the_stored_file(make_loan, staff_client):
    loan = make_loan()
    other = make_loan("APP-2")
    set_business_date(date(2026, 3, 1))
    statement = generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    other_statement = generate_statement(loan=other, statement_date=date(2026, 3, 1))

    response = api_key_client("loans:read").get(url(loan.pk, f"statements/{statement.pk}/pdf/"))
    assert response.status_code == 200
    text = pdf_text(response)
    assert loan.loan_number in text
    assert "213.24" in text  # the unpaid Feb 15 instalment plus the one due Mar 15
    assert response.content == bytes(Statement.objects.get(pk=statement.pk).pdf)
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{loan.loan_number}-2026-03-01.pdf"'
    )

    agent, _ = staff_client("servicing_agent")
    assert agent.get(url(loan.pk, f"statements/{statement.pk}/pdf/")).status_code == 200
    # another loan's statement, an unknown one, an unknown loan: 404 as JSON
    for path in (
        url(loan.pk, f"statements/{other_statement.pk}/pdf/"),
        url(loan.pk, "statements/999999/pdf/"),
        url(999999, f"statements/{statement.pk}/pdf/"),
    ):
        response = agent.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    response = agent.get(url(other.pk, f"statements/{other_statement.pk}/pdf/"))
    assert other.loan_number in pdf_text(response)
    assert loan.loan_number not in pdf_text(response)


def test_payoff_letter_pdf(make_loan):
    loan = make_loan()
    other = make_loan("APP-2")
    set_business_date(date(2026, 1, 30))
    writer = api_key_client("loans:write", "loans:read")
    response = post_json(writer, url(loan.pk, "payoff-quotes/"), {"good_through": "2026-01-30"})
    assert response.status_code == 201, response.json()
    quote_id = response.json()["id"]
    assert response.json()["total"] == "1206.00"
    other_quote = payoff.payoff_quote(loan=other, good_through=date(2026, 1, 30))

    response = writer.get(url(loan.pk, f"payoff-quotes/{quote_id}/pdf/"))
    assert response.status_code == 200
    text = pdf_text(response)
    assert loan.loan_number in text
    assert "$1,206.00" in text
    quote = PayoffQuote.objects.get(pk=quote_id)
    assert response.content == bytes(quote.pdf)
    assert response["Content-Disposition"] == (
        f'attachment; filename="payoff-{loan.loan_number}-2026-01-30.pdf"'
    )

    for path in (
        url(loan.pk, f"payoff-quotes/{other_quote.pk}/pdf/"),
        url(loan.pk, "payoff-quotes/999999/pdf/"),
    ):
        response = writer.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_reads_need_loans_read(make_loan, client):
    loan = make_loan()
    set_business_date(date(2026, 3, 1))
    statement = generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    quote = payoff.payoff_quote(loan=loan, good_through=date(2026, 3, 1))
    key = api_key_client("customers:read")
    for tail in (
        f"statements/{statement.pk}/pdf/",
        f"payoff-quotes/{quote.pk}/pdf/",
        "history/",
        "autopay/",
    ):
        response = key.get(url(loan.pk, tail))
        assert response.status_code == 403, tail
        assert response.json() == {
            "code": "permission_denied",
            "message": "This API key lacks the scope loans:read.",
            "fields": {},
        }
        assert client.get(url(loan.pk, tail)).status_code in (401, 403)


def test_history_lists_the_loan_audit_events_newest_first(make_loan, staff_client):
    loan = make_loan()
    other = make_loan("APP-2")
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan, amount=D("106.62"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    assess_fee(loan=loan, amount=D("15.00"), kind="other", note="Courier")
    post_payment(
        loan=other, amount=D("50.00"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    agent, user = staff_client("servicing_agent")
    response = post_json(agent, url(loan.pk, "autopay/"), AUTOPAY)
    assert response.status_code == 201, response.json()

    response = api_key_client("loans:read").get(url(loan.pk, "history/"))
    assert response.status_code == 200
    body = response.json()
    expected = AuditEvent.objects.filter(object_type="servicing.loan", object_id=str(loan.pk))
    expected = list(expected.order_by("-occurred_at", "-id"))
    assert body["count"] == len(expected) >= 4
    assert [row["id"] for row in body["results"]] == [e.pk for e in expected]
    actions = [row["action"] for row in body["results"]]
    assert actions[0] == "autopay.authorized"
    assert actions.index("autopay.authorized") < actions.index("payment.posted")
    assert actions.count("payment.posted") == 1  # not the other loan's payment
    newest = body["results"][0]
    assert newest["actor"] == user.get_username()
    assert newest["category"] == "create"
    assert newest["metadata"]["account_last4"] == "6789"
    assert newest["metadata"]["text_version"] == "2026-01"
    times = [row["occurred_at"] for row in body["results"]]
    assert times == sorted(times, reverse=True)

    page = agent.get(url(loan.pk, "history/?page_size=2&page=2")).json()
    assert page["count"] == len(expected)
    assert [row["id"] for row in page["results"]] == [e.pk for e in expected[2:4]]
    assert page["previous"] is not None
    assert agent.get(url(999999, "history/")).status_code == 404


def test_autopay_set_up_records_the_authorisation(make_loan):
    loan = make_loan()
    writer = api_key_client("loans:write", "loans:read")
    response = writer.get(url(loan.pk, "autopay/"))
    assert response.status_code == 200
    assert response.json()["active"] is None
    assert response.json()["authorization_text_version"] == "2026-01"
    assert loan.loan_number in response.json()["authorization_text"]

    before = timezone.now()
    response = writer.post(
        url(loan.pk, "autopay/"),
        {**AUTOPAY, "fixed_amount": "120.00"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Partner/1.0",
    )
    assert response.status_code == 201, response.json()
    auth = AutopayAuthorization.objects.get()
    assert auth.loan_id == loan.pk and auth.active
    assert auth.authorization_text_version == "2026-01"
    assert auth.ip_address == "203.0.113.7"
    assert auth.user_agent == "Partner/1.0"
    assert before <= auth.authorized_at <= timezone.now()
    assert auth.channel == "staff"
    assert (auth.routing_number, auth.account_last4, auth.account_type) == (
        "122000247",
        "6789",
        "checking",
    )
    assert (auth.amount_rule, auth.fixed_amount) == ("fixed", D("120.00"))
    body = response.json()
    assert body["id"] == auth.pk
    assert body["ip_address"] == "203.0.113.7"
    assert body["fixed_amount"] == "120.00"
    assert body["authorization_text_version"] == "2026-01"
    assert "account_number" not in body and "000123456789" not in json.dumps(body)
    event = AuditEvent.objects.get(action="autopay.authorized")
    assert event.object_id == str(loan.pk)

    response = writer.get(url(loan.pk, "autopay/"))
    assert response.json()["active"]["id"] == auth.pk

    # a replacement revokes the first; a retry with the same key writes nothing
    first = post_json(writer, url(loan.pk, "autopay/"), AUTOPAY, key="autopay-2")
    assert first.status_code == 201, first.json()
    counts = autopay_counts()
    replay = post_json(writer, url(loan.pk, "autopay/"), AUTOPAY, key="autopay-2")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert autopay_counts() == counts == (2, 1, counts[2])
    auth.refresh_from_db()
    assert not auth.active and auth.revoked_reason == "Replaced by a new authorisation"


@pytest.mark.parametrize(
    "change, fields",
    [
        ({"routing_number": "122000248"}, {"routing_number"}),
        ({"routing_number": "12345"}, {"routing_number"}),
        ({"account_number": "12"}, {"account_number"}),
        ({"account_type": "brokerage"}, {"account_type"}),
        ({"authorization_text_version": "1999-01"}, {"authorization_text_version"}),
        ({"borrower_agreed": False}, {"borrower_agreed"}),
        ({"fixed_amount": "0.00"}, {"fixed_amount"}),
    ],
)
def test_invalid_autopay_writes_nothing(make_loan, change, fields):
    loan = make_loan()
    before = autopay_counts()
    response = post_json(api_key_client("loans:write"), url(loan.pk, "autopay/"), AUTOPAY | change)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields
    assert autopay_counts() == before == (0, 0, before[2])


def test_bad_routing_message(make_loan):
    loan = make_loan()
    response = post_json(
        api_key_client("loans:write"),
        url(loan.pk, "autopay/"),
        AUTOPAY | {"routing_number": "122000248"},
    )
    assert response.json()["fields"]["routing_number"] == [
        "Enter a valid 9-digit ABA routing number."
    ]


def test_autopay_cancel(make_loan, staff_client):
    loan = make_loan()
    agent, user = staff_client("servicing_agent")
    response = post_json(agent, url(loan.pk, "autopay/cancel/"), {})
    assert response.status_code == 404
    assert response.json()["message"] == f"Loan {loan.loan_number} has no active autopay."

    created = post_json(agent, url(loan.pk, "autopay/"), AUTOPAY)
    assert created.status_code == 201
    auth = AutopayAuthorization.objects.get()
    assert auth.created_by == user
    response = post_json(agent, url(loan.pk, "autopay/cancel/"), {"reason": "Borrower called"})
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == auth.pk
    assert response.json()["active"] is False
    assert response.json()["revoked_reason"] == "Borrower called"
    auth.refresh_from_db()
    assert not auth.active and auth.revoked_by == user
    assert auth.revoked_at is not None and auth.revoked_at <= timezone.now() + timedelta(seconds=1)
    event = AuditEvent.objects.get(action="autopay.cancelled")
    assert event.changes == {"autopay.active": [True, False]}
    assert agent.get(url(loan.pk, "autopay/")).json()["active"] is None
    assert post_json(agent, url(loan.pk, "autopay/cancel/"), {}).status_code == 404


def test_autopay_writes_need_scope_and_role(make_loan, staff_client):
    loan = make_loan()
    post_json(api_key_client("loans:write"), url(loan.pk, "autopay/"), AUTOPAY)
    before = autopay_counts()
    reader = api_key_client("loans:read")
    underwriter, _ = staff_client("underwriter")
    for tail, body in (("autopay/", AUTOPAY), ("autopay/cancel/", {})):
        response = post_json(reader, url(loan.pk, tail), body)
        assert response.status_code == 403, tail
        assert response.json()["message"] == "This API key lacks the scope loans:write."
        response = post_json(underwriter, url(loan.pk, tail), body)
        assert response.status_code == 403, tail
        assert response.json()["message"] == "Your role does not allow this."
    assert underwriter.get(url(loan.pk, "autopay/")).status_code == 200
    assert autopay_counts() == before == (1, 1, before[2])


def test_autopay_needs_an_active_loan(make_loan):
    loan = make_loan()
    charge_off(loan=loan, reason="Fraud")
    response = post_json(api_key_client("loans:write"), url(loan.pk, "autopay/"), AUTOPAY)
    assert response.status_code == 409
    assert response.json()["code"] == "loan_not_active"
    assert AutopayAuthorization.objects.count() == 0


def test_schema_describes_the_document_operations():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    operations = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    expected = {
        (
            "/api/v1/loans/{id}/statements/{statement_id}/pdf/",
            "get",
        ): "loans_statements_pdf",
        ("/api/v1/loans/{id}/payoff-quotes/{quote_id}/pdf/", "get"): "loans_payoff_quotes_pdf",
        ("/api/v1/loans/{id}/history/", "get"): "loans_history",
        ("/api/v1/loans/{id}/autopay/", "get"): "loans_autopay_retrieve",
        ("/api/v1/loans/{id}/autopay/", "post"): "loans_autopay_create",
        ("/api/v1/loans/{id}/autopay/cancel/", "post"): "loans_autopay_cancel",
    }
    assert {k: operations.get(k) for k in expected} == expected
    pdf = spec["paths"]["/api/v1/loans/{id}/statements/{statement_id}/pdf/"]["get"]
    assert list(pdf["responses"]["200"]["content"]) == ["application/pdf"]
    history = spec["paths"]["/api/v1/loans/{id}/history/"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"page", "page_size"}
    create = spec["paths"]["/api/v1/loans/{id}/autopay/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert set(create["responses"]) == {"200", "201", "400", "401", "403", "404", "409", "422"}
