"""Staff pages of the life events: permissions, forms, downloads."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from servicing.models import LoanEvent, Modification, PayoffQuote, ServicingProduct, Statement
from servicing.services.payments import post_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def url(name, *args):
    return reverse(f"servicing:{name}", args=args)


def test_payoff_quote_page_and_pdf(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    client, _ = staff_client("collections_agent")
    assert client.get(url("payoff-quote", loan.pk)).status_code == 200
    response = client.post(url("payoff-quote", loan.pk), {"good_through": "2026-01-30"})
    quote = PayoffQuote.objects.get()
    assert response.status_code == 302 and response["Location"] == url(
        "payoff-quote-detail", quote.pk
    )
    page = client.get(url("payoff-quote-detail", quote.pk))
    assert b"1206.00" in page.content and b"0.40" in page.content
    pdf = client.get(url("payoff-quote-pdf", quote.pk))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "1,206.00" in text and "0.40" in text
    bad = client.post(url("payoff-quote", loan.pk), {"good_through": "2026-01-01"})
    assert bad.status_code == 400 and PayoffQuote.objects.count() == 1


def test_forbidden_roles_get_403(make_loan, staff_client):
    loan = make_loan()
    underwriter, _ = staff_client("underwriter")
    collections, _ = staff_client("collections_agent")
    agent, _ = staff_client("servicing_agent")
    for name in ("modification-new", "fee-assess", "fee-waive", "refund", "charge-off", "recovery"):
        assert collections.get(url(name, loan.pk)).status_code == 403, name
    assert underwriter.get(url("payoff-payment", loan.pk)).status_code == 403
    assert agent.get(url("charge-off", loan.pk)).status_code == 403
    assert agent.get(url("modification-approvals")).status_code == 403
    assert agent.post(url("charge-off", loan.pk), {"reason": "x"}).status_code == 403
    assert (
        collections.post(
            url("statement-generate", loan.pk), {"statement_date": "2026-02-01"}
        ).status_code
        == 403
    )
    loan.refresh_from_db()
    assert loan.state == "active"


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


def test_statements_page_generate_and_pdf(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 1))
    agent, _ = staff_client("servicing_agent")
    assert (
        agent.post(url("statement-generate", loan.pk), {"statement_date": "2026-03-02"}).status_code
        == 400
    )
    assert (
        agent.post(url("statement-generate", loan.pk), {"statement_date": "2026-03-01"}).status_code
        == 302
    )
    statement = Statement.objects.get()
    page = agent.get(url("statements", loan.pk))
    assert b"213.24" in page.content
    pdf = agent.get(url("statement-pdf", statement.pk))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "213.24" in text


def test_loan_page_includes_render(make_loan, staff_client):
    from django.contrib.auth.context_processors import PermWrapper
    from django.template.loader import render_to_string

    from servicing.services.modifications import propose_modification
    from servicing.services.statements import generate_statement

    loan = make_loan()
    _, manager = staff_client("manager")
    set_business_date(date(2026, 3, 1))
    generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    propose_modification(
        loan=loan, user=manager, effective_date=date(2026, 3, 1), remaining_term=20
    )
    context = {"loan": loan, "perms": PermWrapper(manager), "user": manager}
    actions = render_to_string("servicing/_actions_life.html", context)
    assert url("charge-off", loan.pk) in actions and url("modification-new", loan.pk) in actions
    tab = render_to_string("servicing/_loan_tab_life.html", context)
    assert "213.24" in tab and "Applied" in tab
