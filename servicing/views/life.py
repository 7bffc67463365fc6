"""Servicing pages (life events): payoff quotes and payoff payments,
modifications with their approvals queue, charge-off and recovery, credit
refunds, closing, fees and waivers, statements. Views parse a form, call one
service, and render; a refused request re-renders the form with the
service's messages and its HTTP status (400, 409 or 422)."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError, PermissionDenied
from core.money import format_money
from servicing.models import Loan, LoanEvent, Modification, Payment, PayoffQuote, Statement
from servicing.services import chargeoff, closing, fees, modifications, payoff, statements
from users.access import staff_required

VIEW = "servicing.view_loan"
PAY = "servicing.post_payment"
FEE = "servicing.assess_fee"
MODIFY = "servicing.modify_loan"
APPROVE = "servicing.approve_modification"
CHARGE_OFF = "servicing.charge_off_loan"
REFUND = "servicing.refund_credit"
SERVICING_AREA = "users.access_servicing"

DATE = {"widget": forms.DateInput(attrs={"type": "date"})}
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


# --- forms ---------------------------------------------------------------------


class PayoffQuoteForm(forms.Form):
    good_through = forms.DateField(label="Good through", **DATE)


class PayoffPaymentForm(forms.Form):
    amount = forms.DecimalField(label="Amount received", **MONEY)
    received_on = forms.DateField(label="Received on", **DATE)
    method = forms.ChoiceField(choices=Payment.Method.choices)
    reference = forms.CharField(required=False, max_length=100)


class ModificationForm(forms.Form):
    effective_date = forms.DateField(label="Effective date", **DATE)
    annual_rate_percent = forms.DecimalField(
        label="New annual rate (%)",
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("99.9999"),
        help_text="Blank keeps the current rate.",
    )
    remaining_term = forms.IntegerField(
        label="Remaining instalments",
        required=False,
        min_value=1,
        max_value=600,
        help_text="Blank keeps the number not yet due.",
    )
    next_due_date = forms.DateField(
        label="First new due date",
        required=False,
        help_text="Blank keeps the schedule's next due date.",
        **DATE,
    )
    defer_installments = forms.IntegerField(
        label="Defer instalments (payment holiday)", min_value=0, max_value=12, initial=0
    )
    capitalise_interest = forms.BooleanField(label="Capitalise accrued interest", required=False)
    waive_fee_event_id = forms.TypedChoiceField(
        label="Waive a fee", required=False, coerce=int, empty_value=None
    )
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, fee_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["waive_fee_event_id"].choices = [("", "— none —"), *fee_choices]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        rate = data.get("annual_rate_percent")
        return {
            "effective_date": data["effective_date"],
            "annual_rate": None if rate is None else rate / 100,
            "remaining_term": data.get("remaining_term"),
            "next_due_date": data.get("next_due_date"),
            "capitalise_interest": bool(data.get("capitalise_interest")),
            "defer_installments": data.get("defer_installments") or 0,
            "waive_fee_event_id": data.get("waive_fee_event_id"),
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RecoveryForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    received_on = forms.DateField(label="Received on", **DATE)
    note = forms.CharField(required=False, max_length=200)


class RefundForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    method_note = forms.CharField(
        label="How it is paid", max_length=200, help_text="e.g. check number or ACH reference."
    )


class CloseForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class FeeForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    kind = forms.ChoiceField(
        choices=[("other", "Other fee"), ("late", "Late fee"), ("nsf", "Returned payment (NSF)")]
    )
    note = forms.CharField(max_length=200)


class WaiverForm(forms.Form):
    fee_event_id = forms.TypedChoiceField(label="Fee", coerce=int)
    amount = forms.DecimalField(**MONEY)
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, fee_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_event_id"].choices = list(fee_choices)


class StatementForm(forms.Form):
    statement_date = forms.DateField(label="Statement date", **DATE)


# --- helpers ---------------------------------------------------------------------


def _loan(pk: int) -> Loan:
    return get_object_or_404(Loan.objects.select_related("customer", "product"), pk=pk)


def loan_url(loan: Loan) -> str:
    """The staff loan page (owned by the loans pages) or this app's statements list."""
    try:
        return reverse("servicing:loan-detail", args=[loan.pk])
    except NoReverseMatch:
        return reverse("servicing:statements", args=[loan.pk])


