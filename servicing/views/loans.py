"""Staff loan pages (/staff/servicing/): search, the loan page with its tabs
(Schedule, Transactions, Ledger, Documents & notes, History), posting a
payment, reversing one and adding a servicing note. Views parse, call one service or selector, and
render; the money rules live in servicing.services."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError, NotFound, PermissionDenied
from core.finance import FinanceError, tila
from core.money import format_money
from core.selectors.audit import object_history
from servicing.forms.loans import LoanSearchForm, NoteForm, PaymentForm, ReversalForm
from servicing.models import Component, Payment
from servicing.selectors.ledger import balances_as_of, loan_postings
from servicing.selectors.loans import get_loan, loan_parties, search_loans
from servicing.selectors.schedules import installments
from servicing.selectors.transactions import (
    event_allocation,
    get_payment,
    last_entry_id,
    loan_transactions,
    reapplied_since,
)
from servicing.services import notes
from servicing.services.payments import PAYABLE_STATES, fingerprint, post_payment, reverse_payment
from servicing.services.sync import loan_terms
from users.access import staff_required

VIEW = "servicing.view_loan"
POST_PAYMENT = "servicing.post_payment"
REVERSE_PAYMENT = "servicing.reverse_payment"
PAGE_SIZE = 25
TABS = (
    ("schedule", "Schedule"),
    ("transactions", "Transactions"),
    ("ledger", "Ledger"),
    ("documents", "Documents & notes"),
    ("history", "History"),
)


def _apply_domain_error(form, exc: DomainError) -> None:
    """A service's field errors onto the form (unknown fields as non-field)."""
    for name, errors in exc.fields.items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error if target else f"{name.replace('_', ' ')}: {error}")
    if not exc.fields:
        form.add_error(None, exc.message)


# --- helpers -----------------------------------------------------------------------


