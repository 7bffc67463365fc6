"""The business date: the date the platform believes it is for deciding
what is due, accruing interest and ageing arrears. It is not the wall clock.

Read it only through `get_business_date()`; anything that decides what is
due takes the date as an argument rather than calling this itself. Move it
only through `advance_business_date()` (end-of-day calls it after its steps).
"""

from datetime import date

from django.db import transaction
from django.utils import timezone

from core import audit
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory, BusinessDate


def get_business_date() -> date:
    """Today's business date. On a new database it starts at the wall-clock
    date in the platform's time zone (the one time the wall clock is read)."""
    row = BusinessDate.objects.filter(pk=1).only("date").first()
    if row is None:
        row, _ = BusinessDate.objects.get_or_create(pk=1, defaults={"date": timezone.localdate()})
    return row.date


@transaction.atomic
def advance_business_date(*, to: date, acting_user=None) -> date:
    """Move the business date forward to `to` (strictly later than today's).

    Locks the singleton row so two advances serialise; the second sees the
    new date and is refused with Conflict. Audited as a configuration change.
    """
    if not isinstance(to, date):
        raise ValidationFailed("A date is required.", fields={"to": ["Enter a valid date."]})
    get_business_date()  # ensures the row exists
    row = BusinessDate.objects.select_for_update().get(pk=1)
    if to <= row.date:
        raise Conflict(
            f"The business date can only move forward: it is {row.date:%Y-%m-%d}.",
            code="business_date_not_forward",
            fields={"to": [f"Pick a date after {row.date:%Y-%m-%d}."]},
        )
    before = row.date
    row.date = to
    row.save(update_fields=["date", "updated_at"])
    audit.record(
        action="business_date.advanced",
        category=AuditCategory.CONFIG,
        obj=row,
        changes={"date": [before.isoformat(), to.isoformat()]},
        actor=acting_user,
    )
    return to