def _apply_error(form: forms.Form, exc: DomainError, aliases: dict | None = None) -> None:
    if isinstance(exc, PermissionDenied):
        raise DjangoPermissionDenied(exc.message)
    aliases = aliases or {}
    placed = False
    for field, msgs in exc.fields.items():
        target = aliases.get(field, field)
        target = target if target in form.fields else None
        for message in msgs if isinstance(msgs, list | tuple) else [msgs]:
            form.add_error(target, message if target else f"{field.replace('_', ' ')}: {message}")
            placed = True
    if not placed or not exc.fields:
        form.add_error(None, exc.message)


def _form_page(
    request, loan, form, *, title, submit, intro="", status=200, danger=False, extra=None
):
    context = {
        "loan": loan,
        "loan_url": loan_url(loan),
        "form": form,
        "title": title,
        "submit": submit,
        "intro": intro,
        "danger": danger,
        **(extra or {}),
    }
    return render(request, "servicing/life/form.html", context, status=status)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}"


def _fee_choices(loan: Loan) -> list[tuple[int, str]]:
    left = fees.waivable(loan)
    rows = LoanEvent.objects.filter(loan=loan, kind=LoanEvent.Kind.FEE).order_by(
        "effective_date", "id"
    )
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


# --- payoff ----------------------------------------------------------------------


