"""Service requests: the staff queue of borrowers' help requests
(/staff/servicing/requests/) with assign, start, resolve and decline, and
the borrower's view of one of their requests in the portal.

Staff need servicing.view_loan and servicing.modify_loan to see or work
requests. A borrower reaches a request only through the customer access
selector: another borrower's request is a 404.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError, NotFound, PermissionDenied
from servicing.forms.requests import AssignForm, DeclineForm, QueueFilterForm, ResolveForm
from servicing.models import ServiceRequest
from servicing.selectors.requests import (
    get_customer_service_request,
    get_service_request,
    service_request_counts,
    service_request_queue,
)
from servicing.services import service_requests as service
from servicing.views.base import loan_url
from servicing.views.portal import _customer, _loan_for_borrower
from users.access import borrower_required, staff_required

VIEW = "servicing.view_loan"
WORK = service.WORK_PERMISSION
PAGE_SIZE = 100


# --- staff pages -----------------------------------------------------------------


def _get(request_pk: int) -> ServiceRequest:
    try:
        return get_service_request(request_pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@staff_required(VIEW, WORK)
def request_queue(request):
    today = get_business_date()
    form = QueueFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        assignee = data.get("assignee") or ""
        filters = {
            "status": data.get("status") or "",
            "kind": data.get("kind") or "",
            "overdue": bool(data.get("overdue")),
            "unassigned": assignee == "none",
            "assignee_id": request.user.pk
            if assignee == "me"
            else (int(assignee) if assignee.isdigit() else None),
        }
    rows = service_request_queue(today=today, **filters)
    context = {
        "form": form,
        "rows": rows[:PAGE_SIZE],
        "total": rows.count(),
        "counts": service_request_counts(today=today),
        "statuses": ServiceRequest.Status.choices,
        "today": today,
    }
    return render(request, "servicing/requests/queue.html", context)


def _detail(
    request, req, *, status=200, error="", assign_form=None, resolve_form=None, decline_form=None
):
    context = {
        "error": error,
        "req": req,
        "loan": req.loan,
        "loan_url": loan_url(req.loan),
        "today": get_business_date(),
        "assign_form": assign_form or AssignForm(initial={"assignee": req.assigned_to_id}),
        "resolve_form": resolve_form or ResolveForm(),
        "decline_form": decline_form or DeclineForm(),
    }
    return render(request, "servicing/requests/detail.html", context, status=status)


@staff_required(VIEW, WORK)
def request_detail(request, request_pk: int):
    return _detail(request, _get(request_pk))


def _act(request, req, action, success: str, form_key: str, form):
    """Run `action`; on a refusal re-render the detail page with the
    service's messages and its HTTP status (400 or 409)."""
    try:
        action()
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        if form is not None:
            for name, msgs in exc.fields.items():
                if name in form.fields:
                    for message in msgs:
                        form.add_error(name, message)
        return _detail(
            request, _get(req.pk), status=exc.status_code, error=exc.message, **{form_key: form}
        )
    messages.success(request, success)
    return redirect("servicing:service-request-detail", request_pk=req.pk)


@require_POST
@staff_required(VIEW, WORK)
def request_assign(request, request_pk: int):
    req = _get(request_pk)
    if request.POST.get("to") == "me":
        form = None
        assignee = request.user
    else:
        form = AssignForm(request.POST)
        if not form.is_valid():
            return _detail(request, req, status=400, assign_form=form)
        assignee = form.cleaned_data["assignee"]
    return _act(
        request,
        req,
        lambda: service.assign_request(request=req, assignee=assignee, user=request.user),
        f"Assigned to {assignee.get_username()}.",
        "assign_form",
        form,
    )


@require_POST
@staff_required(VIEW, WORK)
def request_start(request, request_pk: int):
    req = _get(request_pk)
    return _act(
        request,
        req,
        lambda: service.start_request(request=req, user=request.user),
        "Marked in progress.",
        "assign_form",
        None,
    )


@require_POST
@staff_required(VIEW, WORK)
def request_resolve(request, request_pk: int):
    req = _get(request_pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _detail(request, req, status=400, resolve_form=form)
    return _act(
        request,
        req,
        lambda: service.resolve_request(
            request=req, user=request.user, resolution=form.cleaned_data["resolution"]
        ),
        "Resolved.",
        "resolve_form",
        form,
    )


@require_POST
@staff_required(VIEW, WORK)
def request_decline(request, request_pk: int):
    req = _get(request_pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _detail(request, req, status=400, decline_form=form)
    return _act(
        request,
        req,
        lambda: service.decline_request(
            request=req, user=request.user, reason=form.cleaned_data["reason"]
        ),
        "Declined.",
        "decline_form",
        form,
    )


# --- portal ------------------------------------------------------------------------


@never_cache
@borrower_required
def portal_request_detail(request, pk: int, request_pk: int):
    loan = _loan_for_borrower(request, pk)
    try:
        req = get_customer_service_request(_customer(request), loan, request_pk)
    except NotFound:
        raise Http404("No such request.") from None
    return render(request, "servicing/portal/request_detail.html", {"loan": loan, "req": req})


staff_patterns: list = [
    path("requests/", request_queue, name="service-requests"),
    path("requests/<int:request_pk>/", request_detail, name="service-request-detail"),
    path("requests/<int:request_pk>/assign/", request_assign, name="service-request-assign"),
    path("requests/<int:request_pk>/start/", request_start, name="service-request-start"),
    path("requests/<int:request_pk>/resolve/", request_resolve, name="service-request-resolve"),
    path("requests/<int:request_pk>/decline/", request_decline, name="service-request-decline"),
]
portal_patterns: list = [
    path(
        "loans/<int:pk>/requests/<int:request_pk>/",
        portal_request_detail,
        name="loan-request",
    ),
]
