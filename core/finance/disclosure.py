"""Truth in Lending (Regulation Z 1026.18) figures from the payment schedule.

- amount financed = loan amount (principal + financed fees) - prepaid finance
  charges (fees marked `finance_charge`, withheld, financed or paid
  separately), 1026.18(b);
- total of payments = sum of the scheduled payments, 1026.18(h);
- finance charge = total of payments - amount financed, 1026.18(d);
- APR by Appendix J's actuarial method (`core.finance.appendix_j`) with the amount
  financed advanced on the disbursement date and the scheduled payments as
  the payment stream, 1026.22(a);
- payment summary = runs of consecutive equal payments (count, amount, first
  due date), 1026.18(g).

`TilaDisclosure.apr` is the APR as a decimal fraction with 8 places
(Decimal("0.12000000") for 12 %); `apr_percent` gives the percentage with 4
places and `disclosed_apr_percent()` the figure rounded for the form (two
places by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby

from core.finance.appendix_j import AprResult, apr
from core.finance.errors import TermsError
from core.finance.schedule import Schedule, build_schedule
from core.finance.terms import LoanTerms

__all__ = ["PaymentGroup", "TilaDisclosure", "tila"]

_APR_PLACES = Decimal("1e-8")


@dataclass(frozen=True)
class PaymentGroup:
    count: int
    amount: Decimal
    first_due_date: date


@dataclass(frozen=True)
class TilaDisclosure:
    amount_financed: Decimal
    finance_charge: Decimal
    total_of_payments: Decimal
    apr: Decimal  # decimal fraction, 8 places
    payment_summary: tuple[PaymentGroup, ...]
    apr_detail: AprResult

    @property
    def apr_percent(self) -> Decimal:
        """The APR in percent with 4 decimal places."""
        return (self.apr * 100).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    def disclosed_apr_percent(self, places: int = 2) -> Decimal:
        """The APR in percent rounded half-up to `places` decimals for the form."""
        return (self.apr * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def tila(terms_or_schedule: LoanTerms | Schedule) -> TilaDisclosure:
    """Regulation Z disclosure figures of a loan (see the module docstring)."""
    schedule = (
        terms_or_schedule
        if isinstance(terms_or_schedule, Schedule)
        else build_schedule(terms_or_schedule)
    )
    terms = schedule.terms
    amount_financed = schedule.loan_amount - terms.prepaid_finance_charges
    if amount_financed <= 0:
        raise TermsError({"fees": "prepaid finance charges leave no amount financed"})
    total = schedule.total_payments
    stream = [(d, p) for d, p in zip(schedule.due_dates, schedule.payments, strict=True) if p > 0]
    detail = apr([(terms.disbursement_date, amount_financed)], stream)
    summary = []
    for amount, group in groupby(stream, key=lambda item: item[1]):
        items = list(group)
        summary.append(PaymentGroup(count=len(items), amount=amount, first_due_date=items[0][0]))
    return TilaDisclosure(
        amount_financed=amount_financed,
        finance_charge=total - amount_financed,
        total_of_payments=total,
        apr=detail.rate.quantize(_APR_PLACES, ROUND_HALF_UP),
        payment_summary=tuple(summary),
        apr_detail=detail,
    )
