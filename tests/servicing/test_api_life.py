"""Servicing REST API, life events: payoff quotes, fees and waivers, refunds,
statements; scopes, roles and invalid input writing nothing."""

from datetime import date
from decimal import Decimal

import pytest

from core.models import AuditEvent
from servicing.models import JournalEntry, LoanEvent, PayoffQuote, Posting, Statement
from servicing.services.payments import post_payment
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date
from tests.servicing.test_api import api_key_client, post_json

pytestmark = pytest.mark.django_db
D = Decimal


def url(pk, tail) -> str:
    return f"/api/v1/loans/{pk}/{tail}"


def row_counts():
    return tuple(
        m.objects.count() for m in (PayoffQuote, LoanEvent, JournalEntry, Posting, AuditEvent)
    )


def test_payoff_quote_itemised(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    client = api_key_client("loans:write")
    response = post_json(client, url(loan.pk, "payoff-quotes/"), {"good_through": "2026-01-30"})
    assert response.status_code == 201, response.json()
    quote = PayoffQuote.objects.get()
    assert response.json() == {
        "id": quote.pk,
        "quoted_on": "2026-01-30",
        "good_through": "2026-01-30",
        "principal": "1200.00",
        "interest": "6.00",
        "interest_due": "0.00",
        "interest_accrued": "6.00",
        "fees": "0.00",
        "penalties": "0.00",
        "credit": "0.00",
        "total": "1206.00",
        "per_diem": "0.40",
        "sha256": quote.sha256,
    }
    assert (quote.amount, quote.per_diem) == (D("1206.00"), D("0.40"))


@pytest.mark.parametrize(
    "body",
    [{}, {"good_through": "not-a-date"}, {"good_through": "2026-01-29"}],
)
def test_invalid_payoff_quote_writes_nothing(make_loan, body):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    before = row_counts()
    response = post_json(api_key_client("loans:write"), url(loan.pk, "payoff-quotes/"), body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["good_through"]
    assert row_counts() == before


def test_fee_then_waiver_by_staff(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 1, 20))
    agent, _ = staff_client("servicing_agent")
    response = post_json(
        agent, url(loan.pk, "fees/"), {"amount": "15.00", "kind": "other", "note": "Courier"}
    )
    assert response.status_code == 201, response.json()
    fee = LoanEvent.objects.get(kind="fee")
    assert response.json() == {
        "id": fee.pk,
        "kind": "fee",
        "effective_date": "2026-01-20",
        "amount": "15.00",
        "details": {
            "fee_kind": "other",
            "installment_number": None,
            "penalty": False,
            "note": "Courier",
        },
    }
    loan.refresh_from_db()
    assert loan.fees_balance == D("15.00")

    response = post_json(
        agent, url(loan.pk, f"fees/{fee.pk}/waive/"), {"amount": "5.00", "reason": "Goodwill"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "5.00"
    assert response.json()["details"] == {"fee_event_id": fee.pk, "reason": "Goodwill"}
    loan.refresh_from_db()
    assert loan.fees_balance == D("10.00")

    before = row_counts()
    response = post_json(
        agent, url(loan.pk, f"fees/{fee.pk}/waive/"), {"amount": "10.01", "reason": "Too much"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["amount"]
    response = post_json(agent, url(loan.pk, "fees/"), {"amount": "-1", "kind": "bogus"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"amount", "kind", "note"}
    response = post_json(
        agent, url(loan.pk, "fees/999999/waive/"), {"amount": "1.00", "reason": "x"}
    )
    assert response.status_code == 404
    assert row_counts() == before


def test_refund_of_credit(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan,
        amount=D("150.00"),
        received_on=date(2026, 2, 15),
        method="ach",
        channel="staff",
        excess="unapplied",
    )
    loan.refresh_from_db()
    credit = loan.overpayment_balance + loan.unapplied_balance
    assert credit == D("43.38")
    client = api_key_client("loans:write")
    before = row_counts()
    response = post_json(client, url(loan.pk, "refunds/"), {"amount": "43.39"})
    assert response.status_code == 400
    assert response.json()["fields"]["amount"] == [
        "At most the credit balance (43.38) can be refunded."
    ]
    assert row_counts() == before
    response = post_json(client, url(loan.pk, "refunds/"), {"amount": "43.38", "note": "Check"})
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "refund"
    assert response.json()["amount"] == "43.38"
    loan.refresh_from_db()
    assert loan.overpayment_balance + loan.unapplied_balance == D("0.00")


def test_statements_list(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 3, 1))
    generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    response = api_key_client("loans:read").get(url(loan.pk, "statements/"))
    assert response.status_code == 200
    expected = [
        {
            "id": s.pk,
            "statement_date": s.statement_date.isoformat(),
            "period": {"start": s.period_start.isoformat(), "end": s.period_end.isoformat()},
            "amount_due": str(s.amount_due),
            "due_date": s.due_date.isoformat() if s.due_date else None,
            "sha256": s.sha256,
        }
        for s in Statement.objects.order_by("-statement_date")
    ]
    assert response.json() == expected
    assert [row["statement_date"] for row in expected] == ["2026-03-01", "2026-02-01"]
    # Mar 1: the unpaid Feb 15 instalment plus the one due Mar 15; Feb 1: one instalment
    assert [(r["amount_due"], r["due_date"]) for r in response.json()] == [
        ("213.24", "2026-03-15"),
        ("106.62", "2026-02-15"),
    ]


def test_scopes_and_roles(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    reader = api_key_client("loans:read")
    before = row_counts()
    for tail, body in [
        ("payoff-quotes/", {"good_through": "2026-01-30"}),
        ("fees/", {"amount": "5.00", "kind": "other", "note": "x"}),
        ("refunds/", {"amount": "1.00"}),
    ]:
        response = post_json(reader, url(loan.pk, tail), body)
        assert response.status_code == 403
        assert response.json() == {
            "code": "permission_denied",
            "message": "This API key lacks the scope loans:write.",
            "fields": {},
        }
    response = api_key_client("customers:read").get(url(loan.pk, "statements/"))
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the scope loans:read."
    underwriter, _ = staff_client("underwriter")
    response = post_json(
        underwriter, url(loan.pk, "fees/"), {"amount": "5.00", "kind": "other", "note": "x"}
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Your role does not allow this."
    assert row_counts() == before
