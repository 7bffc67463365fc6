"""Servicing pages, statements: a loan's statements, generating one, and its
PDF. Views parse a form, call one service, and render; a refused request
re-renders the form with the service's messages and its HTTP status.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError
from core.money import format_money
from servicing.forms.statements import StatementForm
from servicing.selectors.statements import get_statement, loan_statements
from servicing.services import statements
from servicing.views.base import VIEW, apply_error, found, loan_or_404, loan_url
from users.access import staff_required

SERVICING_AREA = "users.access_servicing"


# --- statements ------------------------------------------------------------------


@staff_required(VIEW)
def statement_list(request, pk: int):
    loan = loan_or_404(pk)
    # Statements are dated on the product's cycle day, so the business date is
    # rarely valid: propose the last cycle date instead.
    proposed, ready = statements.proposed_statement_date(loan, get_business_date())
    form = StatementForm(initial={"statement_date": proposed})
    context = {
        "loan": loan,
        "loan_url": loan_url(loan),
        "statements": loan_statements(loan),
        "form": form,
        "first_statement_date": None if ready else proposed,
    }
    return render(request, "servicing/life/statements.html", context)


@require_POST
@staff_required(VIEW, SERVICING_AREA)
def statement_generate(request, pk: int):
    loan = loan_or_404(pk)
    form = StatementForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            statement = statements.generate_statement(
                loan=loan, statement_date=form.cleaned_data["statement_date"], user=request.user
            )
        except DomainError as exc:
            apply_error(form, exc)
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
        "statements": loan_statements(loan),
        "form": form,
    }
    return render(request, "servicing/life/statements.html", context, status=status)


@staff_required(VIEW)
def statement_pdf(request, statement_pk: int):
    statement = found(get_statement, statement_pk)
    response = HttpResponse(statements.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        "attachment; "
        f'filename="statement-{statement.loan.loan_number}-{statement.statement_date}.pdf"'
    )
    return response


staff_patterns: list = [
    path("loans/<int:pk>/statements/", statement_list, name="statements"),
    path("loans/<int:pk>/statements/generate/", statement_generate, name="statement-generate"),
    path("statements/<int:statement_pk>/pdf/", statement_pdf, name="statement-pdf"),
]
