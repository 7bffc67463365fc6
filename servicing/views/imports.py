"""Servicing pages, imports: upload a CSV of ACH returns, payments or loans
to board, and see an import run. Views parse the upload, call one service,
and render.
"""

from django.contrib import messages
from django.shortcuts import render
from django.urls import path

from core.exceptions import DomainError
from servicing.forms.imports import UploadForm
from servicing.models import ImportRun
from servicing.selectors.imports import get_import_run, recent_import_runs
from servicing.services import autopay, imports
from servicing.views.base import IMPORT_FILES, POST_PAYMENT, VIEW, found
from users.access import staff_required

# --- imports ---------------------------------------------------------------

IMPORTS = {
    "payments": {
        "title": "Import payments",
        "kind": ImportRun.Kind.PAYMENTS,
        "help": "CSV with the columns loan_number, amount, received_on (YYYY-MM-DD), "
        "method (cash, check, ach, card), reference, and optionally excess (prepayment or "
        "unapplied: where money beyond what is due goes; blank for the product's default). "
        "Rows with a reference are recognised "
        "by loan, reference, date and amount, so a file imported twice posts nothing twice.",
        "perms": (VIEW, IMPORT_FILES, POST_PAYMENT),
    },
    "boarding": {
        "title": "Import loans (boarding)",
        "kind": ImportRun.Kind.BOARDING,
        "help": "CSV with the columns origination_reference, customer_number, product_code, "
        "principal, annual_rate (percent), term, disbursement_date, first_payment_date, "
        "cutover_date, principal_paid, interest_paid. Each loan is boarded on its original "
        "terms and its paid history is recorded as one payment on the cut-over date; a row "
        "whose resulting principal balance is not principal minus principal_paid is rejected.",
        "perms": (VIEW, IMPORT_FILES),
    },
    "ach_returns": {
        "title": "Import ACH returns",
        "kind": ImportRun.Kind.ACH_RETURNS,
        "help": "A NACHA return file from the bank. Each return reverses its autopay payment "
        "and assesses the product's returned-payment fee; a return already processed is "
        "left alone.",
        "perms": (VIEW, IMPORT_FILES),
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
    recent = recent_import_runs(spec["kind"])
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


@staff_required(VIEW, IMPORT_FILES)
def import_run_detail(request, pk: int):
    run = found(get_import_run, pk)
    spec = next(s for s in IMPORTS.values() if s["kind"] == run.kind)
    return render(request, "servicing/files/import_run.html", {"run": run, "spec": spec})


staff_patterns: list = [
    path("imports/ach-returns/", ach_returns_import, name="ach-returns-import"),
    path("imports/payments/", payments_import, name="payments-import"),
    path("imports/boarding/", boarding_import, name="boarding-import"),
    path("imports/<int:pk>/", import_run_detail, name="import-run"),
]
