"""A customer's history: the audit events recorded against it."""

from django.db.models import QuerySet

from core.models import AuditEvent
from customers.models import Customer

CUSTOMER_OBJECT_TYPE = Customer._meta.label_lower  # "customers.customer"


def customer_events(customer: Customer) -> QuerySet[AuditEvent]:
    """Every audit event about the customer (its addresses, phones and
    consents are recorded against it), newest first."""
    return AuditEvent.objects.filter(
        object_type=CUSTOMER_OBJECT_TYPE, object_id=str(customer.pk)
    ).order_by("-occurred_at", "-id")
