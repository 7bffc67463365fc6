"""Servicing pages, fees: assess a manual fee, waive one. Views parse a form,
call one service, and render; a refused request re-renders the form with
the service's messages and its HTTP status.
"""

from django.urls import path

from core.money import format_money
from servicing.forms.fees import FeeForm, WaiverForm
from servicing.models import Loan
from servicing.selectors.transactions import fee_events
from servicing.services import fees
from servicing.views.base import VIEW, loan_or_404, simple_form
from users.access import staff_required

FEE = "servicing.assess_fee"


def fee_choices(loan: Loan) -> list[tuple[int, str]]:
    left = fees.waivable(loan)
    rows = fee_events(loan)
    out = []
    for fee in rows:
        amount = left.get(fee.pk)
        if amount:
            kind = fee.details.get("fee_kind", "other")
            out.append(
                (
                    fee.pk,
                    f"{fee.effective_date} {kind} fee {format_money(fee.amount)} "
                    f"(waivable {format_money(amount)})",
                )
            )
    return out


# --- fees ---------------------------------------------------------------------


@staff_required(VIEW, FEE)
def fee_assess(request, pk: int):
    loan = loan_or_404(pk)
    form = FeeForm(request.POST or None)
    return simple_form(
        request,
        loan,
        form,
        lambda d: fees.assess_fee(
            loan=loan, amount=d["amount"], kind=d["kind"], note=d["note"], user=request.user
        ),
        title="Assess a fee",
        submit="Assess fee",
        intro="The fee is due on today's business date.",
        success="Fee assessed.",
    )


@staff_required(VIEW, FEE)
def fee_waive(request, pk: int):
    loan = loan_or_404(pk)
    form = WaiverForm(request.POST or None, fee_choices=fee_choices(loan))
    return simple_form(
        request,
        loan,
        form,
        lambda d: fees.waive_fee(
            loan=loan,
            fee_event_id=d["fee_event_id"],
            amount=d["amount"],
            reason=d["reason"],
            user=request.user,
        ),
        title="Waive a fee",
        submit="Waive",
        intro="The unpaid part is cancelled first; any part already paid returns as credit.",
        success="Fee waived.",
    )


staff_patterns: list = [
    path("loans/<int:pk>/fees/assess/", fee_assess, name="fee-assess"),
    path("loans/<int:pk>/fees/waive/", fee_waive, name="fee-waive"),
]
