"""Calculator pages for staff (/staff/origination/) and borrowers
(/portal/calculator/). Forms submit by GET so a result is a shareable URL and
its CSV/PDF downloads are the same query with another suffix."""

from django.http import HttpResponse
from django.shortcuts import render

from core.businessdate import get_business_date
from core.documents import render_pdf
from core.exceptions import ValidationFailed
from origination import calculators
from origination.forms.calculators import AprCalculatorForm, FeeFormSet, LoanCalculatorForm
from users.access import staff_required

CALCULATOR_PERMISSION = "users.use_calculators"


def _apply_errors(form, exc: ValidationFailed) -> None:
    for field, messages in exc.fields.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field.replace('_', ' ')}: {message}")
    if not exc.fields:
        form.add_error(None, exc.message)


def _calculate(request):
    """(form, fees formset, quote or None) from the request's query string."""
    bound = "principal" in request.GET
    initial = {"disbursement_date": get_business_date()}
    form = LoanCalculatorForm(request.GET if bound else None, initial=initial)
    fees = FeeFormSet(request.GET if bound else None, prefix="fee")
    result = None
    if bound and form.is_valid() and fees.is_valid():
        data = form.terms_data()
        data["fees"] = [
            {
                "name": f.cleaned_data["name"],
                "amount": f.cleaned_data["amount"],
                "treatment": f.cleaned_data["treatment"],
                "finance_charge": f.cleaned_data["finance_charge"],
            }
            for f in fees
            if f.cleaned_data.get("name")
        ]
        try:
            result = calculators.quote(calculators.build_terms(data))
        except ValidationFailed as exc:
            _apply_errors(form, exc)
    return form, fees, result


def _download(request, result, fmt: str, title: str):
    if fmt == "csv":
        response = HttpResponse(calculators.schedule_csv(result), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="schedule.csv"'
        return response
    document = render_pdf("documents/schedule.html", {"quote": result, "title": title})
    response = HttpResponse(document.pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="schedule.pdf"'
    return response


def _calculator_page(request, template: str, fmt: str | None, title: str, namespace: str):
    form, fees, result = _calculate(request)
    if fmt and result is not None:
        return _download(request, result, fmt, title)
    context = {
        "form": form,
        "fees": fees,
        "quote": result,
        "query": request.GET.urlencode(),
        "url_name": f"{namespace}:calculator",
        "download_csv": f"{namespace}:calculator-csv",
        "download_pdf": f"{namespace}:calculator-pdf",
        "show_fees": namespace == "origination",
    }
    # A download link with bad terms shows the form with its errors.
    status = 400 if fmt else 200
    if request.headers.get("HX-Request") == "true":
        return render(request, "origination/_calculator_body.html", context)
    return render(request, template, context, status=status)


@staff_required(CALCULATOR_PERMISSION)
def loan_calculator(request, fmt: str | None = None):
    return _calculator_page(
        request, "origination/calculator.html", fmt, "Repayment schedule", "origination"
    )


def portal_calculator(request, fmt: str | None = None):
    """Open to anyone: prospects price a loan before they sign up."""
    return _calculator_page(
        request, "origination/portal_calculator.html", fmt, "Your repayment schedule", "portal"
    )


@staff_required(CALCULATOR_PERMISSION)
def apr_calculator(request):
    form = AprCalculatorForm(request.GET or None)
    rate = None
    if form.is_bound and form.is_valid():
        try:
            advances = calculators.parse_flows(form.cleaned_data["advances"], "advances")
            payments = calculators.parse_flows(form.cleaned_data["payments"], "payments")
            rate = calculators.apr_percent(advances, payments)
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            advanced = sum(a for _, a in advances)
            paid = sum(p for _, p in payments)
            totals = {
                "advanced": advanced,
                "paid": paid,
                "finance_charge": paid - advanced,
                "count": len(payments),
            }
    context = {"form": form, "apr": rate}
    if rate is not None:
        context["totals"] = totals
    return render(request, "origination/apr_calculator.html", context)
