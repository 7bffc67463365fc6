"""Borrower portal pages for funded loans (/portal/loans/, namespace
"portal"): my loans, one loan with its schedule, transactions and
statements, a one-time card or bank payment through the payment gateway,
autopay, a payoff quote and a request for help.

A borrower reaches a loan only through `_loan_for_borrower`, which filters
servicing's access selector by the signed-in borrower's customer: another
borrower's loan is a 404, never a 403 that would confirm it exists.
"""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.businessdate import get_business_date
from core.documents import render_pdf
from core.exceptions import DomainError, NotFound
from core.middleware import client_ip
from core.money import format_money
from customers.selectors.customers import get_customer_for_user
from servicing.forms.portal import AutopayForm, HelpForm, PaymentForm, PayoffForm
from servicing.models import AutopayAuthorization, Component, Loan, LoanState
from servicing.selectors.autopay import active_autopay
from servicing.selectors.ledger import balances_as_of
from servicing.selectors.loans import get_loan_for_customer, get_loans_for_customer, loan_borrowers
from servicing.selectors.requests import customer_requests_on_loan
from servicing.selectors.schedules import installments
from servicing.selectors.statements import get_loan_statement, loan_statements
from servicing.selectors.transactions import event_allocation, get_payment, loan_transactions
from servicing.services import autopay, online_payments, payoff, statements
from servicing.services.service_requests import request_help
from users.access import borrower_required

# --- access ------------------------------------------------------------------------


