"""Service request reads: the staff queue and its counts, one request, a
loan's requests, the portal's access function, and the staff who may work
requests. Nothing here writes."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from core.exceptions import NotFound
from servicing.models import Loan, ServiceRequest
from servicing.selectors.loans import party_loan_ids

OPEN_REQUEST_STATUSES = (ServiceRequest.Status.OPEN, ServiceRequest.Status.IN_PROGRESS)


def _request_queryset() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related(
        "loan", "customer", "assigned_to", "created_by", "resolved_by"
    )


def service_request_queue(
    *,
    today: date,
    status: str = "",
    kind: str = "",
    assignee_id: int | None = None,
    unassigned: bool = False,
    overdue: bool = False,
) -> QuerySet[ServiceRequest]:
    """The staff queue, oldest due first. `status` "" means still to do
    (open or in progress), "all" every status, else that one status.
    `overdue` keeps requests still to do whose due_by is before `today`
    (the business date)."""
    rows = _request_queryset()
    if status == "all":
        pass
    elif status:
        rows = rows.filter(status=status)
    else:
        rows = rows.filter(status__in=OPEN_REQUEST_STATUSES)
    if kind:
        rows = rows.filter(kind=kind)
    if unassigned:
        rows = rows.filter(assigned_to__isnull=True)
    elif assignee_id is not None:
        rows = rows.filter(assigned_to_id=assignee_id)
    if overdue:
        rows = rows.filter(status__in=OPEN_REQUEST_STATUSES, due_by__lt=today)
    return rows.order_by("due_by", "id")


def service_request_counts(*, today: date) -> dict[str, int]:
    """Requests per status, plus "overdue" (still to do, due before `today`)."""
    counts = dict.fromkeys(ServiceRequest.Status.values, 0)
    for row in ServiceRequest.objects.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["overdue"] = ServiceRequest.objects.filter(
        status__in=OPEN_REQUEST_STATUSES, due_by__lt=today
    ).count()
    return counts


def get_service_request(pk: int) -> ServiceRequest:
    """One request with its loan, customer and people; NotFound if none."""
    req = _request_queryset().filter(pk=pk).first()
    if req is None:
        raise NotFound(f"No service request {pk}.")
    return req


def service_requests_for_loan(loan: Loan) -> QuerySet[ServiceRequest]:
    """A loan's requests, newest first."""
    return _request_queryset().filter(loan=loan).order_by("-created_at", "-id")


def get_service_requests_for_customer(customer) -> QuerySet[ServiceRequest]:
    """The portal's access function for requests: the requests on the loans
    this customer is a party to (whoever of them asked), newest first; a request
    on a loan they are no party to is simply not found (404)."""
    return (
        _request_queryset()
        .filter(loan_id__in=party_loan_ids(customer))
        .order_by("-created_at", "-id")
    )


def get_customer_service_request(customer, loan: Loan, pk: int) -> ServiceRequest:
    """Request `pk` on `loan`, through the portal's access function: NotFound
    for a request on a loan this customer is no party to."""
    req = customer_requests_on_loan(customer, loan).filter(pk=pk).first()
    if req is None:
        raise NotFound(f"No service request {pk}.")
    return req


def customer_requests_on_loan(customer, loan: Loan) -> QuerySet[ServiceRequest]:
    """The requests on `loan` through the portal's access function, newest first."""
    return get_service_requests_for_customer(customer).filter(loan=loan)


def request_workers():
    """Active staff users who may work requests (modify_loan through a group
    or their own permissions), by username."""
    perm = Q(groups__permissions__codename="modify_loan") | Q(
        user_permissions__codename="modify_loan"
    )
    return get_user_model().objects.filter(perm, is_active=True).distinct().order_by("username")


def get_user_or_none(pk):
    """The user `pk`, or None."""
    return get_user_model().objects.filter(pk=pk).first()
