"""Compliance review queue (staff): sanctions screening hits awaiting a
person's decision, the side-by-side review page, and the clear / confirm
forms, and "Screen again" for an application whose screening was
unavailable. Views parse, call one service or selector, and render; a
refused decision re-renders the page with the service's message and HTTP
status (400 no reason, 409 already decided)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, NotFound, PermissionDenied
from origination.forms.kyc import DecisionForm, QueueFilterForm
from origination.models import SanctionsHit
from origination.selectors import kyc as selectors_kyc
from origination.selectors.applications import get_application
from origination.services import kyc, underwriting
from origination.views.applications import render_application
from users.access import staff_required

REVIEW = "origination.review_compliance"
PAGE_SIZE = 50


@staff_required(REVIEW)
def compliance_queue(request):
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = SanctionsHit.Status.POTENTIAL_MATCH
    form = QueueFilterForm(data)
    filters = form.cleaned_data if form.is_valid() else {"status": data["status"]}
    hits = selectors_kyc.compliance_hits(
        status=filters.get("status") or "",
        q=(filters.get("q") or "").strip(),
        min_score=filters.get("min_score"),
    )
    page = Paginator(hits, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "origination/compliance/queue.html",
        {"form": form, "page": page, "hits": page.object_list, "query": query.urlencode()},
    )


def _detail(request, hit_id: int, *, forms_=None, status: int = 200, error: str = ""):
    try:
        hit, rows = selectors_kyc.hit_with_entries(hit_id)
    except SanctionsHit.DoesNotExist:
        raise Http404("No such screening hit.") from None
    customer = hit.customer
    return render(
        request,
        "origination/compliance/detail.html",
        {
            "hit": hit,
            "customer": customer,
            "addresses": selectors_kyc.customer_addresses(customer),
            "rows": rows,
            "clear_form": (forms_ or {}).get("clear") or DecisionForm(prefix="clear"),
            "confirm_form": (forms_ or {}).get("confirm") or DecisionForm(prefix="confirm"),
            "error": error,
        },
        status=status,
    )


@staff_required(REVIEW)
def compliance_detail(request, hit_id: int):
    return _detail(request, hit_id)


def _decide(request, hit_id: int, action, prefix: str, done: str):
    hit = selectors_kyc.hit_by_pk(hit_id)
    if hit is None:
        raise Http404("No such screening hit.")
    form = DecisionForm(request.POST, prefix=prefix)
    try:
        action(hit=hit, acting_user=request.user, reason=request.POST.get(f"{prefix}-reason", ""))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        form.is_valid()
        for field, errors in exc.fields.items():
            for message in errors:
                if field in form.fields and not form.errors.get(field):
                    form.add_error(field, message)
        return _detail(
            request, hit_id, forms_={prefix: form}, status=exc.status_code, error=exc.message
        )
    messages.success(request, done)
    return redirect("origination:compliance-detail", hit_id=hit_id)


@require_POST
@staff_required(REVIEW)
def compliance_clear(request, hit_id: int):
    return _decide(request, hit_id, kyc.clear_hit, "clear", "Cleared as a false positive.")


@require_POST
@staff_required(REVIEW)
def compliance_confirm(request, hit_id: int):
    return _decide(
        request, hit_id, underwriting.confirm_hit, "confirm", "Confirmed as a sanctions match."
    )


@require_POST
@staff_required(REVIEW)
def screen_application(request, pk: int):
    """Screen an application's applicant and co-applicant again; back to the
    application page with the result, or re-rendered with the refusal (no
    sanctions list yet: 422, nothing written)."""
    try:
        app = get_application(pk)
    except NotFound:
        raise Http404("No such application.") from None
    try:
        hits = kyc.screen_application(application=app, acting_user=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        return render_application(
            request, app, status=exc.status_code, error=f"Not screened: {exc.message}"
        )
    if hits:
        names = ", ".join(h.screened_name for h in hits)
        messages.warning(
            request,
            f"Screened again: potential sanctions match for {names}; "
            f"{len(hits)} hit{'s' if len(hits) != 1 else ''} await compliance review.",
        )
    else:
        messages.success(request, "Screened again: no sanctions match.")
    return redirect("origination:application-detail", pk=pk)
