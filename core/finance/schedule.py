"""Repayment schedules from loan terms.

Units and rules (see `core.finance.terms` for the inputs, `core.finance.dates`
for due dates):

- Interest of a period = opening balance x annual_rate x year fraction of
  the period under `day_count`, rounded half-up to the cent (flat method:
  the original balance instead of the opening balance). Under the 30-day
  month conventions ("30/360", "30E/360") a regular period of N months is
  exactly N/12 of a year and a regular semi-month 1/24, whatever the month
  lengths (so a month-end schedule still charges rate/12 for February);
  other periods use the convention's year fraction of their dates.
- Level instalment (equal_installments, declining balance): computed with
  the nominal periodic rate r = annual_rate / periods per year (12/N for
  months, 24 for semi-months, 52/N for weeks, B/N for days where B is the
  convention's year of 360, 364 or 365 days) over the amortising periods
  (term - grace_principal_periods; interest-free periods discount at 0),
  net of the balloon's present value, then rounded to `installment_multiple`
  with `rounding`. Each row's principal is instalment - that row's actual
  interest (day count applied), and the last instalment takes whatever
  balance remains, which absorbs rounding and day-count differences.
  Flat method: instalment = (amortised principal + flat interest of the
  amortising periods) / their number.
- Level instalment over each period's own rate (installment_method
  "period_rates", Apache Fineract's progressive schedule): period k's rate is
  r_k = annual_rate x its year fraction under `day_count` (actual days / 365
  under actual/365, the ISDA split under actual/actual, 1/12 for a regular
  30/360 month, the odd first period's own fraction), interest-free periods
  0; the instalment is (amount - balloon x D) / sum of D_k over the
  amortising periods, D_k = prod_{j <= k} 1 / (1 + r_j) (D the last), rounded
  to `installment_multiple` with `rounding`. The odd first period is in the
  annuity, so there is no odd-days adjustment. Rows and the last
  instalment's residue as above. "period_rates_adjusted" then applies
  Fineract's EMI adjustment once: with m amortising instalments (m >= 2), if
  the last payment differs from the instalment by more than floor(m / 2)
  cents, the instalment moves by difference / m (to the cent with
  `rounding`, then to the multiple) and the new schedule is kept only if its
  last payment is strictly closer to its instalment and it does not repay
  the loan before the last instalment (a coarse multiple can). (Fineract splits a
  period across a year end counting 31 December in the new year, so an
  actual/actual period from 12 December differs from the ISDA split here by
  one day's rate; Fineract rounds interest half-even, we half-up.)
- Equal principal: principal part = (loan amount - balloon) / amortising
  periods rounded to the cent with `rounding` (equal_principal_rounding
  "cents": `installment_multiple` applies to level instalments only;
  "installment_multiple", the rule before issue 13 that stored loans keep:
  rounded to the multiple); the last instalment takes the residue; payment =
  principal + interest. Interest only: interest each period, all principal
  in the last instalment.
- Odd first period (first payment date not exactly one period after the
  disbursement): its interest is computed on its actual length. For level
  instalments (annuity and flat) the instalment and the rest of the schedule
  are those of a regular loan and the difference between the odd period's
  interest and a regular period's interest (the "odd-days interest") is added
  to, or for a short period deducted from, the first payment; the first
  principal part is the regular one. Equal-principal and interest-only rows
  just carry the actual interest.
- grace_principal_periods: the first N instalments pay no principal.
  grace_interest_periods: interest is charged in the first N periods
  (`interest_charged`) but nothing is due; all of it is due with instalment
  N + 1 (`interest`). It is not capitalised. interest_free_periods: no
  interest is charged in the first N periods.
- Balloon: the level instalment amortises the loan down to
  `balloon_amount`, and the last instalment pays the balloon on top.
- Rows are never allowed to take the balance below zero: a principal part
  larger than the balance (an instalment rounded up, by a coarse multiple or
  over a long high-rate term, can repay the loan early) is cut to the
  balance and later rows are 0.
  An instalment smaller than a period's interest amortises negatively (a
  negative principal part; the balance grows), and no payment is negative.
  An instalment that rounds to zero is refused (installment_multiple).
- Fees: withheld and paid-separately fees are outside the schedule; financed
  fees are part of the opening balance (`loan_amount`). The rows' fee column
  carries fees due with an instalment (non-zero only after re-amortisation
  carries outstanding fees into the first new instalment).

The schedule stores its columns as tuples and materialises `rows` (immutable
`ScheduleRow`s) on first access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, getcontext, localcontext
from functools import cached_property
from itertools import repeat
from operator import add
from typing import NamedTuple

from core.finance._balance import (
    amortize,
    level_installment,
    period_rates_installment,
    periods_per_year,
)
from core.finance._rounding import cents, to_multiple
from core.finance.dates import DueDateRule, due_date_rule
from core.finance.daycount import (
    THIRTY_DAY_MONTHS,
    DayCount,
    days_30_360_us,
    days_30e_360,
    year_basis,
    year_fraction_exact,
)
from core.finance.enums import (
    Amortization,
    InstallmentMethod,
    InterestMethod,
    PrincipalRounding,
    RepaymentUnit,
)
from core.finance.errors import TermsError
from core.finance.terms import LoanTerms
from core.money import CENT, ZERO

__all__ = ["Schedule", "ScheduleRow", "build_schedule", "periods_per_year"]


class ScheduleRow(NamedTuple):
    """One instalment. Amounts in cents; `days` = calendar days in the period.

    `interest` is the interest due with this instalment; `interest_charged` the
    interest accrued over its period (they differ only under grace_interest).
    payment = principal + interest + fees.

    Immutable, and built as a tuple (a schedule builds one per instalment, and
    a tuple is several times cheaper to make than a frozen dataclass). It
    still compares like the value object it was: equal only to another
    `ScheduleRow` with equal fields (never to a plain tuple), hashed as the
    tuple of its fields, and not ordered.
    """

    number: int
    due_date: date
    period_start: date
    days: int
    opening_balance: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal
    payment: Decimal
    closing_balance: Decimal
    interest_charged: Decimal

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)
        # False, not NotImplemented, for other tuples: their reflected == would compare items.
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__ne__(self, other)
        return True if isinstance(other, tuple) else NotImplemented

    __hash__ = tuple.__hash__

    def _unordered(self, other: object) -> bool:
        return NotImplemented

    __lt__ = __le__ = __gt__ = __ge__ = _unordered


_new_row = tuple.__new__
_new_object = object.__new__


@dataclass(frozen=True)
class Schedule:
    """A repayment schedule: per-instalment columns, totals and the terms.

    `installment` is the level instalment (equal_installments), the regular
    principal part (equal_principal) or None (interest_only).
    `loan_amount` is the opening balance (principal + financed fees) and
    `disbursed_amount` the cash paid out (principal - withheld fees).
    """

    terms: LoanTerms
    installment: Decimal | None
    loan_amount: Decimal
    disbursed_amount: Decimal
    due_dates: tuple[date, ...]
    days: tuple[int, ...]
    opening_balances: tuple[Decimal, ...]
    principal_parts: tuple[Decimal, ...]
    interest_parts: tuple[Decimal, ...]
    interest_charged: tuple[Decimal, ...]
    fee_parts: tuple[Decimal, ...]
    payments: tuple[Decimal, ...]
    closing_balances: tuple[Decimal, ...]
    total_principal: Decimal
    total_interest: Decimal
    total_fees: Decimal
    total_payments: Decimal

    def __len__(self) -> int:
        return len(self.due_dates)

    @cached_property
    def rows(self) -> tuple[ScheduleRow, ...]:
        due = self.due_dates
        columns = zip(
            range(1, len(due) + 1),
            due,
            (self.terms.disbursement_date, *due[:-1]),
            self.days,
            self.opening_balances,
            self.principal_parts,
            self.interest_parts,
            self.fee_parts,
            self.payments,
            self.closing_balances,
            self.interest_charged,
            strict=True,
        )
        # ScheduleRow(*columns) for every row, minus the per-row argument handling.
        return tuple(map(_new_row, repeat(ScheduleRow), columns))


_LIMIT = Decimal(10) ** 19


def _sums_exactly(charged: list[Decimal], level_rows: tuple[int, int]) -> bool:
    """Whether summing `charged` in the current context is exact in any order
    (so the level rows' total can stand in for theirs). Each level row is in
    cents and below 10**19 (see `amortize`); so must the other rows be. With
    at most 10**4 rows every partial sum is below 10**23 with two decimals:
    25 digits, exact at the default precision of 28. Not under ROUND_FLOOR,
    where an exact zero sum may be -0."""
    ctx = getcontext()
    if ctx.prec < 28 or ctx.Emax < 28 or ctx.Emin > -28 or ctx.rounding == ROUND_FLOOR:
        return False
    first, stop = level_rows
    if len(charged) > 10**4:
        return False
    for value in (*charged[:first], *charged[stop:]):
        if not (-_LIMIT < value < _LIMIT and value.same_quantum(CENT)):
            return False
    return True


def build_schedule(terms: LoanTerms) -> Schedule:
    """The repayment schedule of `terms` (pure; see the module docstring)."""
    return _build(terms)


def _period_fractions(
    terms: LoanTerms, rule: DueDateRule, due: list[date]
) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """(numerator, denominator) of each period's year fraction, and of the
    regular period ending on the first due date if the first period is odd."""
    conv = terms.day_count
    start0 = terms.disbursement_date
    odd = rule.previous() != start0
    regular: tuple[int, int] | None = None
    if conv in THIRTY_DAY_MONTHS and terms.repayment_unit is RepaymentUnit.MONTHS:
        regular = (terms.repayment_every, 12)
    elif conv in THIRTY_DAY_MONTHS and terms.repayment_unit is RepaymentUnit.SEMI_MONTHS:
        regular = (1, 24)
    if regular is not None:
        fractions = [regular] * len(due)
        if odd:
            first = year_fraction_exact(start0, due[0], conv)
            fractions[0] = (first.numerator, first.denominator)
            return fractions, regular
        return fractions, None
    starts = [start0, *due[:-1]]
    if conv is DayCount.ACTUAL_ACTUAL:
        fractions = []
        for start, end in zip(starts, due, strict=True):
            yf = year_fraction_exact(start, end, conv)
            fractions.append((yf.numerator, yf.denominator))
    elif conv is DayCount.THIRTY_360:
        fractions = [(days_30_360_us(s, e), 360) for s, e in zip(starts, due, strict=True)]
    elif conv is DayCount.THIRTY_E_360:
        fractions = [(days_30e_360(s, e), 360) for s, e in zip(starts, due, strict=True)]
    else:
        basis = year_basis(conv)
        fractions = [
            (e.toordinal() - s.toordinal(), basis) for s, e in zip(starts, due, strict=True)
        ]
    if odd:
        yf = year_fraction_exact(rule.previous(), due[0], conv)
        return fractions, (yf.numerator, yf.denominator)
    return fractions, None


def _last_difference(installment: Decimal, columns) -> Decimal:
    """The last payment (principal + interest charged) less the instalment."""
    principal, charged = columns[1], columns[2]
    return principal[-1] + charged[-1] - installment


def _adjust_installment(terms: LoanTerms, installment: Decimal, built, args):
    """Fineract's EMI adjustment (installment_method "period_rates_adjusted"):
    with m amortising instalments (m >= 2), when the last payment differs from
    the instalment by more than floor(m / 2) cents, move the instalment by
    that difference / m (to the cent with `rounding`, then to the instalment
    multiple) and keep the new instalment only if it brings the last payment
    strictly closer to the instalment without repaying the loan before the
    last instalment. One step, no iteration. Returns the
    instalment and amortize's result to use."""
    columns = built[0]
    count = terms.term - terms.grace_principal_periods
    half = count // 2
    if len(columns[1]) != terms.term or half == 0:
        return installment, built
    difference = _last_difference(installment, columns)
    if difference == 0 or abs(difference) * 100 <= half:
        return installment, built
    step = cents(difference / count, terms.rounding)
    candidate = to_multiple(installment + step, terms.installment_multiple, terms.rounding)
    if candidate == installment or candidate <= 0:
        return installment, built
    rebuilt = amortize(terms.term, terms.loan_amount, candidate, *args)
    if len(rebuilt[0][1]) != terms.term or rebuilt[0][3][-2] <= 0:
        # (a candidate that repays the loan before the last instalment is not taken)
        return installment, built
    if abs(_last_difference(candidate, rebuilt[0])) < abs(difference):
        return candidate, rebuilt
    return installment, built


def _build(
    terms: LoanTerms,
    *,
    rule: DueDateRule | None = None,
    fixed_installment: Decimal | None = None,
    carried_interest: Decimal = ZERO,
    carried_fees: Decimal = ZERO,
) -> Schedule:
    if rule is None:
        rule = due_date_rule(
            terms.repayment_unit,
            terms.repayment_every,
            terms.disbursement_date,
            terms.first_payment_date,
        )
    n = terms.term
    due = rule.dates(n)
    fractions, regular_first = _period_fractions(terms, rule, due)
    balance0 = terms.loan_amount
    rate = terms.annual_rate
    amortization = terms.amortization
    flat = terms.interest_method is InterestMethod.FLAT
    free = terms.interest_free_periods
    grace = terms.grace_principal_periods
    level = amortization is Amortization.EQUAL_INSTALLMENTS
    method = terms.installment_method
    period_rates = level and method is not InstallmentMethod.NOMINAL_RATE
    with localcontext() as ctx:
        # 50 digits keep balance x rate x days exact before the single rounding.
        ctx.prec = 50
        first_basis = None
        if regular_first is not None and level and not period_rates:
            first_basis = (
                ZERO
                if free > 0
                else (balance0 * rate * regular_first[0] / regular_first[1]).quantize(
                    CENT, ROUND_HALF_UP
                )
            )
        flat_interest = None
        if flat:
            flat_interest = [
                ZERO if k < free else (balance0 * rate * num / den).quantize(CENT, ROUND_HALF_UP)
                for k, (num, den) in enumerate(fractions)
            ]
        installment: Decimal | None = None
        if fixed_installment is not None:
            installment = fixed_installment
        elif period_rates:
            raw = period_rates_installment(terms, balance0, fractions)
            installment = to_multiple(raw, terms.installment_multiple, terms.rounding)
        elif level:
            raw = level_installment(terms, balance0, first_basis, flat_interest)
            installment = to_multiple(raw, terms.installment_multiple, terms.rounding)
        elif amortization is Amortization.EQUAL_PRINCIPAL:
            raw = (balance0 - terms.balloon_amount) / (n - grace)
            if terms.equal_principal_rounding is PrincipalRounding.CENTS:
                installment = cents(raw, terms.rounding)
            else:
                installment = to_multiple(raw, terms.installment_multiple, terms.rounding)
        if installment is not None and installment <= 0 and fixed_installment is None:
            raise TermsError(
                {"installment_multiple": "rounds the instalment to zero; use a smaller multiple"}
            )
        args = (amortization, grace, free, first_basis, rate, fractions, flat_interest,
                fixed_installment is not None, terms.grace_interest_periods)  # fmt: skip
        columns, level_rows, level_interest = amortize(n, balance0, installment, *args)
        if (
            method is InstallmentMethod.PERIOD_RATES_ADJUSTED
            and period_rates
            and fixed_installment is None
        ):
            installment, (columns, level_rows, level_interest) = _adjust_installment(
                terms, installment, (columns, level_rows, level_interest), args
            )
    opening, principal, charged, closing = columns
    count = len(principal)
    due = due[:count]
    if carried_interest:
        charged[0] += carried_interest
    interest = charged  # the interest due, which differs only under grace_interest
    fees = (ZERO,) * count
    if carried_fees:
        fees = (carried_fees, *fees[1:])
    deferred = min(terms.grace_interest_periods, count - 1)
    if deferred > 0:
        interest = list(charged)
        interest[deferred] += sum(interest[:deferred], ZERO)
        for k in range(deferred):
            interest[k] = ZERO
    if level_rows is None:
        payments = list(map(add, principal, interest))
    else:
        # Plain level rows pay exactly the instalment; work out only the others.
        payments = [installment] * count
        begin = max(level_rows[0], deferred + 1 if deferred > 0 else 0)
        for k in (*range(min(begin, count)), *range(level_rows[1], count)):
            payments[k] = principal[k] + interest[k]
    if carried_fees:
        payments[0] += carried_fees
    days = rule.gaps(due)
    days.insert(0, due[0].toordinal() - terms.disbursement_date.toordinal())
    # principal parts telescope: their sum is the opening balance less the final one.
    total_principal = balance0 - closing[-1]
    if level_interest is not None and _sums_exactly(charged, level_rows):
        # The same total as sum(charged, ZERO): every partial sum is exact either way.
        first, stop = level_rows
        total_interest = sum(charged[:first], ZERO) + level_interest + sum(charged[stop:], ZERO)
    else:
        total_interest = sum(charged, ZERO)
    total_payments = total_principal + total_interest + carried_fees
    interest_charged = tuple(charged)
    # Schedule(...) without the frozen dataclass __init__'s 17 object.__setattr__ calls.
    schedule = _new_object(Schedule)
    schedule.__dict__.update(
        terms=terms,
        installment=installment,
        loan_amount=balance0,
        disbursed_amount=terms.disbursed_amount,
        due_dates=tuple(due),
        days=tuple(days),
        opening_balances=tuple(opening),
        principal_parts=tuple(principal),
        interest_parts=interest_charged if interest is charged else tuple(interest),
        interest_charged=interest_charged,
        fee_parts=fees,
        payments=tuple(payments),
        closing_balances=tuple(closing),
        total_principal=total_principal,
        total_interest=total_interest,
        total_fees=carried_fees,
        total_payments=total_payments,
    )
    return schedule
