"""The level instalment and the balance recursion of a schedule (internal to
`core.finance.schedule`, whose docstring states the rules).

`amortize()` returns the opening balance, principal part, interest charged
and closing balance of every row. Rows with special rules (the odd first
row, grace and interest-free rows, the last row, clamps, reduce-term
stopping) go through `_step`; the plain rows in between, which are all but a
handful, go through a tight loop that does one multiplication and one
rounding per row. Level (annuity) plain rows first try `_level_rows_in_cents`,
which runs that recursion on integer cents, where the half-up rounding is
one floor division, and then builds the Decimal columns with C-level maps;
it gives the same Decimals as the tight loop (see its docstring) and
declines, for the tight loop to run, wherever that is not proven.

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
from itertools import accumulate, repeat
from math import gcd, log10
from operator import mul, sub

from core.finance.daycount import year_basis
from core.finance.enums import Amortization, RepaymentUnit
from core.finance.terms import LoanTerms
from core.money import CENT, ZERO

_CEILING = Context(prec=50, rounding=ROUND_CEILING)

Columns = tuple[list[Decimal], list[Decimal], list[Decimal], list[Decimal]]
Level = tuple[int, int] | None  # rows [a, b) whose principal + interest is the instalment


def periods_per_year(terms: LoanTerms) -> Fraction:
    """Nominal periods per year of the repayment frequency (see module docstring)."""
    return Fraction(*_periods_per_year(terms))


def _periods_per_year(terms: LoanTerms) -> tuple[int, int]:
    """`periods_per_year` as a reduced (numerator, denominator), without a Fraction."""
    unit, every = terms.repayment_unit, terms.repayment_every
    if unit is RepaymentUnit.MONTHS:
        periods = 12
    elif unit is RepaymentUnit.SEMI_MONTHS:
        return 24, 1
    elif unit is RepaymentUnit.WEEKS:
        periods = 52
    else:
        periods = year_basis(terms.day_count)
    common = gcd(periods, every)
    return periods // common, every // common


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
    periods, years = _periods_per_year(terms)
    rate = terms.annual_rate * years / periods
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


def period_rates_installment(
    terms: LoanTerms, balance: Decimal, fractions: list[tuple[int, int]]
) -> Decimal:
    """Unrounded level instalment over each period's own rate (installment_method
    "period_rates"): r_k = annual_rate x num_k / den_k, and the instalment is
    (balance - balloon x D) / sum of D_k over the amortising periods k, where
    D_k = prod over amortising j <= k of 1 / (1 + r_j) and D the last D_k
    (interest-free periods have r = 0). In the caller's 50-digit context."""
    n, grace, free = terms.term, terms.grace_principal_periods, terms.interest_free_periods
    rate = terms.annual_rate
    annuity = Decimal(0)
    discount = Decimal(1)
    for k in range(grace, n):
        if k >= free:
            num, den = fractions[k]
            discount = discount * den / (den + rate * num)
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
) -> tuple[Columns, Level, Decimal | None]:
    """Columns of the rows, the span of plain level rows (see `Level`), and the
    sum of those rows' interest when it was computed on integer cents (each
    then below 10**18 in magnitude; else None)."""
    columns: Columns = ([], [], [], [])
    level: Level = None
    level_interest: Decimal | None = None
    plain_from = max(grace, free, defer + 1)
    if stop_when_paid or flat_interest is not None:
        plain_from = n - 1
    plain_to = n - 1  # the last row is never plain
    head = min(plain_from, plain_to)
    args = (installment, amortization, grace, free, first_basis, rate, fractions, flat_interest,
            defer, [ZERO])  # fmt: skip
    balance, stopped = _step(columns, range(head), balance, n, stop_when_paid, *args)
    if stopped:
        return columns, None, None
    if plain_from < plain_to:
        saved = [len(column) for column in columns]
        plain = fractions[plain_from:plain_to]
        if amortization is Amortization.EQUAL_INSTALLMENTS:
            in_cents = _level_rows_in_cents(columns, balance, installment, rate, plain)
            if in_cents is None:
                span = (_factors(rate, plain), rate, fractions, plain_from, plain_to)
                end = _level_rows(columns, balance, installment, *span)
            else:
                end, level_interest = in_cents
            level = (plain_from, plain_to)
        else:
            span = (_factors(rate, plain), rate, fractions, plain_from, plain_to)
            if amortization is Amortization.EQUAL_PRINCIPAL:
                end = _principal_rows(columns, balance, installment, *span)
            else:
                end = _interest_only_rows(columns, balance, *span)
        if end < 0 or (installment is not None and installment < 0):
            # A coarse instalment overshot the balance: redo with the clamping step.
            for column, size in zip(columns, saved, strict=True):
                del column[size:]
            end, _ = _step(columns, range(plain_from, plain_to), balance, n, False, *args)
            level = level_interest = None
        balance = end
    _step(columns, range(max(head, plain_to), n), balance, n, stop_when_paid, *args)
    return columns, level, level_interest