def _loan(pk: int):
    try:
        return get_loan(pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def describe_allocation(lines) -> str:
    """'12.00 interest (#1), 94.62 principal (#1)' for a flash message."""
    parts = []
    for line in lines:
        label = Component(line.component).label.lower()
        where = f" (#{line.installment_number})" if line.installment_number else ""
        parts.append(f"{format_money(line.amount)} {label}{where}")
    return ", ".join(parts) if parts else "nothing applied"


def _percent(rate) -> str:
    """0.1200 -> '12', 0.0725 -> '7.25' (rates are fractions in code, percent in the UI)."""
    text = f"{rate * 100:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def _disclosure(loan):
    """The TILA figures of the loan's terms as boarded (None if they cannot
    be computed, e.g. terms the APR solver refuses)."""
    try:
        return tila(loan_terms(loan))
    except (FinanceError, ValueError, TypeError):
        return None


# --- pages -------------------------------------------------------------------------


@staff_required(VIEW)
def loan_list(request):
    form = LoanSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    loans = search_loans(
        filters.get("q") or "",
        state=filters.get("state") or "",
        dpd_min=filters.get("dpd_min"),
        dpd_max=filters.get("dpd_max"),
    )
    page = Paginator(loans, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "loans": page.object_list,
        "query": _query_without_page(request),
        "searching": any(filters.get(k) not in (None, "") for k in filters),
    }
    if (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "results"
    ):
        return render(request, "servicing/loans/_results.html", context)
    return render(request, "servicing/loans/list.html", context)


def _detail_context(request, loan, tab: str, *, note_form=None) -> dict:
    context = {
        "loan": loan,
        "tab": tab,
        "tabs": TABS,
        "rate_percent": _percent(loan.annual_rate),
        "balances": balances_as_of(loan),
        "parties": loan_parties(loan),
        "disclosure": _disclosure(loan),
        "payable": loan.state in PAYABLE_STATES,
        "business_date": get_business_date(),
    }
    if tab == "schedule":
        context["installments"] = installments(loan)
    elif tab == "transactions":
        context["transactions"] = loan_transactions(loan)
    elif tab == "ledger":
        context["entries"] = loan_postings(loan)
    elif tab == "documents":
        can_add = notes.may_add_note(request.user)
        context.update(
            servicing_notes=notes.list_notes(loan),
            can_add_note=can_add,
            note_form=(note_form or NoteForm()) if can_add else None,
        )
    elif tab == "history":
        page = Paginator(object_history("servicing.loan", loan.pk), 50).get_page(
            request.GET.get("page")
        )
        context.update(page=page, events=page.object_list, query="tab=history")
    return context


@staff_required(VIEW)
def loan_detail(request, pk: int):
    loan = _loan(pk)
    tab = request.GET.get("tab") or "schedule"
    if tab not in dict(TABS):
        tab = "schedule"
    return render(request, "servicing/loans/detail.html", _detail_context(request, loan, tab))


@require_POST
@staff_required(*notes.NOTE_PERMISSIONS)
def note_add(request, pk: int):
    """Add a servicing note; a refused note re-renders the Documents & notes
    tab with the service's message (400) and writes nothing."""
    loan = _loan(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            notes.add_note(loan, text=form.cleaned_data["text"], acting_user=request.user)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        except DomainError as exc:
            _apply_domain_error(form, exc)
        else:
            messages.success(request, "Note added.")
            return redirect(
                f"{reverse('servicing:loan-detail', args=[loan.pk])}?tab=documents#notes"
            )
    context = _detail_context(request, loan, "documents", note_form=form)
    return render(request, "servicing/loans/detail.html", context, status=400)


@require_http_methods(["GET", "POST"])
@staff_required(VIEW, POST_PAYMENT)
def payment_new(request, pk: int):
    loan = _loan(pk)
    initial = {
        "received_on": get_business_date(),
        "method": Payment.Method.ACH,
        "excess": loan.product.excess_default,
        "token": uuid.uuid4().hex,
    }
    form = PaymentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        before = last_entry_id(loan)
        try:
            result = post_payment(
                loan=loan,
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                channel=Payment.Channel.STAFF,
                reference=data["reference"],
                excess=data["excess"],
                # The form's one-time token makes a double submit a no-op.
                idempotency_key=f"staff-form:{data['token']}",
                request_fingerprint=fingerprint(
                    {k: v for k, v in data.items() if k != "token"} | {"loan": loan.pk}
                ),
                acting_user=request.user,
            )
        except DomainError as exc:
            _apply_domain_error(form, exc)
        else:
            payment = result.payment
            if not result.created:
                messages.info(
                    request, f"Payment of {format_money(payment.amount)} was already posted."
                )
            else:
                lines = event_allocation(payment.event)
                text = (
                    f"Payment of {format_money(payment.amount)} received "
                    f"{payment.received_on:%b} {payment.received_on.day}, "
                    f"{payment.received_on.year} posted: {describe_allocation(lines)}."
                )
                reapplied = reapplied_since(loan, before, exclude_event=payment.event)
                if reapplied:
                    text += (
                        f" Backdated: {reapplied} later transaction"
                        f"{'s were' if reapplied != 1 else ' was'} re-applied."
                    )
                messages.success(request, text)
            return redirect(f"{reverse('servicing:loan-detail', args=[loan.pk])}?tab=transactions")
    return render(
        request,
        "servicing/loans/payment_form.html",
        {"loan": loan, "form": form, "payable": loan.state in PAYABLE_STATES},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required(VIEW, REVERSE_PAYMENT)
def payment_reverse(request, pk: int, payment_pk: int):
    loan = _loan(pk)
    try:
        payment = get_payment(loan, payment_pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    detail_url = f"{reverse('servicing:loan-detail', args=[loan.pk])}?tab=transactions"
    if payment.status == Payment.Status.REVERSED:
        messages.info(request, f"Payment of {format_money(payment.amount)} is already reversed.")
        return redirect(detail_url)
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reverse_payment(
                payment=payment,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                acting_user=request.user,
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        except DomainError as exc:
            _apply_domain_error(form, exc)
        else:
            loan.refresh_from_db()
            reason = Payment.ReversalReason(form.cleaned_data["reason"]).label
            text = f"Payment of {format_money(payment.amount)} reversed ({reason})."
            if loan.fees_balance:
                text += f" Fees now owed: {format_money(loan.fees_balance)}."
            messages.success(request, text)
            return redirect(detail_url)
    return render(
        request,
        "servicing/loans/reverse_confirm.html",
        {
            "loan": loan,
            "payment": payment,
            "form": form,
            "allocation": event_allocation(payment.event),
            "nsf_fee": loan.product.nsf_fee_amount,
        },
        status=400 if form.errors else 200,
    )


staff_patterns: list = [
    path("", loan_list, name="loan-list"),
    path("<int:pk>/", loan_detail, name="loan-detail"),
    path("<int:pk>/notes/", note_add, name="loan-note-add"),
    path("<int:pk>/payments/new/", payment_new, name="payment-new"),
    path("<int:pk>/payments/<int:payment_pk>/reverse/", payment_reverse, name="payment-reverse"),
]
portal_patterns: list = []
