"""Staff pages, charge-off: the charge-off, recovery and refund pages."""

from datetime import date

import pytest

from servicing.models import LoanEvent
from tests.servicing.conftest import set_business_date
from tests.servicing.page_helpers import url

pytestmark = pytest.mark.django_db


def test_charge_off_recovery_and_refund_pages(make_loan, staff_client):
    loan = make_loan()
    manager, _ = staff_client("manager")
    set_business_date(date(2026, 2, 20))
    assert manager.get(url("charge-off", loan.pk)).status_code == 200
    assert manager.post(url("charge-off", loan.pk), {"reason": ""}).status_code == 400
    assert manager.post(url("charge-off", loan.pk), {"reason": "Fraud"}).status_code == 302
    loan.refresh_from_db()
    assert loan.state == "charged_off"
    assert (
        manager.post(
            url("recovery", loan.pk), {"amount": "50.00", "received_on": "2026-02-20"}
        ).status_code
        == 302
    )
    assert LoanEvent.objects.filter(loan=loan, kind="recovery").count() == 1
    conflict = manager.post(url("refund", loan.pk), {"amount": "1.00", "method_note": "check"})
    assert conflict.status_code == 409