def _customer(request):
    try:
        return get_customer_for_user(request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _loan_for_borrower(request, pk: int) -> Loan:
    """The signed-in borrower's loan `pk`; Http404 for anyone else's."""
    try:
        return get_loan_for_customer(_customer(request), pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _apply_error(form: forms.Form, exc: DomainError, aliases: dict | None = None) -> None:
    aliases = aliases or {}
    placed = False
    for name, msgs in (exc.fields or {}).items():
        target = aliases.get(name, name)
        if target in form.fields:
            for message in msgs if isinstance(msgs, list | tuple) else [msgs]:
                form.add_error(target, message)
                placed = True
    if not placed:
        form.add_error(None, exc.message)


def _split(lines) -> dict[str, Decimal]:
    """Allocation lines as principal / interest / fees (fees + penalties) /
    credit (unapplied + overpayment)."""
    out = {k: Decimal("0.00") for k in ("principal", "interest", "fees", "credit")}
    for line in lines:
        if line.component == Component.PRINCIPAL:
            out["principal"] += line.amount
        elif line.component == Component.INTEREST:
            out["interest"] += line.amount
        elif line.component in (Component.FEES, Component.PENALTIES):
            out["fees"] += line.amount
        else:
            out["credit"] += line.amount
    return out


# --- pages -------------------------------------------------------------------------


@never_cache
@borrower_required
def loan_list(request):
    loans = get_loans_for_customer(_customer(request))
    return render(request, "servicing/portal/loans.html", {"loans": loans})


@never_cache
@borrower_required
def loan_detail(request, pk: int):
    loan = _loan_for_borrower(request, pk)
    transactions = [
        {"row": row, "split": _split(row.lines)}
        for row in loan_transactions(loan)
        if row.event.kind in ("payment", "fee", "waiver", "refund", "reversal", "recovery")
    ]
    balances = balances_as_of(loan)
    context = {
        "loan": loan,
        "borrowers": loan_borrowers(loan),
        "balances": balances,
        "fees_total": balances.fees + balances.penalties,
        "installments": installments(loan),
        "transactions": transactions,
        "statements": loan_statements(loan),
        "autopay": active_autopay(loan),
        "payable": loan.state == LoanState.ACTIVE,
        "service_requests": customer_requests_on_loan(loan.customer, loan),
    }
    return render(request, "servicing/portal/loan_detail.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@borrower_required
def loan_pay(request, pk: int):
    loan = _loan_for_borrower(request, pk)
    if loan.state != LoanState.ACTIVE:
        messages.info(request, f"Loan {loan.loan_number} is {loan.get_state_display().lower()}.")
        return redirect("portal:loan-detail", pk=loan.pk)
    today = get_business_date()
    max_amount = online_payments.payoff_total(loan, today)
    form = PaymentForm(
        request.POST or None,
        max_amount=max_amount,
        today=today,
        initial={
            "amount": loan.next_due_amount or max_amount,
            "method": "card",
            "excess": loan.product.excess_default,
            "token": uuid.uuid4().hex,
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                posted = online_payments.pay_online(
                    loan,
                    amount=data["amount"],
                    data=data,
                    excess=data["excess"],
                    # The form's one-time token makes a double submit post (and charge) once.
                    key=f"portal:{request.user.pk}:{data['token']}",
                    today=today,
                    acting_user=request.user,
                )
            except DomainError as exc:
                _apply_error(form, exc)
                status = exc.status_code
            else:
                if posted.created:
                    messages.success(
                        request,
                        f"Thank you. Your payment of {format_money(data['amount'])} is posted.",
                    )
                return redirect("portal:loan-payment", pk=loan.pk, payment_pk=posted.payment.pk)
    context = {"loan": loan, "form": form, "max_amount": max_amount, "today": today}
    return render(request, "servicing/portal/pay.html", context, status=status)


@never_cache
@borrower_required
def loan_payment(request, pk: int, payment_pk: int):
    loan = _loan_for_borrower(request, pk)
    try:
        payment = get_payment(loan, payment_pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    lines = event_allocation(payment.event)
    context = {
        "loan": loan,
        "payment": payment,
        "split": _split(lines),
        "balances": balances_as_of(loan),
    }
    return render(request, "servicing/portal/payment_receipt.html", context)


def _authorization_preview(loan: Loan) -> str:
    return autopay.authorization_text(
        version=autopay.CURRENT_AUTHORIZATION_VERSION,
        loan=loan,
        routing="you enter below",
        last4="in the digits you enter below",
        account_type="checking or savings",
        amount="the scheduled instalment amount",
    )


@never_cache
@require_http_methods(["GET", "POST"])
@borrower_required
def loan_autopay(request, pk: int):
    loan = _loan_for_borrower(request, pk)
    current = active_autopay(loan)
    form = AutopayForm(request.POST if request.POST.get("action") != "cancel" else None)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "cancel":
        if autopay.cancel_autopay(
            loan=loan, reason="Cancelled by the borrower in the portal", acting_user=request.user
        ):
            messages.success(request, "Autopay is cancelled. Later due dates will not be debited.")
        return redirect("portal:loan-autopay", pk=loan.pk)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                auth = autopay.set_up_autopay(
                    loan=loan,
                    routing=data["routing_number"],
                    account=data["account_number"],
                    account_type=data["account_type"],
                    authorization_text_version=autopay.CURRENT_AUTHORIZATION_VERSION,
                    ip_address=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    channel=AutopayAuthorization.Channel.PORTAL,
                    acting_user=request.user,
                )
            except DomainError as exc:
                _apply_error(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    f"Autopay is set up from the account ending {auth.account_last4}.",
                )
                return redirect("portal:loan-autopay", pk=loan.pk)
    context = {
        "loan": loan,
        "form": form,
        "current": current,
        "authorization_text": _authorization_preview(loan),
        "version": autopay.CURRENT_AUTHORIZATION_VERSION,
        "active": loan.state == LoanState.ACTIVE,
    }
    return render(request, "servicing/portal/autopay.html", context, status=status)


def _quote(loan: Loan, request):
    today = get_business_date()
    form = PayoffForm(request.GET or None, today=today, initial={"good_through": today})
    items = None
    if form.is_bound and form.is_valid():
        try:
            items = payoff.compute_payoff(loan, form.cleaned_data["good_through"])
        except DomainError as exc:
            _apply_error(form, exc)
    return form, items, today


@never_cache
@borrower_required
def loan_payoff(request, pk: int):
    loan = _loan_for_borrower(request, pk)
    form, items, today = _quote(loan, request)
    context = {"loan": loan, "form": form, "items": items, "today": today}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "servicing/portal/payoff.html", context, status=status)


@never_cache
@borrower_required
def loan_payoff_pdf(request, pk: int):
    loan = _loan_for_borrower(request, pk)
    form, items, today = _quote(loan, request)
    if items is None:
        return redirect(
            f"{reverse('portal:loan-payoff', args=[loan.pk])}?{request.GET.urlencode()}"
        )
    good_through = form.cleaned_data["good_through"]
    document = render_pdf(
        "documents/payoff_letter.html",
        {
            "loan": loan,
            "customer": loan.customer,
            "borrowers": loan_borrowers(loan),
            "items": items,
            "good_through": good_through,
            "quoted_on": today,
        },
    )
    response = HttpResponse(document.pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="payoff-{loan.loan_number}-{good_through}.pdf"'
    )
    return response


@never_cache
@borrower_required
def loan_statement_pdf(request, pk: int, statement_pk: int):
    loan = _loan_for_borrower(request, pk)
    try:
        statement = get_loan_statement(loan, statement_pk)
    except NotFound:
        raise Http404("No such statement.") from None
    response = HttpResponse(statements.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{loan.loan_number}-{statement.statement_date}.pdf"'
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@borrower_required
def loan_help(request, pk: int):
    loan = _loan_for_borrower(request, pk)
    form = HelpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                request_help(
                    loan=loan,
                    kind=form.cleaned_data["kind"],
                    message=form.cleaned_data["message"],
                    acting_user=request.user,
                    customer=_customer(request),
                )
            except DomainError as exc:
                _apply_error(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    "Thank you. Our servicing team has your request and will contact you "
                    "within two business days.",
                )
                return redirect("portal:loan-detail", pk=loan.pk)
    return render(
        request, "servicing/portal/help.html", {"loan": loan, "form": form}, status=status
    )


staff_patterns: list = []
portal_patterns: list = [
    path("loans/", loan_list, name="loans"),
    path("loans/<int:pk>/", loan_detail, name="loan-detail"),
    path("loans/<int:pk>/pay/", loan_pay, name="loan-pay"),
    path("loans/<int:pk>/payments/<int:payment_pk>/", loan_payment, name="loan-payment"),
    path("loans/<int:pk>/autopay/", loan_autopay, name="loan-autopay"),
    path("loans/<int:pk>/payoff/", loan_payoff, name="loan-payoff"),
    path("loans/<int:pk>/payoff/pdf/", loan_payoff_pdf, name="loan-payoff-pdf"),
    path(
        "loans/<int:pk>/statements/<int:statement_pk>/pdf/",
        loan_statement_pdf,
        name="loan-statement-pdf",
    ),
    path("loans/<int:pk>/help/", loan_help, name="loan-help"),
]
