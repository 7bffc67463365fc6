"""Servicing pages, charge-off: charge a loan off, record a recovery on a
charged-off loan, refund a credit balance. Views parse a form, call one
service, and render; a refused request re-renders the form with the
service's messages and its HTTP status.
"""

from django.urls import path

from core.businessdate import get_business_date
from core.money import format_money
from servicing.forms.base import ReasonForm
from servicing.forms.chargeoff import RecoveryForm, RefundForm
from servicing.services import chargeoff
from servicing.views.base import VIEW, loan_or_404, simple_form
from users.access import staff_required

CHARGE_OFF = "servicing.charge_off_loan"
REFUND = "servicing.refund_credit"


@staff_required(VIEW, CHARGE_OFF)
def charge_off(request, pk: int):
    loan = loan_or_404(pk)
    form = ReasonForm(request.POST or None)
    return simple_form(
        request,
        loan,
        form,
        lambda d: chargeoff.charge_off(loan=loan, user=request.user, reason=d["reason"]),
        title="Charge off",
        submit="Charge off the loan",
        danger=True,
        intro=f"Writes off the receivables (about {format_money(loan.total_outstanding)}) "
        "to charge-off "
        "expense. The loan is frozen afterwards; later cash is a recovery.",
        success=f"Loan {loan.loan_number} charged off.",
    )


@staff_required(VIEW, CHARGE_OFF)
def recovery(request, pk: int):
    loan = loan_or_404(pk)
    form = RecoveryForm(request.POST or None, initial={"received_on": get_business_date()})
    return simple_form(
        request,
        loan,
        form,
        lambda d: chargeoff.record_recovery(
            loan=loan,
            amount=d["amount"],
            received_on=d["received_on"],
            user=request.user,
            note=d.get("note") or "",
        ),
        title="Recovery",
        submit="Record recovery",
        intro="Cash received on a charged-off loan, booked to recovery income.",
        success="Recovery recorded.",
    )


@staff_required(VIEW, REFUND)
def refund(request, pk: int):
    loan = loan_or_404(pk)
    credit = loan.overpayment_balance + loan.unapplied_balance
    form = RefundForm(request.POST or None, initial={"amount": credit or None})
    return simple_form(
        request,
        loan,
        form,
        lambda d: chargeoff.refund_credit(
            loan=loan, amount=d["amount"], user=request.user, method_note=d["method_note"]
        ),
        title="Refund credit",
        submit="Refund",
        intro=f"Credit balance: {format_money(credit)}.",
        success="Refund recorded.",
    )


staff_patterns: list = [
    path("loans/<int:pk>/charge-off/", charge_off, name="charge-off"),
    path("loans/<int:pk>/recovery/", recovery, name="recovery"),
    path("loans/<int:pk>/refund/", refund, name="refund"),
]
