"""Reads over the audit trail: the log with its filters, one object's history."""

from datetime import date

from django.db.models import QuerySet

from core.models import AuditEvent


def audit_events(
    *,
    actor: str = "",
    action: str = "",
    category: str = "",
    object_type: str = "",
    object_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, narrowed by any of the given filters.
    `actor` matches the actor label (username or system job) case-insensitively."""
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if action:
        events = events.filter(action__icontains=action)
    if category:
        events = events.filter(category=category)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if since:
        events = events.filter(occurred_at__date__gte=since)
    if until:
        events = events.filter(occurred_at__date__lte=until)
    return events.order_by("-occurred_at", "-id")


def object_history(object_type: str, object_id: str) -> QuerySet[AuditEvent]:
    """Every event about one object, oldest first (a history reads forwards)."""
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by(
        "occurred_at", "id"
    )


def audited_object_types() -> list[str]:
    return list(
        AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
