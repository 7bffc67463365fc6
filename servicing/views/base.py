"""What the servicing staff pages share: the permissions they check, the
loan a page is about (404 if none), the link back to the loan, and the form
page that shows a service's refusal on the form (the forms themselves and
their field settings are in servicing.forms)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from core.exceptions import DomainError, NotFound, PermissionDenied
from servicing.models import Loan
from servicing.selectors.loans import get_loan

VIEW = "servicing.view_loan"
POST_PAYMENT = "servicing.post_payment"
MODIFY = "servicing.modify_loan"
IMPORT_FILES = "servicing.import_files"


def found(read, *args):
    """`read(*args)` (a selector), its NotFound answered as a 404 page."""
    try:
        return read(*args)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def loan_or_404(pk: int) -> Loan:
    return found(get_loan, pk)


def loan_url(loan: Loan) -> str:
    """The staff loan page (owned by the loans pages) or this app's statements list."""
    try:
        return reverse("servicing:loan-detail", args=[loan.pk])
    except NoReverseMatch:
        return reverse("servicing:statements", args=[loan.pk])


def apply_error(form: forms.Form, exc: DomainError, aliases: dict | None = None) -> None:
    """A service's refusal on the form: each field's messages on that field
    (through `aliases`), the rest at the top; a PermissionDenied is a 403."""
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


def form_page(
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


def simple_form(request, loan, form, action, *, title, submit, intro, success, danger=False):
    """A one-form page: on a valid POST run `action(cleaned_data)` and go back
    to the loan, else show the form with the refusal and its status."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                action(form.cleaned_data)
            except DomainError as exc:
                apply_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, success)
                return redirect(loan_url(loan))
        else:
            status = 400
    return form_page(
        request, loan, form, title=title, submit=submit, intro=intro, status=status, danger=danger
    )
