"""The level instalment and the balance recursion of a schedule (internal to
`core.finance.schedule`, whose docstring states the rules).

`amortize()` returns the opening balance, principal part, interest charged
and closing balance of every row. Rows with special rules (the odd first
row, grace and interest-free rows, the last row, clamps, reduce-term
stopping) go through `_step`; the plain rows in between, which are all but a
handful, go through a tight loop that does one multiplication and one
rounding per row.

Exactness of the tight loop: the interest of a row is
round_half_up(balance x rate x num / den) to the cent. Instead of dividing
by `den` on every row it multiplies by rate x num / den computed once at 50
digits rounded towards +infinity (and the product is rounded the same way).
The result is never below the exact value and exceeds it by less than
1e-30, while an exact value with at most 12 decimals in the rate and a
denominator below 10**6 that is not itself a half-cent tie is at least
5e-23 from every tie. So the rounded interest equals the exact one, ties
included (they round up, as half-up wants). Rates with more decimals, or
larger denominators, use the dividing loop.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction

from core.finance._rounding import CENT
from core.finance.daycount import year_basis
from core.finance.enums import Amortization, RepaymentUnit
from core.finance.terms import LoanTerms

ZERO = Decimal("0.00")
_CEILING = Context(prec=50, rounding=ROUND_CEILING)

Columns = tuple[list[Decimal], list[Decimal], list[Decimal], list[Decimal]]
Level = tuple[int, int] | None  # rows [a, b) whose principal + interest is the instalment


def periods_per_year(terms: LoanTerms) -> Fraction:
    """Nominal periods per year of the repayment frequency (see module docstring)."""
    unit, every = terms.repayment_unit, terms.repayment_every
    if unit is RepaymentUnit.MONTHS:
        return Fraction(12, every)
    if unit is RepaymentUnit.SEMI_MONTHS:
        return Fraction(24)
    if unit is RepaymentUnit.WEEKS:
        return Fraction(52, every)
    return Fraction(year_basis(terms.day_count), every)


def level_installment(
    terms: LoanTerms,
    balance: Decimal,
    first_basis: Decimal | None,
    flat_interest: list[Decimal] | None,
) -> Decimal:
    """Unrounded level instalment (see module docstring)."""
    n, grace = terms.term, terms.grace_principal_periods
    count = n - grace
    amortised = balance - terms.balloon_amount
    if flat_interest is not None:
        interest = list(flat_interest)
        if first_basis is not None:
            interest[0] = first_basis
        return (amortised + sum(interest[grace:], ZERO)) / count
    ppy = periods_per_year(terms)
    rate = terms.annual_rate * ppy.denominator / ppy.numerator
    if rate == 0:
        return amortised / count
    free = terms.interest_free_periods
    growth = 1 + rate
    if free <= grace:
        discount = growth ** (-count)
        annuity = (1 - discount) / rate
        return (balance - terms.balloon_amount * discount) / annuity
    annuity = Decimal(0)
    discount = Decimal(1)
    for k in range(grace, n):
        if k >= free:
            discount /= growth
        annuity += discount
    return (balance - terms.balloon_amount * discount) / annuity


def amortize(
    n: int,
    balance: Decimal,
    installment: Decimal | None,
    amortization: Amortization,
    grace: int,
    free: int,
    first_basis: Decimal | None,
    rate: Decimal,
    fractions: list[tuple[int, int]],
    flat_interest: list[Decimal] | None,
    stop_when_paid: bool,
    defer: int = 0,
) -> tuple[Columns, Level]:
    """Columns of the rows, and the span of plain level rows (see `Level`)."""
    columns: Columns = ([], [], [], [])
    level: Level = None
    plain_from = max(grace, free, defer + 1)
    if stop_when_paid or flat_interest is not None:
        plain_from = n - 1
    plain_to = n - 1  # the last row is never plain
    head = min(plain_from, plain_to)
    args = (installment, amortization, grace, free, first_basis, rate, fractions, flat_interest,
            defer, [ZERO])  # fmt: skip
    balance, stopped = _step(columns, range(head), balance, n, stop_when_paid, *args)
    if stopped:
        return columns, None
    if plain_from < plain_to:
        saved = [len(column) for column in columns]
        factors = _factors(rate, fractions[plain_from:plain_to])
        span = (factors, rate, fractions, plain_from, plain_to)
        if amortization is Amortization.EQUAL_INSTALLMENTS:
            end = _level_rows(columns, balance, installment, *span)
            level = (plain_from, plain_to)
        elif amortization is Amortization.EQUAL_PRINCIPAL:
            end = _principal_rows(columns, balance, installment, *span)
        else:
            end = _interest_only_rows(columns, balance, *span)
        if end < 0 or (installment is not None and installment < 0):
            # A coarse instalment overshot the balance: redo with the clamping step.
            for column, size in zip(columns, saved, strict=True):
                del column[size:]
            end, _ = _step(columns, range(plain_from, plain_to), balance, n, False, *args)
            level = None
        balance = end
    _step(columns, range(max(head, plain_to), n), balance, n, stop_when_paid, *args)
    return columns, level


def _factors(rate: Decimal, fractions: list[tuple[int, int]]) -> list[Decimal] | None:
    unique = set(fractions)
    if rate.as_tuple().exponent < -12 or max(den for _, den in unique) >= 10**6:
        return None
    table = {f: _CEILING.divide(rate * f[0], f[1]) for f in unique}
    return list(map(table.__getitem__, fractions))


def _step(columns, rows, balance, n, stop_when_paid, installment, amortization, grace,
          free, first_basis, rate, fractions, flat_interest, defer, deferred):  # fmt: skip
    """General rows; returns (closing balance, whether the loan ended early).

    `deferred` is a one-item list carrying the interest deferred so far
    (grace_interest_periods = `defer`), to keep every payment >= 0.
    """
    opening, principal, charged, closing = columns
    level = amortization is Amortization.EQUAL_INSTALLMENTS
    amortising = level or amortization is Amortization.EQUAL_PRINCIPAL
    last = n - 1
    for k in rows:
        if flat_interest is not None:
            interest = flat_interest[k]
        elif k < free:
            interest = ZERO
        else:
            num, den = fractions[k]
            interest = (balance * rate * num / den).quantize(CENT, ROUND_HALF_UP)
        due = interest
        if k < defer:
            deferred[0] += interest
            due = ZERO
        elif k == defer:
            due = interest + deferred[0]
        if k == last:
            part = balance
        elif k < grace:
            part = ZERO
        elif level:
            part = installment - (first_basis if k == 0 and first_basis is not None else interest)
            if part < -due:
                # An instalment below the interest (negative amortisation) with
                # a short first period or deferred interest: never pay < 0.
                part = -due
        elif amortising:
            part = installment
        else:
            part = ZERO
        paid_off = amortising and k < last and part >= balance
        if paid_off:
            part = balance
        opening.append(balance)
        principal.append(part)
        charged.append(interest)
        balance = balance - part
        closing.append(balance)
        if paid_off and stop_when_paid:
            return balance, True
    return balance, False


def _level_rows(columns, balance, installment, factors, rate, fractions, start, stop) -> Decimal:
    opening, principal, charged, closing = columns
    first = len(closing)
    opening.append(balance)
    quantize = Decimal.quantize
    add_interest, add_part, add_closing = charged.append, principal.append, closing.append
    with localcontext(_CEILING):
        if factors is not None:
            for factor in factors:
                interest = quantize(balance * factor, CENT, ROUND_HALF_UP)
                part = installment - interest
                balance = balance - part
                add_interest(interest)
                add_part(part)
                add_closing(balance)
        else:
            for num, den in fractions[start:stop]:
                interest = quantize(balance * rate * num / den, CENT, ROUND_HALF_UP)
                part = installment - interest
                balance = balance - part
                add_interest(interest)
                add_part(part)
                add_closing(balance)
    opening.extend(closing[first:-1])
    return balance


def _principal_rows(
    columns, balance, installment, factors, rate, fractions, start, stop
) -> Decimal:
    opening, principal, charged, closing = columns
    first = len(closing)
    opening.append(balance)
    quantize = Decimal.quantize
    add_interest, add_closing = charged.append, closing.append
    with localcontext(_CEILING):
        if factors is not None:
            for factor in factors:
                add_interest(quantize(balance * factor, CENT, ROUND_HALF_UP))
                balance = balance - installment
                add_closing(balance)
        else:
            for num, den in fractions[start:stop]:
                add_interest(quantize(balance * rate * num / den, CENT, ROUND_HALF_UP))
                balance = balance - installment
                add_closing(balance)
    principal.extend([installment] * (stop - start))
    opening.extend(closing[first:-1])
    return balance


def _interest_only_rows(columns, balance, factors, rate, fractions, start, stop) -> Decimal:
    opening, principal, charged, closing = columns
    count = stop - start
    with localcontext(_CEILING):
        if factors is not None:
            rounded = {f: (balance * f).quantize(CENT, ROUND_HALF_UP) for f in set(factors)}
            charged.extend([rounded[f] for f in factors])
        else:
            charged.extend(
                (balance * rate * num / den).quantize(CENT, ROUND_HALF_UP)
                for num, den in fractions[start:stop]
            )
    opening.extend([balance] * count)
    principal.extend([ZERO] * count)
    closing.extend([balance] * count)
    return balance
