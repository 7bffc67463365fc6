"""Servicing pages, modifications: propose one (with its preview), see it,
and the approvals queue where a second person approves or rejects it.
Views parse a form, call one service, and render; a refused request
re-renders the form with the service's messages and its HTTP status.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError, PermissionDenied
from servicing.forms.base import ReasonForm
from servicing.forms.modifications import ModificationForm
from servicing.models import Modification
from servicing.selectors.modifications import get_modification
from servicing.services import modifications
from servicing.views.base import MODIFY, VIEW, apply_error, found, loan_or_404, loan_url
from servicing.views.fees import fee_choices
from users.access import staff_required

APPROVE = "servicing.approve_modification"


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}"


# --- modifications -------------------------------------------------------------


@staff_required(VIEW, MODIFY)
def modification_new(request, pk: int):
    loan = loan_or_404(pk)
    choices = fee_choices(loan)
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
                apply_error(form, exc, {"annual_rate": "annual_rate_percent"})
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
    mod = found(get_modification, mod_pk)
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
    mod = found(get_modification, mod_pk)
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
    mod = found(get_modification, mod_pk)
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


staff_patterns: list = [
    path("loans/<int:pk>/modifications/new/", modification_new, name="modification-new"),
    path("modifications/approvals/", modification_approvals, name="modification-approvals"),
    path("modifications/<int:mod_pk>/", modification_detail, name="modification-detail"),
    path("modifications/<int:mod_pk>/approve/", modification_approve, name="modification-approve"),
    path("modifications/<int:mod_pk>/reject/", modification_reject, name="modification-reject"),
]
