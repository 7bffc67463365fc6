"""Day count conventions: year fractions, additive daily accrual, daily rates.

Units: dates are `datetime.date`; year fractions are exact `Fraction`s
(`year_fraction_exact`) or `Decimal`s rounded to the context precision
(`year_fraction`, for display). Interest is always computed from the exact
fraction, so no rate is ever rounded before the amount is.

Conventions (the names are the API's `day_count` values):

- "30/360"        30/360 US (SIA / QuantLib `Thirty360.USA`): if both dates
                  are the last day of February D2 = 30; if D1 is the last day
                  of February D1 = 30; if D2 = 31 and D1 >= 30 then D2 = 30; if
                  D1 = 31 then D1 = 30. Days = 360*dY + 30*dM + dD.
- "30E/360"       Eurobond basis (ISDA 2006 4.16(g)): D1 = min(D1, 30),
                  D2 = min(D2, 30).
- "actual/365"    Actual/365 Fixed: actual days / 365.
- "actual/360"    actual days / 360.
- "actual/364"    actual days / 364.
- "actual/actual" Actual/Actual ISDA: days falling in leap years / 366 plus
                  days falling in other years / 365.

Daily accrual (`accrual_fraction`, used by `core.finance.accrual`) is the sum
of one fraction per calendar day, so it is additive over any split of a date
range. For the actual conventions it equals the year fraction. For the two
30-day-month conventions a month must accrue exactly 30 days whatever its
length, so each day accrues the increase of the 30E/360 serial number
360*Y + 30*(M-1) + min(D, 30) to the next day: in a 31-day month the 30th
accrues nothing (the 30th and 31st share one accrual day) and the last day
of February accrues the missing 2 or 1 days. Accrual over a range is thus
the 30E/360 year fraction; it differs from the US rule only for ranges that
end on a 31st and start before the 30th (the US rule counts that 31st).
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from core.finance.errors import TermsError

__all__ = [
    "DayCount",
    "accrual_fraction",
    "daily_rate",
    "days_30_360_us",
    "days_30e_360",
    "parse_day_count",
    "year_basis",
    "year_fraction",
    "year_fraction_exact",
]


class DayCount(StrEnum):
    THIRTY_360 = "30/360"
    THIRTY_E_360 = "30E/360"
    ACTUAL_365 = "actual/365"
    ACTUAL_360 = "actual/360"
    ACTUAL_ACTUAL = "actual/actual"
    ACTUAL_364 = "actual/364"


_BY_NAME = {member.value: member for member in DayCount}
THIRTY_DAY_MONTHS = frozenset({DayCount.THIRTY_360, DayCount.THIRTY_E_360})
_BASIS = {
    DayCount.THIRTY_360: 360,
    DayCount.THIRTY_E_360: 360,
    DayCount.ACTUAL_360: 360,
    DayCount.ACTUAL_365: 365,
    DayCount.ACTUAL_ACTUAL: 365,
    DayCount.ACTUAL_364: 364,
}


def parse_day_count(convention: DayCount | str, field: str = "day_count") -> DayCount:
    """Return the `DayCount` for an enum member or its exact name.

    Raises `TermsError({field: ...})` (a `ValueError`) for anything else.
    """
    if isinstance(convention, DayCount):
        return convention
    found = _BY_NAME.get(convention) if isinstance(convention, str) else None
    if found is None:
        names = ", ".join(f'"{name}"' for name in _BY_NAME)
        raise TermsError(
            {field: f"unknown day count convention {convention!r}; use one of {names}"}
        )
    return found


def year_basis(convention: DayCount | str) -> int:
    """Days in the convention's nominal year (360, 364 or 365)."""
    return _BASIS[parse_day_count(convention)]


def _is_last_of_february(day: date) -> bool:
    return day.month == 2 and day.day == calendar.monthrange(day.year, 2)[1]


def days_30_360_us(start: date, end: date) -> int:
    """Day count of the 30/360 US (SIA) rule between two dates."""
    d1, d2 = start.day, end.day
    if _is_last_of_february(start):
        if _is_last_of_february(end):
            d2 = 30
        d1 = 30
    if d2 == 31 and d1 >= 30:
        d2 = 30
    if d1 == 31:
        d1 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + d2 - d1


def _serial_30e(day: date) -> int:
    d = day.day
    return 360 * day.year + 30 * (day.month - 1) + (30 if d > 30 else d)


def days_30e_360(start: date, end: date) -> int:
    """Day count of the 30E/360 (Eurobond) rule between two dates."""
    return _serial_30e(end) - _serial_30e(start)


def _actual_actual(start: date, end: date) -> Fraction:
    if start == end:
        return Fraction(0)
    if end < start:
        return -_actual_actual(end, start)
    total = Fraction(0)
    cursor = start
    while cursor.year < end.year:
        year_end = date(cursor.year + 1, 1, 1)
        total += Fraction((year_end - cursor).days, 366 if calendar.isleap(cursor.year) else 365)
        cursor = year_end
    return total + Fraction((end - cursor).days, 366 if calendar.isleap(end.year) else 365)


def year_fraction_exact(start: date, end: date, convention: DayCount | str) -> Fraction:
    """Exact year fraction between two dates (negative if end < start)."""
    conv = parse_day_count(convention)
    if conv is DayCount.THIRTY_360:
        return Fraction(days_30_360_us(start, end), 360)
    if conv is DayCount.THIRTY_E_360:
        return Fraction(days_30e_360(start, end), 360)
    if conv is DayCount.ACTUAL_ACTUAL:
        return _actual_actual(start, end)
    return Fraction((end - start).days, _BASIS[conv])


def year_fraction(start: date, end: date, convention: DayCount | str) -> Decimal:
    """Year fraction as a Decimal (context precision); see `year_fraction_exact`."""
    exact = year_fraction_exact(start, end, convention)
    return Decimal(exact.numerator) / Decimal(exact.denominator)


def accrual_fraction(start: date, end: date, convention: DayCount | str) -> Fraction:
    """Sum of the daily accrual fractions of the days in [start, end).

    Additive: accrual_fraction(a, c) == accrual_fraction(a, b) + accrual_fraction(b, c).
    """
    conv = parse_day_count(convention)
    if conv in THIRTY_DAY_MONTHS:
        return Fraction(days_30e_360(start, end), 360)
    return year_fraction_exact(start, end, conv)


def daily_rate(annual_rate: Decimal, day: date, convention: DayCount | str) -> Decimal:
    """The rate one calendar day accrues: annual_rate * accrual_fraction(day, day + 1).

    Under 30-day-month conventions this is rate/360 on most days, 0 on the
    30th of a 31-day month and 2 (or 3) x rate/360 on the last day of
    February. The result is
    rounded to the context precision (28 digits); accrual itself uses the
    exact fraction.
    """
    if isinstance(annual_rate, float):
        raise TypeError("floats are not allowed for rates; pass a str or Decimal")
    fraction = accrual_fraction(day, date.fromordinal(day.toordinal() + 1), convention)
    return Decimal(annual_rate) * fraction.numerator / fraction.denominator
