"""Daily interest accrual and payoff quotes.

Units: balances and amounts in Decimal cents; `annual_rate` a decimal
fraction; dates are `datetime.date`, ranges half-open [start, end) (interest
for the day `end` belongs to the next range).

- `accrued_interest_exact(balance, rate, start, end, day_count)` is the
  unrounded accrual balance x rate x (sum of the daily fractions of the days
  in the range) as an exact `Fraction`; it is additive:
  accrual(a, c) == accrual(a, b) + accrual(b, c). See
  `core.finance.daycount.accrual_fraction` for the daily fractions (for the
  30-day-month conventions every month accrues 30 days).
- `accrue(...)` rounds that once to the cent (half-up by default).
- `payoff(state, as_of)`: outstanding principal + interest outstanding +
  interest accrued from `state.interest_from` to `as_of` + fees + penalties
  - unapplied credit, and the per-diem: principal x rate / the
  convention's year (360, 364, 365, or 366 in a leap year under
  actual/actual), rounded to the cent.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, localcontext
from fractions import Fraction

from core.finance._rounding import ROUNDING_MODES, cents
from core.finance.daycount import (
    THIRTY_DAY_MONTHS,
    DayCount,
    accrual_fraction,
    days_30e_360,
    parse_day_count,
    year_basis,
)
from core.finance.errors import TermsError
from core.money import CENT, ZERO

__all__ = ["AccrualPosition", "Payoff", "accrue", "accrued_interest_exact", "payoff"]


_WIDE = Context(prec=50)
_BASIS = {conv: year_basis(conv) for conv in DayCount}


def _money(value: object, field: str) -> Decimal:
    if isinstance(value, (float, bool)):
        raise TermsError({field: "must be a Decimal or str, not a float"})
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError as exc:
        raise TermsError({field: f"{value!r} is not a number"}) from exc
    if not result.is_finite():
        raise TermsError({field: "must be a finite number"})
    return result


def accrued_interest_exact(
    balance: Decimal,
    annual_rate: Decimal,
    start: date,
    end: date,
    day_count: DayCount | str = DayCount.THIRTY_360,
) -> Fraction:
    """Unrounded interest on `balance` over [start, end) as an exact Fraction."""
    if end < start:
        raise TermsError({"end": "must not be before start"})
    fraction = accrual_fraction(start, end, parse_day_count(day_count))
    amount = Fraction(_money(balance, "balance")) * Fraction(_money(annual_rate, "annual_rate"))
    return amount * fraction


def accrue(
    balance: Decimal,
    annual_rate: Decimal,
    start: date,
    end: date,
    day_count: DayCount | str = DayCount.THIRTY_360,
    rounding: str = "half_up",
) -> Decimal:
    """Interest on `balance` over [start, end), rounded once to the cent.

    Equal to rounding `accrued_interest_exact`; computed in 50-digit Decimal
    arithmetic (exact for every balance and rate with fewer than ~40 digits,
    and a half-cent tie is a terminating decimal, so the division never
    moves a value across one).
    """
    conv = parse_day_count(day_count)
    if type(balance) is not Decimal:
        balance = _money(balance, "balance")
    if type(annual_rate) is not Decimal:
        annual_rate = _money(annual_rate, "annual_rate")
    if end < start:
        raise TermsError({"end": "must not be before start"})
    if conv is DayCount.ACTUAL_ACTUAL:
        exact = accrued_interest_exact(balance, annual_rate, start, end, conv)
        value = _WIDE.divide(Decimal(exact.numerator), Decimal(exact.denominator))
    else:
        if conv in THIRTY_DAY_MONTHS:
            days = days_30e_360(start, end)
        else:
            days = end.toordinal() - start.toordinal()
        product = _WIDE.multiply(_WIDE.multiply(balance, annual_rate), days)
        value = _WIDE.divide(product, _BASIS[conv])
    return value.quantize(CENT, rounding=ROUNDING_MODES[rounding])


@dataclass(frozen=True)
class AccrualPosition:
    """What accrual and payoff start from: a loan's balances on a date (the
    principal, rate and day count interest accrues on, and what is owed
    besides), as servicing holds them. Not the loan's lifecycle state
    (servicing.models.LoanState).

    `interest_from` is the first day whose interest is not yet in
    `interest_outstanding` (the day after the last accrual or due date).
    """

    principal: Decimal
    annual_rate: Decimal
    interest_from: date
    day_count: DayCount = DayCount.THIRTY_360
    interest_outstanding: Decimal = ZERO
    fees_outstanding: Decimal = ZERO
    penalties_outstanding: Decimal = ZERO
    unapplied_credit: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in (
            "principal",
            "annual_rate",
            "interest_outstanding",
            "fees_outstanding",
            "penalties_outstanding",
            "unapplied_credit",
        ):
            value = _money(getattr(self, name), name)
            if value < 0:
                raise TermsError({name: "must not be negative"})
            object.__setattr__(self, name, value)
        object.__setattr__(self, "day_count", parse_day_count(self.day_count))


@dataclass(frozen=True)
class Payoff:
    as_of: date
    principal: Decimal
    interest: Decimal  # outstanding + accrued to as_of
    fees: Decimal
    penalties: Decimal
    unapplied_credit: Decimal
    total: Decimal  # principal + interest + fees + penalties - unapplied credit
    per_diem: Decimal  # principal x rate / days in the convention's year


def payoff(state: AccrualPosition, as_of: date) -> Payoff:
    """Amount that settles the loan on `as_of` (interest accrued up to, not
    including, `as_of`; see the module docstring)."""
    if as_of < state.interest_from:
        raise TermsError({"as_of": "must not be before the state's interest_from date"})
    accrued = accrue(
        state.principal, state.annual_rate, state.interest_from, as_of, state.day_count
    )
    interest = state.interest_outstanding + accrued
    basis = year_basis(state.day_count)
    if state.day_count is DayCount.ACTUAL_ACTUAL and calendar.isleap(as_of.year):
        basis = 366
    with localcontext() as ctx:
        ctx.prec = 50
        per_diem = cents(state.principal * state.annual_rate / basis)
    total = (
        state.principal
        + interest
        + state.fees_outstanding
        + state.penalties_outstanding
        - state.unapplied_credit
    )
    return Payoff(
        as_of=as_of,
        principal=state.principal,
        interest=interest,
        fees=state.fees_outstanding,
        penalties=state.penalties_outstanding,
        unapplied_credit=state.unapplied_credit,
        total=total,
        per_diem=per_diem,
    )
