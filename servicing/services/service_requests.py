"""Borrower requests for help on a loan (hardship, a modification, other).

A request is recorded as an audit event on the loan, so servicing staff see
it in the loan's History tab with who asked, when and from which request.
It changes nothing about the loan; staff act on it through the ordinary
life-event pages (modification, fee waiver).
"""

from django.db import transaction

from core import audit
from core.exceptions import ValidationFailed
from core.models import AuditCategory
from servicing.models import Loan
from servicing.services.sync import lock_loan

REQUEST_KINDS = {
    "hardship": "Hardship help",
    "modification": "Loan modification",
    "other": "Other question",
}
MAX_MESSAGE = 2000


def request_help(*, loan: Loan, kind: str, message: str, acting_user=None):
    """Record a help request on `loan` (an audit event, action
    "service_request.<kind>"). Raises ValidationFailed for an unknown kind or
    an empty / too long message; nothing is written then."""
    message = (message or "").strip()
    errors = {}
    if kind not in REQUEST_KINDS:
        errors["kind"] = [f"Choose one of {', '.join(REQUEST_KINDS)}."]
    if not message:
        errors["message"] = ["Tell us what you need."]
    elif len(message) > MAX_MESSAGE:
        errors["message"] = [f"Keep the message within {MAX_MESSAGE} characters."]
    if errors:
        raise ValidationFailed("The request is not valid.", fields=errors)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        return audit.record(
            action=f"service_request.{kind}",
            category=AuditCategory.CREATE,
            obj=loan,
            metadata={"kind": kind, "label": REQUEST_KINDS[kind], "message": message},
            actor=acting_user if getattr(acting_user, "pk", None) else None,
        )
