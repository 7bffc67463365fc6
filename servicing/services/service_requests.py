"""Borrower requests for help on a loan (hardship, a modification, other),
worked by servicing staff as tasks.

`request_help` creates a ServiceRequest (status open, due the business date
plus ServiceRequest.SLA_DAYS) and records an audit event on the loan, so the
request shows both in the staff queue and in the loan's History tab. It
changes nothing about the loan; staff act on it through the ordinary
life-event pages (modification, fee waiver) and close the task here.

The task's states: open -> in_progress -> resolved | declined (open may be
resolved or declined directly). Every change locks the request row, checks
the state (Conflict, 409, on a transition from a closed request), saves with
update_fields and writes an audit event, in one transaction. Staff working
requests need servicing.modify_loan; user=None is the system (or an API key
already authorised by its scope).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory
from servicing.models import Loan, LoanParty, ServiceRequest
from servicing.services.life import require_perm
from servicing.services.locks import lock_loan

REQUEST_KINDS = dict(ServiceRequest.Kind.choices)
MAX_MESSAGE = 2000
MAX_NOTE = ServiceRequest.MAX_NOTE
WORK_PERMISSION = "servicing.modify_loan"


def request_help(
    *, loan: Loan, kind: str, message: str, acting_user=None, customer=None
) -> ServiceRequest:
    """Create a help request on `loan` as an open task for servicing staff,
    due the business date + SLA_DAYS, and record an audit event on the loan
    (action "service_request.<kind>"). `customer` is the party asking (a
    co-borrower in their portal); None means the primary borrower. Raises
    ValidationFailed for an unknown kind, an empty / too long message or a
    customer who is no party of the loan; nothing is written then. Locks the
    loan row."""
    message = (message or "").strip()
    errors = {}
    if kind not in REQUEST_KINDS:
        errors["kind"] = [f"Choose one of {', '.join(REQUEST_KINDS)}."]
    if not message:
        errors["message"] = ["Tell us what you need."]
    elif len(message) > MAX_MESSAGE:
        errors["message"] = [f"Keep the message within {MAX_MESSAGE} characters."]
    customer_id = loan.customer_id if customer is None else customer.pk
    if not LoanParty.objects.filter(loan_id=loan.pk, customer_id=customer_id).exists():
        errors["customer"] = [f"Customer {customer_id} is no party of loan {loan.loan_number}."]
    if errors:
        raise ValidationFailed("The request is not valid.", fields=errors)
    actor = actor_of(acting_user)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        today = get_business_date()
        request = ServiceRequest.objects.create(
            loan=loan,
            customer_id=customer_id,
            kind=kind,
            message=message,
            created_by=actor,
            received_on=today,
            due_by=today + timedelta(days=ServiceRequest.SLA_DAYS),
        )
        audit.record(
            action=f"service_request.{kind}",
            category=AuditCategory.CREATE,
            obj=loan,
            metadata={
                "kind": kind,
                "label": REQUEST_KINDS[kind],
                "message": message,
                "service_request_id": request.pk,
                "due_by": request.due_by.isoformat(),
            },
            actor=actor,
        )
    return request


def _lock(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=request.pk)


def _refuse_closed(req: ServiceRequest, doing: str) -> None:
    if req.is_closed:
        raise Conflict(
            f"This request is already {req.get_status_display().lower()}; it cannot be {doing}.",
            code="request_closed",
        )


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, fields={field: [message]})
    if len(value) > MAX_NOTE:
        raise ValidationFailed(
            f"Keep the {field} within {MAX_NOTE} characters.",
            fields={field: [f"Keep it within {MAX_NOTE} characters."]},
        )
    return value


def _record(req: ServiceRequest, action: str, changes: dict, user, **metadata) -> None:
    audit.record(
        action=f"service_request.{action}",
        category=AuditCategory.STATE_CHANGE,
        obj=req,
        changes=changes,
        metadata={"loan_id": req.loan_id, **metadata},
        actor=actor_of(user),
    )


def assign_request(*, request: ServiceRequest, assignee, user) -> ServiceRequest:
    """Assign `request` to `assignee`, a staff user who may work requests
    (servicing.modify_loan); ValidationFailed otherwise. Already assigned to
    them: returned unchanged. A resolved or declined request: Conflict."""
    require_perm(user, WORK_PERMISSION)
    if not (
        actor_of(assignee) is not None
        and getattr(assignee, "is_staff_member", False)
        and assignee.is_active
        and assignee.has_perm(WORK_PERMISSION)
    ):
        raise ValidationFailed(
            "Choose a staff member who works service requests.",
            fields={"assignee": ["This user cannot work service requests."]},
        )
    with transaction.atomic():
        req = _lock(request)
        _refuse_closed(req, "assigned")
        if req.assigned_to_id == assignee.pk:
            return req
        before = req.assigned_to_id
        req.assigned_to = assignee
        req.save(update_fields=["assigned_to", "updated_at"])
        _record(req, "assigned", {"assigned_to": [before, assignee.pk]}, user)
    return req


def start_request(*, request: ServiceRequest, user) -> ServiceRequest:
    """Move an open request to in progress, assigning it to `user` when it
    has no assignee. Already in progress: returned unchanged."""
    require_perm(user, WORK_PERMISSION)
    with transaction.atomic():
        req = _lock(request)
        _refuse_closed(req, "started")
        if req.status == ServiceRequest.Status.IN_PROGRESS:
            return req
        changes = {"status": [req.status, ServiceRequest.Status.IN_PROGRESS]}
        req.status = ServiceRequest.Status.IN_PROGRESS
        fields = ["status", "updated_at"]
        if req.assigned_to_id is None and actor_of(user):
            changes["assigned_to"] = [None, user.pk]
            req.assigned_to = user
            fields.append("assigned_to")
        req.save(update_fields=fields)
        _record(req, "started", changes, user)
    return req


def _close(req_in, *, user, status: str, text: str, action: str, doing: str) -> ServiceRequest:
    with transaction.atomic():
        req = _lock(req_in)
        _refuse_closed(req, doing)
        before = req.status
        req.status = status
        req.resolution = text
        req.resolved_by = actor_of(user)
        req.resolved_at = timezone.now()
        req.save(update_fields=["status", "resolution", "resolved_by", "resolved_at", "updated_at"])
        _record(req, action, {"status": [before, status]}, user, resolution=text)
    return req


def resolve_request(*, request: ServiceRequest, user, resolution: str) -> ServiceRequest:
    """Close the request as resolved with a note of what was done (required,
    ValidationFailed before anything is locked). Resolved or declined
    already: Conflict (409)."""
    require_perm(user, WORK_PERMISSION)
    text = _text(resolution, "resolution", "Say how the request was resolved.")
    return _close(
        request,
        user=user,
        status=ServiceRequest.Status.RESOLVED,
        text=text,
        action="resolved",
        doing="resolved",
    )


def decline_request(*, request: ServiceRequest, user, reason: str) -> ServiceRequest:
    """Close the request as declined with the reason (required). Resolved or
    declined already: Conflict (409)."""
    require_perm(user, WORK_PERMISSION)
    text = _text(reason, "reason", "Give the reason for declining.")
    return _close(
        request,
        user=user,
        status=ServiceRequest.Status.DECLINED,
        text=text,
        action="declined",
        doing="declined",
    )
