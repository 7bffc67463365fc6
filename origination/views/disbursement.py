"""Staff funding: the bank account the loan is paid into, the disbursement
(and boarding into servicing) of a signed application, and the daily
disbursement files page (services.disbursement).

The application page's actions redirect back to it; a refusal re-renders it
with the service's message and status (views.applications._act)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError, NotFound
from origination.forms import disbursement as f
from origination.selectors import closing as selectors_closing
from origination.services import disbursement as disbursing
from origination.services.disbursement import DISBURSE_PERMISSION
from origination.views.applications import VIEW, _act, _get, _require, render_application
from users.access import staff_required


@require_POST
@staff_required(VIEW)
def set_bank_account(request, pk: int):
    def call(app, form):
        _require(request.user, DISBURSE_PERMISSION, "Your role may not set up disbursements.")
        disbursing.set_bank_account(
            application=app,
            routing_number=form.cleaned_data["routing_number"],
            account_number=form.cleaned_data["account_number"],
            account_type=form.cleaned_data["account_type"],
            user=request.user,
        )

    return _act(request, pk, "bank", f.BankAccountForm, call, "Bank account saved.")


@require_POST
@staff_required(VIEW)
def disburse(request, pk: int):
    app = _get(pk)
    try:
        app = disbursing.disburse(application=app, user=request.user)
    except DomainError as exc:
        return render_application(request, _get(pk), status=exc.status_code, error=exc.message)
    messages.success(request, "Disbursed and boarded into servicing.")
    return redirect("origination:application-detail", pk=pk)


@staff_required(DISBURSE_PERMISSION)
def disbursement_files(request):
    if request.method == "POST":
        try:
            batch = disbursing.daily_disbursement_file(
                business_date=get_business_date(), user=request.user
            )
        except DomainError as exc:
            return render(
                request,
                "origination/applications/disbursement_files.html",
                {"batches": selectors_closing.disbursement_batches(), "error": exc.message},
                status=exc.status_code,
            )
        if batch is None:
            messages.info(request, "Nothing to pay: no completed disbursements await a file.")
        else:
            messages.success(request, f"File for {batch.business_date} ({batch.entry_count}).")
        return redirect("origination:disbursement-files")
    return render(
        request,
        "origination/applications/disbursement_files.html",
        {"batches": selectors_closing.disbursement_batches(), "today": get_business_date()},
    )


@staff_required(DISBURSE_PERMISSION)
def disbursement_file_download(request, batch_id: int):
    try:
        name, text = selectors_closing.disbursement_batch_file(batch_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(text, content_type="text/plain")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
