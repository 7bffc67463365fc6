"""Modification reads: one modification, and a loan's modifications as plain
rows. Nothing here writes."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from servicing.models import Loan, Modification

MODIFICATION_FIELDS = (
    "id",
    "loan_id",
    "status",
    "effective_date",
    "parameters",
    "impact",
    "requires_approval",
    "note",
    "proposed_by__username",
    "decided_by__username",
    "decided_at",
    "rejection_reason",
    "event_id",
    "created_at",
)


def get_modification(pk: int) -> Modification:
    """Modification `pk` with its loan and the people who proposed and
    decided it; NotFound if none."""
    modification = (
        Modification.objects.select_related("loan", "proposed_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if modification is None:
        raise NotFound(f"No modification {pk}.")
    return modification


def modification_row(pk: int) -> dict:
    """Modification `pk` as a plain row of `MODIFICATION_FIELDS`."""
    return Modification.objects.filter(pk=pk).values(*MODIFICATION_FIELDS).get()


def loan_modification_rows(loan: Loan) -> QuerySet:
    """The loan's modifications as plain rows of `MODIFICATION_FIELDS`."""
    return Modification.objects.filter(loan=loan).values(*MODIFICATION_FIELDS)
