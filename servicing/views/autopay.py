"""Servicing pages, autopay: a loan's ACH debit authorisation (set up,
cancel) and the NACHA files of autopay debits (collect, download). Views
parse, call one service, and render.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError
from servicing.forms.autopay import AutopayForm
from servicing.models import LoanState
from servicing.selectors.autopay import (
    ach_batch_files,
    active_autopay,
    autopay_history,
    get_ach_file,
)
from servicing.services import autopay
from servicing.views.base import IMPORT_FILES, POST_PAYMENT, VIEW, found, loan_or_404
from users.access import staff_required


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


@staff_required(VIEW, POST_PAYMENT)
def autopay_page(request, pk: int):
    loan = loan_or_404(pk)
    active = active_autopay(loan)
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
            "history": autopay_history(loan),
            "form": form,
            "authorization_text": text,
            "text_version": autopay.CURRENT_AUTHORIZATION_VERSION,
            "loan_active": loan.state == LoanState.ACTIVE,
            "payable": loan.state in (LoanState.ACTIVE, LoanState.OVERPAID, LoanState.PAID_OFF),
            "with_actions": False,
        },
    )


@require_POST
@staff_required(VIEW, POST_PAYMENT)
def autopay_cancel(request, pk: int):
    loan = loan_or_404(pk)
    auth = autopay.cancel_autopay(
        loan=loan, reason=request.POST.get("reason", "")[:200], acting_user=request.user
    )
    if auth is None:
        messages.info(request, "There was no active autopay to cancel.")
    else:
        messages.success(request, "Autopay is cancelled.")
    return redirect("servicing:autopay", pk=loan.pk)


# --- ACH files -------------------------------------------------------------


@staff_required(VIEW, IMPORT_FILES)
def ach_files(request):
    files = ach_batch_files()
    page = Paginator(files, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "servicing/files/ach_files.html",
        {"page": page, "files": page.object_list, "business_date": get_business_date()},
    )


@require_POST
@staff_required(VIEW, IMPORT_FILES, POST_PAYMENT)
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


@staff_required(VIEW, IMPORT_FILES)
def ach_file_download(request, pk: int):
    batch = found(get_ach_file, pk)
    response = HttpResponse(batch.content, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


staff_patterns: list = [
    path("<int:pk>/autopay/", autopay_page, name="autopay"),
    path("<int:pk>/autopay/cancel/", autopay_cancel, name="autopay-cancel"),
    path("ach-files/", ach_files, name="ach-files"),
    path("ach-files/collect/", ach_files_collect, name="ach-files-collect"),
    path("ach-files/<int:pk>/download/", ach_file_download, name="ach-file-download"),
]
