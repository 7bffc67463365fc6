"""Annual percentage rate by the actuarial method of Regulation Z, Appendix J.

`apr(advances, payments)` solves Appendix J's general equation (b)(8): the
advances discounted to the beginning of the term equal the payments
discounted to it, each amount discounted by (1 + f*i)^-1 * (1 + i)^-t, where
t is the number of full unit-periods and f the fraction of a unit-period from
the beginning of the term (the earliest advance) to the advance or payment;
APR = i x unit-periods per year ((b)(1)).

Unit-period ((b)(4)): the periods are the intervals between payments,
between advances, and from the beginning of the term to the first payment
and to the first later advance. Each is classified as a whole number of
months (same nominal day; see below), a semi-month (13-17 days between two
dates that are a month apart from their neighbours), a whole number of weeks
or a number of days. The unit-period is the common period (one occurring
more than once) that occurs most often, the shorter one on a tie, never more
than a year; with no common period, the average period rounded to the nearest
standard interval (day, week, semi-month, month, multiples of a week or a
month up to a year), the shorter one on a tie. A single-advance,
single-payment transaction ((b)(4)(ii), (b)(5)(vi)-(vii)) uses its term as
the unit-period when it is under a year: 12 / months per year if the term is
whole months, else 365 / days; a longer one uses a year.

Full unit-periods and fractions ((b)(5)), from the beginning of the term to
the date, with months measured back from the later date ((b)(3)(iv): a
series on the last day of the month counts last day to last day; a series on
the 29th or 30th uses the last day of February):

- month: t = full months, f = remaining days / 30;
- semi-month or 2..11 months: days = 30 x full months + remaining days,
  divided by 15 or by 30 x months: t = quotient, f = remainder / divisor;
- year: t = full years (12 months); f = remaining months / 12 when the rest
  is whole months, else remaining days / 365;
- days or weeks: actual days divided by the unit's days.

Unit-periods per year: 12 / months, 24 for semi-months, 52 / weeks, 365 /
days. A payment series is anchored on its latest day of month (31 for a
month-end series); a clamped month end (Feb 28 in a series on the 30th)
stands for the anchor day when counting months. A fraction of 30/30 is the
same discount as one more full month and is counted as such.

Solving: the payments are grouped into runs of equal amount and fraction at
consecutive t (a level loan is one or two runs), each summed in closed form;
a float Newton iteration finds i, then one Newton step evaluated in 40-digit
Decimal arithmetic refines it, leaving an error far below 1e-12 in the rate.
`AprResult.rate` is the annual rate as a fraction with 12 decimal places;
`AprResult.percent` the percentage with 4. With advances after payments the
equation can have two roots; the one reached from the simple-interest
estimate is returned (AprError when there is none).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import groupby

from core.finance.errors import AprError, TermsError
from core.finance.unitperiod import (
    UnitPeriod,
    _flow_times,
    _Stream,
    _unit_period,
    periods_from_start,
    unit_period,
)

__all__ = ["AprResult", "UnitPeriod", "apr", "periods_from_start", "unit_period"]

_RATE_PLACES = Decimal("1e-12")
_UNIT_PLACES = Decimal("1e-15")

# A run: (signed amount, f numerator, f denominator, first t, number of flows).
Run = tuple[Decimal, int, int, int, int]


@dataclass(frozen=True)
class AprResult:
    rate: Decimal  # annual percentage rate as a fraction (0.12 = 12 %), 12 places
    unit_rate: Decimal  # rate per unit-period, 15 places
    unit_period: UnitPeriod

    @property
    def percent(self) -> Decimal:
        """The APR in percent with 4 decimal places (Decimal("12.0000"))."""
        return (self.rate * 100).quantize(Decimal("0.0001"))


def _amounts(flows: Sequence[tuple[date, Decimal]], what: str) -> tuple[list[date], list[Decimal]]:
    """Dates sorted and their amounts as Decimals (checked for sign and
    finiteness run by run in `_check_runs`)."""
    if not flows:
        raise TermsError({what: "at least one is required"})
    dates, amounts = (list(column) for column in zip(*flows, strict=True))
    if dates != sorted(dates):
        pairs = sorted(zip(dates, amounts, strict=True), key=lambda pair: pair[0])
        dates, amounts = (list(column) for column in zip(*pairs, strict=True))
    if set(map(type, amounts)) != {Decimal}:
        if any(isinstance(a, (float, bool)) for a in amounts):
            raise TermsError({what: "amounts must be Decimal or str, not float"})
        amounts = [Decimal(str(a)) for a in amounts]
    if set(map(type, dates)) != {date}:
        raise TermsError({what: "dates must be datetime.date"})
    return dates, amounts


def _check_runs(runs: list[Run], what: str) -> None:
    # Every amount is some run's amount, so checking runs checks them all.
    for amount, *_ in runs:
        if not amount.is_finite() or amount == 0:
            raise TermsError({what: "amounts must be positive and finite"})
    if what == "payments" and any(run[0] > 0 for run in runs):
        raise TermsError({what: "amounts must be positive and finite"})
    if what == "advances" and any(run[0] < 0 for run in runs):
        raise TermsError({what: "amounts must be positive and finite"})


def _runs(ts: list[int], fs: list[int], den: int, amounts: list[Decimal], sign: int) -> list[Run]:
    """Group flows into runs of equal amount and fraction at consecutive t."""
    n = len(ts)
    if fs.count(fs[0]) == n and ts == list(range(ts[0], ts[0] + n)):
        # Consecutive t with one fraction (every regular stream): runs are the
        # stretches of equal amounts.
        runs = []
        t = ts[0]
        for amount, group in groupby(amounts):
            count = len(list(group))
            runs.append((sign * amount, fs[0], den, t, count))
            t += count
        return runs
    runs = []
    begin = 0
    for j in range(1, n + 1):
        if j == n or amounts[j] != amounts[j - 1] or fs[j] != fs[j - 1] or ts[j] != ts[j - 1] + 1:
            runs.append((sign * amounts[begin], fs[begin], den, ts[begin], j - begin))
            begin = j
    return runs


def _evaluate(runs: list[tuple[float, float, int, int]], i: float) -> tuple[float, float]:
    """Sum of the discounted signed runs at unit rate i, and its derivative in i."""
    x = 1.0 + i
    log_x = math.log1p(i)
    small = abs(i) < 1e-7
    value = slope = 0.0
    for amount, f, t0, m in runs:
        a = 1.0 / (1.0 + f * i)
        if m == 1:
            s = math.exp(-t0 * log_x)
            ds = -t0 * s / x
        elif small:
            s = ds = 0.0
            for t in range(t0, t0 + m):
                term = math.exp(-t * log_x)
                s += term
                ds -= t * term / x
        else:
            # s = sum v^t for t0 <= t < t0 + m; ds its derivative in closed form.
            v = 1.0 / x
            vt0 = math.exp(-t0 * log_x)
            vm = math.exp(-m * log_x)
            one_minus_v = i / x
            s = vt0 * (1.0 - vm) / one_minus_v
            k_sum = v * (1.0 - m * vm / v + (m - 1) * vm) / (one_minus_v * one_minus_v)
            ds = -v * (t0 * s + vt0 * k_sum)
        value += amount * a * s
        slope += amount * (a * ds - f * a * a * s)
    return value, slope


def _solve_float(runs: list[tuple[float, float, int, int]], guess: float) -> float:
    """Newton's method from `guess`; stops at float resolution (a step below
    1e-15 relative, or a residual within rounding noise of the amounts), and
    falls back to bisection if it does not get there."""
    noise = 1e-13 * sum(abs(amount) * m for amount, _, _, m in runs)
    i = guess
    for _ in range(60):
        value, slope = _evaluate(runs, i)
        if slope == 0.0 or not math.isfinite(value) or not math.isfinite(slope):
            break
        new = i - value / slope
        if new <= -0.999:
            new = (i - 0.999) / 2.0
        if abs(new - i) <= 1e-15 * max(1.0, abs(new)) or abs(value) <= noise:
            return new
        i = new
    return _bisect(runs)


def _bisect(runs: list[tuple[float, float, int, int]]) -> float:
    lo, hi = -0.99, 1.0
    f_lo = _evaluate(runs, lo)[0]
    f_hi = _evaluate(runs, hi)[0]
    while f_lo * f_hi > 0 and hi < 1e6:
        hi *= 4.0
        f_hi = _evaluate(runs, hi)[0]
    if not f_lo * f_hi <= 0:
        raise AprError("no rate equates the advances with the payments")
    for _ in range(200):
        mid = (lo + hi) / 2.0
        f_mid = _evaluate(runs, mid)[0]
        if f_mid == 0.0 or hi - lo <= 1e-16 * max(1.0, abs(mid)):
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _value_decimal(runs: list[Run], i: Decimal) -> Decimal:
    """The same sum as `_evaluate`, in Decimal (caller sets the precision)."""
    x = 1 + i
    total = Decimal(0)
    for amount, f, den, t0, m in runs:
        s = x**-t0
        if m > 1:
            s = s * m if i == 0 else s * (1 - x**-m) * x / i
        if f:
            s = s / (1 + f * i / den)
        total += amount * s
    return total


def apr(
    advances: Sequence[tuple[date, Decimal]], payments: Sequence[tuple[date, Decimal]]
) -> AprResult:
    """APR of a transaction by Appendix J's actuarial method (module docstring).

    `advances` and `payments` are (date, amount) pairs with positive Decimal
    amounts; the term begins on the earliest advance. Raises TermsError for
    bad input and AprError if no rate solves the equation.
    """
    adv_dates, adv_amounts = _amounts(advances, "advances")
    pay_dates, pay_amounts = _amounts(payments, "payments")
    start = adv_dates[0]
    if pay_dates[0] < start:
        raise TermsError({"payments": "a payment falls before the first advance"})
    pay_stream = _Stream(pay_dates)
    distinct = pay_stream
    if not pay_stream.monthly() and len(set(pay_dates)) != len(pay_dates):
        distinct = _Stream(sorted(set(pay_dates)))
    unit = _unit_period(start, sorted(set(adv_dates)), distinct, len(pay_dates))
    pay_runs = _runs(*_flow_times(start, pay_stream, unit), pay_amounts, -1)
    adv_runs = _runs(
        *_flow_times(start, _Stream(adv_dates, pay_stream.anchor), unit), adv_amounts, 1
    )
    _check_runs(pay_runs, "payments")
    _check_runs(adv_runs, "advances")
    runs = pay_runs + adv_runs
    float_runs = [(float(a), f / d, t0, m) for a, f, d, t0, m in runs]
    paid = -sum(a * m for a, _, _, m in float_runs if a < 0)
    lent = sum(a * m for a, _, _, m in float_runs if a > 0)
    guess = (paid / lent - 1.0) / _mean_payment_time(float_runs)
    i_float = _solve_float(float_runs, guess)
    _, slope = _evaluate(float_runs, i_float)
    with localcontext() as ctx:
        ctx.prec = 40
        i = Decimal(i_float)
        if slope and math.isfinite(slope):
            # One Newton step in 40-digit arithmetic from the float root.
            i -= _value_decimal(runs, i) / Decimal(slope)
        per_year = unit.per_year
        annual = i * per_year.numerator / per_year.denominator
        return AprResult(
            rate=annual.quantize(_RATE_PLACES),
            unit_rate=i.quantize(_UNIT_PLACES),
            unit_period=unit,
        )


def _mean_payment_time(runs: list[tuple[float, float, int, int]]) -> float:
    """Amount-weighted mean t of the payments (negative runs), at least 1."""
    weight = total = 0.0
    for amount, _, t0, m in runs:
        if amount < 0:
            weight -= amount * m
            total -= amount * m * (t0 + (m - 1) / 2)
    return max(1.0, total / weight) if weight else 1.0
