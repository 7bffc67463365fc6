"""Staff pages, modifications: preview, propose and approve; a manager may not
approve their own proposal."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import LoanEvent, Modification, ServicingProduct
from servicing.services.payments import post_payment
from tests.servicing.conftest import set_business_date
from tests.servicing.page_helpers import url

pytestmark = pytest.mark.django_db
D = Decimal


def test_modification_preview_then_propose_and_approve(make_loan, product, staff_client):
    ServicingProduct.objects.filter(pk=product.pk).update(modification_approval_limit=D("10.00"))
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan, amount=D("106.62"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    agent, agent_user = staff_client("servicing_agent")
    data = {
        "effective_date": "2026-02-15",
        "remaining_term": "22",
        "defer_installments": "0",
        "action": "preview",
    }
    events = LoanEvent.objects.count()
    page = agent.post(url("modification-new", loan.pk), data)
    assert page.status_code == 200
    assert b"56.22" in page.content and b"needs approval" in page.content
    assert Modification.objects.count() == 0 and LoanEvent.objects.count() == events
    response = agent.post(url("modification-new", loan.pk), {**data, "action": "propose"})
    mod = Modification.objects.get()
    assert (
        response.status_code == 302 and mod.status == "proposed" and mod.proposed_by == agent_user
    )
    manager, _ = staff_client("manager")
    queue = manager.get(url("modification-approvals"))
    assert queue.status_code == 200 and loan.loan_number.encode() in queue.content
    assert manager.post(url("modification-approve", mod.pk)).status_code == 302
    mod.refresh_from_db()
    assert mod.status == "applied"
    loan.refresh_from_db()
    assert loan.next_due_amount == D("56.22")


def test_manager_cannot_approve_own_proposal(make_loan, product, staff_client):
    ServicingProduct.objects.filter(pk=product.pk).update(modification_approval_limit=D("0.00"))
    loan = make_loan()
    set_business_date(date(2026, 1, 20))
    manager, _ = staff_client("manager")
    manager.post(
        url("modification-new", loan.pk),
        {
            "effective_date": "2026-01-20",
            "annual_rate_percent": "6",
            "defer_installments": "0",
            "action": "propose",
        },
    )
    mod = Modification.objects.get()
    assert mod.status == "proposed"
    assert manager.post(url("modification-approve", mod.pk)).status_code == 403
    mod.refresh_from_db()
    assert mod.status == "proposed"
    other, _ = staff_client("manager")
    assert (
        other.post(url("modification-reject", mod.pk), {"reason": "Not affordable"}).status_code
        == 302
    )
    mod.refresh_from_db()
    assert mod.status == "rejected"