def _factors(rate: Decimal, fractions: list[tuple[int, int]]) -> list[Decimal] | None:
    first = fractions[0]
    if fractions.count(first) == len(fractions):  # one period length (30-day months)
        if rate.as_tuple().exponent < -12 or first[1] >= 10**6:
            return None
        return [_CEILING.divide(rate * first[0], first[1])] * len(fractions)
    unique = set(fractions)
    if rate.as_tuple().exponent < -12 or max(den for _, den in unique) >= 10**6:
        return None
    table = {f: _CEILING.divide(rate * f[0], f[1]) for f in unique}
    return list(map(table.__getitem__, fractions))


def _cents(amount: Decimal) -> int:
    """`amount` (two decimals) in cents, exactly and whatever the context."""
    numerator, denominator = amount.as_integer_ratio()
    return numerator * 100 // denominator


def _level_rows_in_cents(
    columns: Columns,
    balance: Decimal,
    installment: Decimal,
    rate: Decimal,
    fractions: list[tuple[int, int]],
) -> tuple[Decimal, Decimal] | None:
    """The plain level rows with the balance recursion in integer cents: their
    closing balance and interest total, or None (nothing appended) where that
    is not known to equal `_level_rows`.

    interest = round_half_up(cents x rate x num / den) is computed exactly
    with integers, which is what the factor loop of `_level_rows` yields
    (module docstring) under the same conditions: a rate with at most 12
    decimals, 0 < den < 10**6, and here also rate, num >= 0 and a balance and
    instalment with exactly two decimals (so the Decimal columns, built below
    with the very operations `_level_rows` uses, have the same exponents).
    The integers are kept below 10**20 cents by an a-priori bound (each row
    grows |balance| at most by the factor 1 + max rate x num / den plus the
    instalment and a cent; a float estimate, with a margin of 10x), where
    every Decimal operation of `_level_rows` is exact and its products are
    within 1e-27 of exact; anything bigger (runaway
    negative amortisation) goes through `_level_rows` as before.
    A balance that turns negative stays negative (interest <= 0 then), so
    the caller's end < 0 check discards such rows whichever loop made them.
    """
    if not (balance.same_quantum(CENT) and installment.same_quantum(CENT)):
        return None
    if rate < 0 or rate.as_tuple().exponent < -12:
        return None
    count = len(fractions)
    first = fractions[0]
    constant = fractions.count(first) == count
    unique = (first,) if constant else set(fractions)
    ratio_num, ratio_den = rate.as_integer_ratio()
    table = {}
    largest = 0.0
    for fraction in unique:
        num, den = fraction
        if num < 0 or not 0 < den < 10**6:
            return None
        # interest cents = balance cents x a / b, rounded half-up: (2ca + b) // 2b
        a, b = ratio_num * num, ratio_den * den
        common = gcd(a, b)
        a, b = a // common, b // common
        table[fraction] = (2 * a, b, 2 * b)
        largest = max(largest, a / b)
    start = _cents(balance)
    level = _cents(installment)
    growth = log10(abs(start) + count * (abs(level) + 1) + 1) + (count + 1) * log10(1 + largest)
    if growth >= 19:
        return None
    interest: list[int] = []
    add = interest.append
    if constant:
        times, half, divisor = table[first]
        scaled = start * times + half  # cents x times + half, updated row by row
        for _ in repeat(None, count):
            due = scaled // divisor
            scaled += (due - level) * times
            add(due)
    else:
        cents = start
        for times, half, divisor in map(table.__getitem__, fractions):
            due = (cents * times + half) // divisor
            cents = cents - level + due
            add(due)
    opening, principal, charged, closing = columns
    with localcontext(_CEILING):
        amounts = list(map(mul, repeat(CENT, count), interest))
        parts = list(map(sub, repeat(installment, count), amounts))
        balances = list(accumulate(parts, sub, initial=balance))
        # interest = instalment - principal part, whose sum telescopes.
        total = installment * count - (balance - balances[-1])
    charged.extend(amounts)
    principal.extend(parts)
    opening.extend(balances[:-1])
    closing.extend(balances[1:])
    return balances[-1], total


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
