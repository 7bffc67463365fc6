"""Servicing pages (files): a loan's autopay authorisation, the NACHA files
of autopay debits, and the imports (ACH returns, payments, loan boarding).
Views parse, call one service, and render."""

import hashlib
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError
from rails import nacha
from servicing.models import AchBatchFile, AutopayAuthorization, ImportRun, Loan, LoanState
from servicing.services import autopay, imports
from users.access import staff_required

VIEW = "servicing.view_loan"
POST = "servicing.post_payment"
IMPORT = "servicing.import_files"
MAX_UPLOAD = 20 * 1024 * 1024


def _loan(pk: int) -> Loan:
    loan = Loan.objects.select_related("customer", "product").filter(pk=pk).first()
    if loan is None:
        raise Http404("No such loan.")
    return loan


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _apply(form: forms.Form, exc: DomainError) -> None:
    mapping = {"routing_number": "routing_number", "account_number": "account_number"}
    placed = False
    for name, errors in exc.fields.items():
        target = mapping.get(name, name)
        if target in form.fields:
            for error in errors:
                form.add_error(target, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# --- autopay ---------------------------------------------------------------


class AutopayForm(forms.Form):
    routing_number = forms.CharField(
        label="Routing number", max_length=9, min_length=9, help_text="9 digits (ABA)."
    )
    account_number = forms.CharField(label="Account number", max_length=17)
    account_number_confirm = forms.CharField(label="Account number again", max_length=17)
    account_type = forms.ChoiceField(choices=AutopayAuthorization.AccountType.choices)
    amount_rule = forms.ChoiceField(
        label="Amount",
        choices=AutopayAuthorization.AmountRule.choices,
        initial="scheduled",
    )
    fixed_amount = forms.DecimalField(
        label="Fixed amount",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Only for a fixed amount.",
    )
    borrower_agreed = forms.BooleanField(
        label="The borrower agreed to the authorisation text above", required=True
    )

    def clean_routing_number(self):
        routing = self.cleaned_data["routing_number"].strip()
        if not nacha.is_valid_routing(routing):
            raise forms.ValidationError("Enter a valid 9-digit ABA routing number.")
        return routing

    def clean_account_number(self):
        account = self.cleaned_data["account_number"].replace(" ", "").replace("-", "")
        if not account.isdigit() or not 4 <= len(account) <= 17:
            raise forms.ValidationError("Enter the account number: 4 to 17 digits.")
        return account

    def clean(self):
        data = super().clean()
        account = data.get("account_number")
        confirm = (data.get("account_number_confirm") or "").replace(" ", "").replace("-", "")
        if account and confirm != account:
            self.add_error("account_number_confirm", "The account numbers do not match.")
        if data.get("amount_rule") == "fixed" and not data.get("fixed_amount"):
            self.add_error("fixed_amount", "Enter the amount to debit on each due date.")
        if data.get("amount_rule") == "scheduled":
            data["fixed_amount"] = None
        return data


@staff_required(VIEW, POST)
def autopay_page(request, pk: int):
    loan = _loan(pk)
    active = loan.autopay_authorizations.filter(active=True).first()
    form = AutopayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            autopay.set_up_autopay(
                loan=loan,
                routing=data["routing_number"],
                account=data["account_number"],
                account_type=data["account_type"],
                fixed_amount=data["fixed_amount"],
                authorization_text_version=autopay.CURRENT_AUTHORIZATION_VERSION,
                ip_address=_client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
                channel="staff",
                acting_user=request.user,
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            messages.success(request, "Autopay is set up.")
            return redirect("servicing:autopay", pk=loan.pk)
    text = autopay.authorization_text(
        version=autopay.CURRENT_AUTHORIZATION_VERSION,
        loan=loan,
        routing="(routing number)",
        last4="(last four digits)",
        account_type="checking or savings",
        amount="the scheduled instalment (or the fixed amount chosen)",
    )
    return render(
        request,
        "servicing/files/autopay.html",
        {
            "loan": loan,
            "active": active,
            "history": loan.autopay_authorizations.exclude(active=True)[:20],
            "form": form,
            "authorization_text": text,
            "text_version": autopay.CURRENT_AUTHORIZATION_VERSION,
            "loan_active": loan.state == LoanState.ACTIVE,
            "payable": loan.state in (LoanState.ACTIVE, LoanState.OVERPAID, LoanState.PAID_OFF),
            "with_actions": False,
        },
    )


@require_POST
@staff_required(VIEW, POST)
def autopay_cancel(request, pk: int):
    loan = _loan(pk)
    auth = autopay.cancel_autopay(
        loan=loan, reason=request.POST.get("reason", "")[:200], acting_user=request.user
    )
    if auth is None:
        messages.info(request, "There was no active autopay to cancel.")
    else:
        messages.success(request, "Autopay is cancelled.")
    return redirect("servicing:autopay", pk=loan.pk)


# --- ACH files -------------------------------------------------------------


@staff_required(VIEW, IMPORT)
def ach_files(request):
    files = AchBatchFile.objects.defer("content").select_related("created_by")
    page = Paginator(files, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "servicing/files/ach_files.html",
        {"page": page, "files": page.object_list, "business_date": get_business_date()},
    )


@require_POST
@staff_required(VIEW, IMPORT, POST)
def ach_files_collect(request):
    business_date = get_business_date()
    try:
        result = autopay.collect_autopay(business_date=business_date, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("servicing:ach-files")
    if result.file:
        messages.success(
            request,
            f"Collected {len(result.posted)} autopay debit(s) for {business_date}; "
            f"file {result.file.filename} is ready.",
        )
    else:
        messages.info(request, f"Nothing new to collect for {business_date}.")
    for skip in result.skipped:
        messages.warning(request, f"{skip['loan']}: {skip['message']}")
    return redirect("servicing:ach-files")


@staff_required(VIEW, IMPORT)
def ach_file_download(request, pk: int):
    batch = get_object_or_404(AchBatchFile, pk=pk)
    response = HttpResponse(batch.content, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


# --- imports ---------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label="File")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 20 MB.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        self.text = text
        self.sha256 = hashlib.sha256(raw).hexdigest()
        return upload


IMPORTS = {
    "payments": {
        "title": "Import payments",
        "kind": ImportRun.Kind.PAYMENTS,
        "help": "CSV with the columns loan_number, amount, received_on (YYYY-MM-DD), "
        "method (cash, check, ach, card), reference, and optionally excess (prepayment or "
        "unapplied: where money beyond what is due goes; blank for the product's default). "
        "Rows with a reference are recognised "
        "by loan, reference, date and amount, so a file imported twice posts nothing twice.",
        "perms": (VIEW, IMPORT, POST),
    },
    "boarding": {
        "title": "Import loans (boarding)",
        "kind": ImportRun.Kind.BOARDING,
        "help": "CSV with the columns origination_reference, customer_number, product_code, "
        "principal, annual_rate (percent), term, disbursement_date, first_payment_date, "
        "cutover_date, principal_paid, interest_paid. Each loan is boarded on its original "
        "terms and its paid history is recorded as one payment on the cut-over date; a row "
        "whose resulting principal balance is not principal minus principal_paid is rejected.",
        "perms": (VIEW, IMPORT),
    },
    "ach_returns": {
        "title": "Import ACH returns",
        "kind": ImportRun.Kind.ACH_RETURNS,
        "help": "A NACHA return file from the bank. Each return reverses its autopay payment "
        "and assesses the product's returned-payment fee; a return already processed is "
        "left alone.",
        "perms": (VIEW, IMPORT),
    },
}


def _import_page(request, key: str, run_service):
    spec = IMPORTS[key]
    form = UploadForm(request.POST or None, request.FILES or None)
    run = None
    if request.method == "POST" and form.is_valid():
        try:
            result = run_service(
                text=form.text, filename=form.cleaned_data["file"].name, acting_user=request.user
            )
        except DomainError as exc:
            form.add_error(
                "file", " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
            )
        else:
            run = result.run
            messages.success(
                request,
                f"{run.accepted} accepted, {run.duplicates} already done, {run.rejected} rejected.",
            )
    recent = ImportRun.objects.filter(kind=spec["kind"]).select_related("created_by")[:10]
    return render(
        request,
        "servicing/files/import.html",
        {
            "spec": spec,
            "form": form,
            "run": run,
            "recent": recent,
            "url_name": f"{key.replace('_', '-')}-import",
        },
    )


@staff_required(*IMPORTS["payments"]["perms"])
def payments_import(request):
    return _import_page(request, "payments", imports.import_payments_csv)


@staff_required(*IMPORTS["boarding"]["perms"])
def boarding_import(request):
    return _import_page(request, "boarding", imports.import_boarding_csv)


@staff_required(*IMPORTS["ach_returns"]["perms"])
def ach_returns_import(request):
    return _import_page(request, "ach_returns", autopay.import_ach_returns)


@staff_required(VIEW, IMPORT)
def import_run_detail(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    spec = next(s for s in IMPORTS.values() if s["kind"] == run.kind)
    return render(request, "servicing/files/import_run.html", {"run": run, "spec": spec})


staff_patterns: list = [
    path("<int:pk>/autopay/", autopay_page, name="autopay"),
    path("<int:pk>/autopay/cancel/", autopay_cancel, name="autopay-cancel"),
    path("ach-files/", ach_files, name="ach-files"),
    path("ach-files/collect/", ach_files_collect, name="ach-files-collect"),
    path("ach-files/<int:pk>/download/", ach_file_download, name="ach-file-download"),
    path("imports/ach-returns/", ach_returns_import, name="ach-returns-import"),
    path("imports/payments/", payments_import, name="payments-import"),
    path("imports/boarding/", boarding_import, name="boarding-import"),
    path("imports/<int:pk>/", import_run_detail, name="import-run"),
]
portal_patterns: list = []
