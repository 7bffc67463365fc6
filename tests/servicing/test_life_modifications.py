"""Modifications (preview, four eyes), charge-off, recovery, refund, statements."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from pypdf import PdfReader

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from servicing.models import (
    JournalEntry,
    LoanEvent,
    Modification,
    Posting,
    ServicingProduct,
    Statement,
)
from servicing.selectors.ledger import balances_by_role
from servicing.services.chargeoff import auto_charge_off, charge_off, record_recovery, refund_credit
from servicing.services.locks import lock_loan
from servicing.services.modifications import (
    approve_modification,
    preview_modification,
    propose_modification,
    reject_modification,
)
from servicing.services.payments import post_payment
from servicing.services.statements import generate_statement
from servicing.services.sync import sync_loan
from tests.conftest import make_staff
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, on):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff"
    ).payment


def counts():
    return (
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        Modification.objects.count(),
        AuditEvent.objects.count(),
    )


def test_preview_writes_nothing(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    pay(loan, "106.62", date(2026, 2, 15))
    before = counts()
    preview = preview_modification(loan=loan, effective_date=date(2026, 2, 15), remaining_term=22)
    assert counts() == before
    assert preview.old_installment == D("106.62")
    assert preview.new_installment == D("56.22")  # 1,105.38 over 22 months at 1%
    assert len(preview.new_rows) == 23 and len(preview.old_rows) == 12


def test_under_limit_applies_at_once(make_loan):
    loan = make_loan()
    agent = make_staff("servicing_agent")
    set_business_date(date(2026, 2, 15))
    pay(loan, "106.62", date(2026, 2, 15))
    mod = propose_modification(
        loan=loan, user=agent, effective_date=date(2026, 2, 15), remaining_term=22
    )
    assert mod.status == Modification.Status.APPLIED
    assert not mod.requires_approval
    loan.refresh_from_db()
    assert loan.installments.count() == 23
    assert loan.installments.get(number=2).total_due == D("56.22")
    assert loan.next_due_amount == D("56.22")
    assert mod.event.details["remaining_term"] == 22


def test_four_eyes_over_limit(make_loan, product):
    ServicingProduct.objects.filter(pk=product.pk).update(modification_approval_limit=D("10.00"))
    loan = make_loan()
    agent = make_staff("servicing_agent")
    manager = make_staff("manager")
    other_manager = make_staff("manager")
    set_business_date(date(2026, 2, 15))
    pay(loan, "106.62", date(2026, 2, 15))
    mod = propose_modification(
        loan=loan, user=manager, effective_date=date(2026, 2, 15), annual_rate=D("0.06")
    )
    assert mod.status == Modification.Status.PROPOSED and mod.requires_approval
    assert loan.events.filter(kind="modification").count() == 0
    with pytest.raises(PermissionDenied):
        approve_modification(modification=mod, user=manager)  # own proposal
    with pytest.raises(PermissionDenied):
        approve_modification(modification=mod, user=agent)  # no approval permission
    mod = approve_modification(modification=mod, user=other_manager)
    assert mod.status == Modification.Status.APPLIED
    assert mod.decided_by == other_manager
    loan.refresh_from_db()
    # 1,105.38 over 11 months at 6%: 5.5269 / (1 - 1.005^-11) = 103.53
    assert loan.installments.get(number=2).total_due == D("103.53")
    with pytest.raises(Conflict):
        approve_modification(modification=mod, user=other_manager)


def test_reject_needs_reason_and_another_person(make_loan, product):
    ServicingProduct.objects.filter(pk=product.pk).update(modification_approval_limit=D("0.00"))
    loan = make_loan()
    agent = make_staff("servicing_agent")
    manager = make_staff("manager")
    set_business_date(date(2026, 1, 20))
    mod = propose_modification(
        loan=loan, user=agent, effective_date=date(2026, 1, 20), remaining_term=24
    )
    with pytest.raises(ValidationFailed):
        reject_modification(modification=mod, user=manager, reason=" ")
    mod = reject_modification(modification=mod, user=manager, reason="Income not verified")
    assert mod.status == Modification.Status.REJECTED
    assert loan.events.filter(kind="modification").count() == 0


def test_bad_modification_writes_nothing(make_loan):
    loan = make_loan()
    agent = make_staff("servicing_agent")
    set_business_date(date(2026, 1, 20))
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        propose_modification(
            loan=loan, user=agent, effective_date=date(2026, 2, 1), annual_rate=D("1.5")
        )
    assert "annual_rate" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        propose_modification(loan=loan, user=agent, effective_date=date(2026, 2, 1))
    assert "effective_date" in exc.value.fields
    assert counts() == before


def test_charge_off_and_recovery(make_loan):
    loan = make_loan()
    manager = make_staff("manager")
    set_business_date(date(2026, 3, 20))
    receivables = D(
        "1223.05"
    )  # principal + interest of the two instalments now due (12.00 + 11.05)
    with pytest.raises(PermissionDenied):
        charge_off(loan=loan, user=make_staff("servicing_agent"), reason="x")
    loan = charge_off(loan=loan, user=manager, reason="Borrower unreachable")
    assert loan.state == "charged_off"
    after = balances_by_role(loan)
    for role in (
        "principal_receivable",
        "interest_receivable",
        "fees_receivable",
        "penalties_receivable",
    ):
        assert after[role] == D("0.00")
    assert after["charge_off_expense"] == receivables
    assert loan.principal_balance == D("0.00")
    assert LoanEvent.objects.get(loan=loan, kind="charge_off").details["receivables"] == {
        "principal_receivable": "1200.00",
        "interest_receivable": "23.05",
    }
    assert charge_off(loan=loan, user=manager, reason="again").state == "charged_off"
    assert JournalEntry.objects.filter(loan=loan, source="charge_off").count() == 1
    event = record_recovery(
        loan=loan, amount=D("200.00"), received_on=date(2026, 3, 20), user=manager
    )
    after = balances_by_role(loan)
    assert after["recovery_income"] == D("-200.00")
    assert JournalEntry.objects.get(source=f"recovery:{event.pk}").entry_type == "recovery"


def test_auto_charge_off_by_days_past_due(make_loan, product):
    ServicingProduct.objects.filter(pk=product.pk).update(charge_off_days_past_due=30)
    loan = make_loan()
    set_business_date(date(2026, 3, 16))
    with transaction.atomic():
        sync_loan(loan=lock_loan(loan.pk))
    assert auto_charge_off(business_date=date(2026, 3, 16)) == []  # 29 days
    set_business_date(date(2026, 3, 17))
    with transaction.atomic():
        sync_loan(loan=lock_loan(loan.pk))
    assert auto_charge_off(business_date=date(2026, 3, 17)) == [loan.pk]
    loan.refresh_from_db()
    assert loan.state == "charged_off"


def test_refund_of_overpayment(make_loan):
    loan = make_loan()
    agent = make_staff("servicing_agent")
    set_business_date(date(2026, 2, 15))
    pay(loan, "1300.00", date(2026, 2, 15))
    loan.refresh_from_db()
    assert loan.state == "overpaid" and loan.overpayment_balance == D("88.00")
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        refund_credit(loan=loan, amount=D("88.01"), user=agent, method_note="check")
    assert "amount" in exc.value.fields
    assert counts() == before
    refund_credit(loan=loan, amount=D("88.00"), user=agent, method_note="Check 1001")
    loan.refresh_from_db()
    assert loan.state == "paid_off"
    assert loan.overpayment_balance == D("0.00")
    assert balances_by_role(loan)["overpayment_liability"] == D("0.00")


def test_statement_pdf_shows_amount_due(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 3, 1))
    statement = generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    # instalment 1 (106.62, due Feb 15) is past due; instalment 2 is due Mar 15
    assert statement.past_due_amount == D("106.62")
    assert statement.amount_due == D("213.24")
    assert statement.due_date == date(2026, 3, 15)
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(bytes(statement.pdf))).pages
    )
    assert "213.24" in text and "late fee of $25.00" in text
    assert generate_statement(loan=loan, statement_date=date(2026, 3, 1)).pk == statement.pk
    assert Statement.objects.count() == 1
    with pytest.raises(ValidationFailed):
        generate_statement(loan=loan, statement_date=date(2026, 3, 2))
