"""Servicing REST API, charge-off: charge-off then recovery, and refunds of
credit."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import (
    JournalEntry,
    LoanEvent,
)
from servicing.selectors.ledger import balances_by_role
from servicing.services.payments import post_payment
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    api_key_client,
    life_row_counts,
    lifecycle_row_counts,
    post_json,
    url,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_charge_off_then_recovery(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    manager, _ = staff_client("manager")
    agent, _ = staff_client("servicing_agent")

    before = lifecycle_row_counts()
    response = post_json(manager, url(loan.pk, "recoveries/"), {"amount": "50.00"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "loan_not_charged_off",
        "message": f"Loan {loan.loan_number} is not charged off.",
        "fields": {},
    }
    response = post_json(manager, url(loan.pk, "charge-off/"), {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "x"}, key="has space")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    response = post_json(agent, url(loan.pk, "charge-off/"), {"reason": "Fraud"})
    assert response.status_code == 403
    response = post_json(manager, url(999999, "charge-off/"), {"reason": "Fraud"})
    assert response.status_code == 404
    assert lifecycle_row_counts() == before

    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "Skip, no contact"})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "charged_off"
    event = LoanEvent.objects.get(kind="charge_off")
    # principal plus the interest of the two instalments now due (12.00 + 11.05)
    assert (event.amount, event.effective_date) == (D("1223.05"), date(2026, 3, 20))
    assert event.details["reason"] == "Skip, no contact"

    before = lifecycle_row_counts()
    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "Again"})
    assert response.status_code == 200
    assert response.json()["state"] == "charged_off"
    for body in (
        {"amount": "0"},
        {"amount": "1.005"},
        {"amount": "50.00", "received_on": "2026-03-19"},  # before the charge-off
        {"amount": "50.00", "received_on": "2026-03-21"},  # after the business date
    ):
        response = post_json(manager, url(loan.pk, "recoveries/"), body)
        assert response.status_code == 400, body
        assert len(response.json()["fields"]) == 1
    response = post_json(agent, url(loan.pk, "recoveries/"), {"amount": "50.00"})
    assert response.status_code == 403
    assert lifecycle_row_counts() == before

    response = post_json(
        api_key_client("loans:write"),
        url(loan.pk, "recoveries/"),
        {"amount": "250.00", "note": "Agency"},
    )
    assert response.status_code == 201, response.json()
    recovery = LoanEvent.objects.get(kind="recovery")
    assert response.json() == {
        "id": recovery.pk,
        "kind": "recovery",
        "effective_date": "2026-03-20",
        "amount": "250.00",
        "details": {"note": "Agency"},
    }
    entry = JournalEntry.objects.get(source=f"recovery:{recovery.pk}")
    assert entry.entry_type == "recovery"
    assert balances_by_role(loan)["recovery_income"] == D("-250.00")
    loan.refresh_from_db()
    assert loan.state == "charged_off"


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
    before = life_row_counts()
    response = post_json(client, url(loan.pk, "refunds/"), {"amount": "43.39"})
    assert response.status_code == 400
    assert response.json()["fields"]["amount"] == [
        "At most the credit balance (43.38) can be refunded."
    ]
    assert life_row_counts() == before
    response = post_json(client, url(loan.pk, "refunds/"), {"amount": "43.38", "note": "Check"})
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "refund"
    assert response.json()["amount"] == "43.38"
    loan.refresh_from_db()
    assert loan.overpayment_balance + loan.unapplied_balance == D("0.00")
