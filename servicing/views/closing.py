"""Servicing pages, closing: close a paid-off or charged-off loan. The view
parses the form, calls the service, and renders; a refusal re-renders the
form with the service's messages and its HTTP status.
"""

from django.urls import path

from servicing.forms.closing import CloseForm
from servicing.services import closing
from servicing.views.base import MODIFY, VIEW, loan_or_404, simple_form
from users.access import staff_required

# --- closing --------------------------------------------------------------------


@staff_required(VIEW, MODIFY)
def close(request, pk: int):
    loan = loan_or_404(pk)
    # the note is optional, so a POST may carry no field at all: still a bound form
    form = CloseForm(request.POST if request.method == "POST" else None)
    if loan.state == "charged_off":
        intro = (
            "Closing ends collection of this charged-off loan: no recovery is recorded "
            "on it afterwards."
        )
    else:
        intro = (
            "Closing is final: nothing more is posted to the loan. Only a paid-off loan with "
            "every balance at zero (a credit balance refunded first) is closed."
        )
    return simple_form(
        request,
        loan,
        form,
        lambda d: closing.close_loan(loan, acting_user=request.user, note=d.get("note") or ""),
        title="Close loan",
        submit="Close the loan",
        intro=intro,
        success=f"Loan {loan.loan_number} closed.",
    )


staff_patterns: list = [
    path("loans/<int:pk>/close/", close, name="close"),
]
