"""Servicing pages, payoff: quote a payoff (with its letter) and post the
payment that settles the loan. Views parse a form, call one service, and
render; a refused request re-renders the form with the service's messages
and its HTTP status (400, 409 or 422).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from core.businessdate import get_business_date
from core.exceptions import DomainError
from core.money import format_money
from servicing.forms.payoff import PayoffPaymentForm, PayoffQuoteForm
from servicing.models import Payment
from servicing.selectors.payoff import get_payoff_letter, get_payoff_quote, recent_payoff_quotes
from servicing.services import payoff
from servicing.views.base import (
    POST_PAYMENT,
    VIEW,
    apply_error,
    form_page,
    found,
    loan_or_404,
    loan_url,
)
from users.access import staff_required

# --- payoff ----------------------------------------------------------------------


@staff_required(VIEW)
def payoff_quote_new(request, pk: int):
    loan = loan_or_404(pk)
    form = PayoffQuoteForm(request.POST or None, initial={"good_through": get_business_date()})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            quote = payoff.payoff_quote(
                loan=loan, good_through=form.cleaned_data["good_through"], user=request.user
            )
        except DomainError as exc:
            apply_error(form, exc)
            status = exc.status_code
        else:
            messages.success(
                request,
                f"Payoff quote of {format_money(quote.amount)} good through {quote.good_through}.",
            )
            return redirect("servicing:payoff-quote-detail", quote_pk=quote.pk)
    elif request.method == "POST":
        status = 400
    quotes = recent_payoff_quotes(loan)
    return form_page(
        request,
        loan,
        form,
        title="Payoff quote",
        submit="Quote payoff",
        status=status,
        intro="What settles the loan on the chosen date, with the per diem after it. "
        "A letter (PDF) is stored with the quote.",
        extra={"quotes": quotes},
    )


@staff_required(VIEW)
def payoff_quote_detail(request, quote_pk: int):
    quote = found(get_payoff_quote, quote_pk)
    loan = quote.loan
    form = PayoffPaymentForm(
        initial={
            "amount": quote.amount,
            "received_on": get_business_date(),
            "method": Payment.Method.ACH,
        }
    )
    return render(
        request,
        "servicing/life/payoff_detail.html",
        {
            "quote": quote,
            "loan": loan,
            "loan_url": loan_url(loan),
            "form": form,
            "items": quote.itemisation,
        },
    )


@staff_required(VIEW)
def payoff_quote_pdf(request, quote_pk: int):
    quote = found(get_payoff_letter, quote_pk)
    response = HttpResponse(bytes(quote.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="payoff-{quote.loan.loan_number}-{quote.good_through}.pdf"'
    )
    return response


@staff_required(VIEW, POST_PAYMENT)
def payoff_payment(request, pk: int):
    loan = loan_or_404(pk)
    form = PayoffPaymentForm(
        request.POST or None, initial={"received_on": get_business_date(), "method": "ach"}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payoff.record_payoff_payment(
                loan=loan,
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data.get("reference") or "",
                user=request.user,
            )
        except DomainError as exc:
            apply_error(form, exc)
            status = exc.status_code
        else:
            loan.refresh_from_db()
            messages.success(
                request,
                f"Payment of {format_money(data['amount'])} posted; "
                f"the loan is {loan.get_state_display().lower()}.",
            )
            return redirect(loan_url(loan))
    elif request.method == "POST":
        status = 400
    return form_page(
        request,
        loan,
        form,
        title="Payoff payment",
        submit="Post payment",
        status=status,
        intro="Posts the payment; if it settles the loan the borrower is e-mailed.",
    )


staff_patterns: list = [
    path("loans/<int:pk>/payoff/", payoff_quote_new, name="payoff-quote"),
    path("loans/<int:pk>/payoff/payment/", payoff_payment, name="payoff-payment"),
    path("payoff-quotes/<int:quote_pk>/", payoff_quote_detail, name="payoff-quote-detail"),
    path("payoff-quotes/<int:quote_pk>/pdf/", payoff_quote_pdf, name="payoff-quote-pdf"),
]
