"""Schedule reads: a loan's instalments with what was due and paid.
Nothing here writes."""

from django.db.models import F, QuerySet

from servicing.models import Loan


def installments(loan: Loan) -> QuerySet:
    """The loan's schedule with what was paid, annotated with charges_due
    (fees + penalties), total_due_amount, total_paid_amount and outstanding."""
    due = F("principal_due") + F("interest_due") + F("fees_due") + F("penalties_due")
    paid = F("principal_paid") + F("interest_paid") + F("fees_paid") + F("penalties_paid")
    return loan.installments.annotate(
        charges_due=F("fees_due") + F("penalties_due"),
        total_due_amount=due,
        total_paid_amount=paid,
        outstanding=due - paid,
    ).order_by("number")


def schedule_rows(loan: Loan) -> list[dict]:
    """The loan's instalments (see `installments`) as plain rows with
    total_due, total_paid and outstanding: one query."""
    return [
        {**row, "total_due": row["total_due_amount"], "total_paid": row["total_paid_amount"]}
        for row in installments(loan).values()
    ]
