"""Staff pages, fees: the fee and waiver forms refuse bad input and write nothing."""

from decimal import Decimal

import pytest

from servicing.models import LoanEvent
from tests.servicing.page_helpers import url

pytestmark = pytest.mark.django_db
D = Decimal


def test_fee_forms_reject_bad_input_and_write_nothing(make_loan, staff_client):
    loan = make_loan()
    agent, _ = staff_client("servicing_agent")
    count = LoanEvent.objects.count()
    bad = agent.post(url("fee-assess", loan.pk), {"amount": "abc", "kind": "other", "note": ""})
    assert bad.status_code == 400 and LoanEvent.objects.count() == count
    ok = agent.post(
        url("fee-assess", loan.pk), {"amount": "15.00", "kind": "other", "note": "Copy of contract"}
    )
    assert ok.status_code == 302
    fee = LoanEvent.objects.get(kind="fee")
    too_much = agent.post(
        url("fee-waive", loan.pk), {"fee_event_id": fee.pk, "amount": "16.00", "reason": "Goodwill"}
    )
    assert too_much.status_code == 400 and not LoanEvent.objects.filter(kind="waiver").exists()
    assert (
        agent.post(
            url("fee-waive", loan.pk),
            {"fee_event_id": fee.pk, "amount": "15.00", "reason": "Goodwill"},
        ).status_code
        == 302
    )
    loan.refresh_from_db()
    assert loan.fees_balance == D("0.00")