@staff_required(VIEW)
def payoff_quote_new(request, pk: int):
    loan = _loan(pk)
    form = PayoffQuoteForm(request.POST or None, initial={"good_through": get_business_date()})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            quote = payoff.payoff_quote(
                loan=loan, good_through=form.cleaned_data["good_through"], user=request.user
            )
        except DomainError as exc:
            _apply_error(form, exc)
            status = exc.status_code
        else:
            messages.success(
                request,
                f"Payoff quote of {format_money(quote.amount)} good through {quote.good_through}.",
            )
            return redirect("servicing:payoff-quote-detail", quote_pk=quote.pk)
    elif request.method == "POST":
        status = 400
    quotes = PayoffQuote.objects.filter(loan=loan).defer("pdf")[:10]
    return _form_page(
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
    quote = get_object_or_404(
        PayoffQuote.objects.select_related("loan", "loan__customer").defer("pdf"), pk=quote_pk
    )
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
    quote = get_object_or_404(PayoffQuote, pk=quote_pk)
    response = HttpResponse(bytes(quote.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="payoff-{quote.loan.loan_number}-{quote.good_through}.pdf"'
    )
    return response


@staff_required(VIEW, PAY)
def payoff_payment(request, pk: int):
    loan = _loan(pk)
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
            _apply_error(form, exc)
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
    return _form_page(
        request,
        loan,
        form,
        title="Payoff payment",
        submit="Post payment",
        status=status,
        intro="Posts the payment; if it settles the loan the borrower is e-mailed.",
    )


# --- modifications -------------------------------------------------------------


@staff_required(VIEW, MODIFY)
def modification_new(request, pk: int):
    loan = _loan(pk)
    choices = _fee_choices(loan)
    form = ModificationForm(
        request.POST or None,
        fee_choices=choices,
        initial={"effective_date": get_business_date(), "defer_installments": 0},
    )
    preview = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            kwargs = form.service_kwargs()
            try:
                if request.POST.get("action") == "propose":
                    mod = modifications.propose_modification(
                        loan=loan,
                        user=request.user,
                        note=form.cleaned_data.get("note") or "",
                        **kwargs,
                    )
                    if mod.status == Modification.Status.APPLIED:
                        messages.success(request, "The modification was applied.")
                    else:
                        messages.info(
                            request,
                            "The modification is above the approval limit and waits for a manager.",
                        )
                    return redirect("servicing:modification-detail", mod_pk=mod.pk)
                preview = modifications.preview_modification(loan=loan, **kwargs)
            except DomainError as exc:
                _apply_error(form, exc, {"annual_rate": "annual_rate_percent"})
                status = exc.status_code
        else:
            status = 400
    rows = None
    if preview is not None:
        n = max(len(preview.old_rows), len(preview.new_rows))
        rows = [
            (
                preview.old_rows[i] if i < len(preview.old_rows) else None,
                preview.new_rows[i] if i < len(preview.new_rows) else None,
            )
            for i in range(n)
        ]
    context = {
        "loan": loan,
        "loan_url": loan_url(loan),
        "form": form,
        "preview": preview,
        "rows": rows,
    }
    if preview is not None:
        context["rates"] = [_percent(preview.old_rate), _percent(preview.new_rate)]
    return render(request, "servicing/life/modification_form.html", context, status=status)


@staff_required(VIEW)
def modification_detail(request, mod_pk: int):
    mod = get_object_or_404(
        Modification.objects.select_related("loan", "proposed_by", "decided_by"), pk=mod_pk
    )
    old, new = mod.preview.get("old_rows", []), mod.preview.get("new_rows", [])
    rows = [
        (old[i] if i < len(old) else None, new[i] if i < len(new) else None)
        for i in range(max(len(old), len(new)))
    ]
    can_decide = (
        mod.status == Modification.Status.PROPOSED
        and request.user.has_perm(APPROVE)
        and mod.proposed_by_id != request.user.pk
    )
    return render(
        request,
        "servicing/life/modification_detail.html",
        {
            "mod": mod,
            "loan": mod.loan,
            "loan_url": loan_url(mod.loan),
            "rows": rows,
            "can_decide": can_decide,
            "reject_form": ReasonForm(),
        },
    )


@staff_required(VIEW, APPROVE)
def modification_approvals(request):
    pending = modifications.pending_modifications()
    return render(request, "servicing/life/approvals.html", {"pending": pending})


@require_POST
@staff_required(VIEW, APPROVE)
def modification_approve(request, mod_pk: int):
    mod = get_object_or_404(Modification, pk=mod_pk)
    try:
        modifications.approve_modification(modification=mod, user=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Approved and applied.")
    return redirect("servicing:modification-detail", mod_pk=mod.pk)


@require_POST
@staff_required(VIEW, APPROVE)
def modification_reject(request, mod_pk: int):
    mod = get_object_or_404(Modification, pk=mod_pk)
    form = ReasonForm(request.POST)
    reason = request.POST.get("reason", "")
    try:
        modifications.reject_modification(modification=mod, user=request.user, reason=reason)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        form.is_valid()
        messages.error(request, exc.message)
        return redirect("servicing:modification-detail", mod_pk=mod.pk)
    messages.success(request, "Rejected.")
    return redirect("servicing:modification-approvals")


# --- charge-off, recovery, refund ----------------------------------------------


def _simple(request, loan, form, action, *, title, submit, intro, success, danger=False):
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                action(form.cleaned_data)
            except DomainError as exc:
                _apply_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, success)
                return redirect(loan_url(loan))
        else:
            status = 400
    return _form_page(
        request, loan, form, title=title, submit=submit, intro=intro, status=status, danger=danger
    )


@staff_required(VIEW, CHARGE_OFF)
def charge_off(request, pk: int):
    loan = _loan(pk)
    form = ReasonForm(request.POST or None)
    return _simple(
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
    loan = _loan(pk)
    form = RecoveryForm(request.POST or None, initial={"received_on": get_business_date()})
    return _simple(
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
    loan = _loan(pk)
    credit = loan.overpayment_balance + loan.unapplied_balance
    form = RefundForm(request.POST or None, initial={"amount": credit or None})
    return _simple(
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


# --- closing --------------------------------------------------------------------


@staff_required(VIEW, MODIFY)
def close(request, pk: int):
    loan = _loan(pk)
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
    return _simple(
        request,
        loan,
        form,
        lambda d: closing.close_loan(loan, acting_user=request.user, note=d.get("note") or ""),
        title="Close loan",
        submit="Close the loan",
        intro=intro,
        success=f"Loan {loan.loan_number} closed.",
    )


# --- fees ---------------------------------------------------------------------


@staff_required(VIEW, FEE)
def fee_assess(request, pk: int):
    loan = _loan(pk)
    form = FeeForm(request.POST or None)
    return _simple(
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
    loan = _loan(pk)
    form = WaiverForm(request.POST or None, fee_choices=_fee_choices(loan))
    return _simple(
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


# --- statements ------------------------------------------------------------------


@staff_required(VIEW)
def statement_list(request, pk: int):
    loan = _loan(pk)
    # Statements are dated on the product's cycle day, so the business date is
    # rarely valid: propose the last cycle date instead.
    proposed, ready = statements.proposed_statement_date(loan, get_business_date())
    form = StatementForm(initial={"statement_date": proposed})
    context = {
        "loan": loan,
        "loan_url": loan_url(loan),
        "statements": statements.list_statements(loan),
        "form": form,
        "first_statement_date": None if ready else proposed,
    }
    return render(request, "servicing/life/statements.html", context)


@require_POST
@staff_required(VIEW, SERVICING_AREA)
def statement_generate(request, pk: int):
    loan = _loan(pk)
    form = StatementForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            statement = statements.generate_statement(
                loan=loan, statement_date=form.cleaned_data["statement_date"], user=request.user
            )
        except DomainError as exc:
            _apply_error(form, exc)
            status = exc.status_code
        else:
            messages.success(
                request,
                f"Statement of {statement.statement_date}: "
                f"amount due {format_money(statement.amount_due)}.",
            )
            return redirect("servicing:statements", pk=loan.pk)
    context = {
        "loan": loan,
        "loan_url": loan_url(loan),
        "statements": statements.list_statements(loan),
        "form": form,
    }
    return render(request, "servicing/life/statements.html", context, status=status)


@staff_required(VIEW)
def statement_pdf(request, statement_pk: int):
    statement = get_object_or_404(Statement.objects.select_related("loan"), pk=statement_pk)
    response = HttpResponse(statements.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        "attachment; "
        f'filename="statement-{statement.loan.loan_number}-{statement.statement_date}.pdf"'
    )
    return response


staff_patterns: list = [
    path("loans/<int:pk>/payoff/", payoff_quote_new, name="payoff-quote"),
    path("loans/<int:pk>/payoff/payment/", payoff_payment, name="payoff-payment"),
    path("payoff-quotes/<int:quote_pk>/", payoff_quote_detail, name="payoff-quote-detail"),
    path("payoff-quotes/<int:quote_pk>/pdf/", payoff_quote_pdf, name="payoff-quote-pdf"),
    path("loans/<int:pk>/modifications/new/", modification_new, name="modification-new"),
    path("modifications/approvals/", modification_approvals, name="modification-approvals"),
    path("modifications/<int:mod_pk>/", modification_detail, name="modification-detail"),
    path("modifications/<int:mod_pk>/approve/", modification_approve, name="modification-approve"),
    path("modifications/<int:mod_pk>/reject/", modification_reject, name="modification-reject"),
    path("loans/<int:pk>/charge-off/", charge_off, name="charge-off"),
    path("loans/<int:pk>/recovery/", recovery, name="recovery"),
    path("loans/<int:pk>/refund/", refund, name="refund"),
    path("loans/<int:pk>/close/", close, name="close"),
    path("loans/<int:pk>/fees/assess/", fee_assess, name="fee-assess"),
    path("loans/<int:pk>/fees/waive/", fee_waive, name="fee-waive"),
    path("loans/<int:pk>/statements/", statement_list, name="statements"),
    path("loans/<int:pk>/statements/generate/", statement_generate, name="statement-generate"),
    path("statements/<int:statement_pk>/pdf/", statement_pdf, name="statement-pdf"),
]
portal_patterns: list = []
