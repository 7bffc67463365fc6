"""Statement reads: a loan's statements and one statement. Nothing here writes."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from servicing.models import Loan, Statement

STATEMENT_LIST_FIELDS = (
    "id",
    "statement_date",
    "period_start",
    "period_end",
    "amount_due",
    "due_date",
    "sha256",
)


def loan_statements(loan: Loan) -> QuerySet[Statement]:
    """The loan's statements, newest first, without their PDFs."""
    return Statement.objects.filter(loan=loan).defer("pdf").order_by("-statement_date")


def loan_statement_rows(loan: Loan) -> QuerySet:
    """The loan's statements, newest first, as plain rows of `STATEMENT_LIST_FIELDS`."""
    return loan_statements(loan).values(*STATEMENT_LIST_FIELDS)


def get_loan_statement(loan: Loan, pk: int) -> Statement:
    """Statement `pk` of this loan, with its PDF; NotFound for another loan's."""
    statement = Statement.objects.filter(loan=loan, pk=pk).first()
    if statement is None:
        raise NotFound(f"No statement {pk} on loan {loan.loan_number}.")
    return statement


def get_statement(pk: int) -> Statement:
    """Statement `pk` with its loan and PDF; NotFound if none."""
    statement = Statement.objects.select_related("loan").filter(pk=pk).first()
    if statement is None:
        raise NotFound(f"No statement {pk}.")
    return statement
