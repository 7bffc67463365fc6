"""Servicing REST API, fees: a manual fee then its waiver by staff."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import LoanEvent
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    life_row_counts,
    post_json,
    url,
)

pytestmark = pytest.mark.django_db
D = Decimal


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

    before = life_row_counts()
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
    assert life_row_counts() == before
