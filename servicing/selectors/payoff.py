"""Payoff reads: a loan's payoff quotes and one quote. Nothing here writes."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from servicing.models import Loan, PayoffQuote


def recent_payoff_quotes(loan: Loan, *, limit: int = 10) -> QuerySet[PayoffQuote]:
    """The loan's latest payoff quotes, without their letters (PDF)."""
    return PayoffQuote.objects.filter(loan=loan).defer("pdf")[:limit]


def get_payoff_quote(pk: int) -> PayoffQuote:
    """Quote `pk` with its loan and customer, without its letter; NotFound if none."""
    quote = (
        PayoffQuote.objects.select_related("loan", "loan__customer").defer("pdf").filter(pk=pk)
    ).first()
    if quote is None:
        raise NotFound(f"No payoff quote {pk}.")
    return quote


def get_payoff_letter(pk: int) -> PayoffQuote:
    """Quote `pk` with its letter (PDF) and its loan; NotFound if none."""
    quote = PayoffQuote.objects.select_related("loan").filter(pk=pk).first()
    if quote is None:
        raise NotFound(f"No payoff quote {pk}.")
    return quote


def get_loan_payoff_quote(loan: Loan, pk: int) -> PayoffQuote:
    """Quote `pk` of this loan, with its letter; NotFound for another loan's."""
    quote = PayoffQuote.objects.filter(loan=loan, pk=pk).first()
    if quote is None:
        raise NotFound(f"No payoff quote {pk} on loan {loan.loan_number}.")
    return quote
