"""Regulation Z Appendix J unit-periods and the time of each flow in them.

See `core.finance.appendix_j` for the rules. `periods_from_start` is the literal,
one-date-at-a-time statement of (b)(5); `flow_times` computes the same
(t, f) for a whole payment stream with integer arithmetic (months counted
from a month index, the odd days shared by every date with the same nominal
day), which is what keeps a 360-payment APR solve fast. A test checks the two
agree on random streams.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import pairwise

from core.finance.dates import add_months, days_in_month
from core.finance.errors import AprError

__all__ = ["UnitPeriod", "flow_times", "periods_from_start", "unit_period"]

_YEAR_DAYS = Fraction(365)
_MONTH_DAYS = Fraction(365, 12)
_DIM = (
    (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
    (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
)


@dataclass(frozen=True)
class UnitPeriod:
    """kind: "months" (`length` 1..12; 12 is the one-year rule), "semimonth",
    "days" (`length` days; 7 x weeks for weekly units), or "term" (a single
    advance and single payment under a year: `length` months if `in_months`,
    else days)."""

    kind: str
    length: int
    in_months: bool = True

    @property
    def per_year(self) -> Fraction:
        """Unit-periods per year ((b)(4)-(b)(5))."""
        if self.kind == "months":
            return Fraction(12, self.length)
        if self.kind == "semimonth":
            return Fraction(24)
        if self.kind == "days":
            if self.length % 7 == 0:
                return Fraction(52, self.length // 7)
            return Fraction(365, self.length)
        return Fraction(12, self.length) if self.in_months else Fraction(365, self.length)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _nominal_day(day: date, anchor: int) -> int:
    """The day of month a date stands for in a series anchored on `anchor`:
    a clamped month end (Feb 28 in a series on the 30th) counts as `anchor`."""
    d = day.day
    if d < anchor and d == _DIM[_leap(day.year)][day.month - 1]:
        return anchor
    return d


def _months_back(start: date, when: date, nominal: int) -> tuple[int, int]:
    """Full months measured back from `when` (on its nominal day) to no earlier
    than `start`, and the remaining days down to `start`."""
    s_index = start.year * 12 + start.month - 1
    months = when.year * 12 + when.month - 1 - s_index
    dim = days_in_month(start.year, start.month)
    day = nominal if nominal <= dim else dim
    if day >= start.day:
        return months, day - start.day
    year, month0 = divmod(s_index + 1, 12)
    dim_next = days_in_month(year, month0 + 1)
    return months - 1, dim - start.day + (nominal if nominal <= dim_next else dim_next)


def periods_from_start(
    start: date, when: date, unit: UnitPeriod, anchor: int | None = None
) -> tuple[int, Fraction]:
    """(t, f): full unit-periods and the fraction of one from `start` to `when`.

    `anchor` is the payment series' day of month (31 for a month-end series);
    by default `when`'s own day.
    """
    if when < start:
        raise AprError("a payment or advance falls before the beginning of the term")
    if unit.kind == "term":
        return (0, Fraction(0)) if when == start else (1, Fraction(0))
    if unit.kind == "days":
        t, rest = divmod(when.toordinal() - start.toordinal(), unit.length)
        return t, Fraction(rest, unit.length)
    nominal = _nominal_day(when, anchor if anchor is not None else when.day)
    months, rest = _months_back(start, when, nominal)
    if unit.kind == "months" and unit.length == 12:
        years, rest_months = divmod(months, 12)
        if rest == 0:
            return years, Fraction(rest_months, 12)
        back = add_months(when, -12 * years, nominal)
        return years, Fraction(back.toordinal() - start.toordinal(), 365)
    divisor = 15 if unit.kind == "semimonth" else 30 * unit.length
    t, remainder = divmod(30 * months + rest, divisor)
    return t, Fraction(remainder, divisor)


class _Stream:
    """Sorted dates with their nominal days, month indices computed on demand."""

    __slots__ = ("_index", "_monthly", "anchor", "dates", "nominal", "uniform")

    def __init__(self, dates: Sequence[date], anchor: int | None = None) -> None:
        self.dates = dates
        days = [d.day for d in dates]
        self.anchor = anchor = max(days, default=1) if anchor is None else anchor
        self.uniform = days.count(anchor) == len(days)
        self.nominal = days if self.uniform else [_nominal_day(d, anchor) for d in dates]
        self._index: list[int] | None = None
        self._monthly: bool | None = None

    @property
    def index(self) -> list[int]:
        if self._index is None:
            self._index = [d.year * 12 + d.month for d in self.dates]
        return self._index

    def monthly(self) -> bool:
        """Distinct dates on one nominal day in consecutive months (dates sorted)."""
        if self._monthly is None:
            dates = self.dates
            result = self.uniform and bool(dates)
            if result:
                first, last = dates[0], dates[-1]
                span = (last.year - first.year) * 12 + last.month - first.month
                # Sorted dates on one day of month spanning n - 1 months are n
                # distinct dates in consecutive months (a repeat would leave a gap).
                result = span == len(dates) - 1
            self._monthly = result
        return self._monthly


def flow_times(
    start: date, dates: Sequence[date], unit: UnitPeriod, anchor: int
) -> tuple[list[int], list[int], int]:
    """(t list, f numerator list, f denominator) of sorted dates >= start;
    equal to `periods_from_start` for each date."""
    return _flow_times(start, _Stream(dates, anchor), unit)


def _flow_times(start: date, stream: _Stream, unit: UnitPeriod) -> tuple[list[int], list[int], int]:
    kind, dates = unit.kind, stream.dates
    if kind == "days":
        length = unit.length
        origin = start.toordinal()
        pairs = [divmod(d.toordinal() - origin, length) for d in dates]
        return [p[0] for p in pairs], [p[1] for p in pairs], length
    if kind == "term" or (kind == "months" and unit.length == 12):
        den = 4380  # 12 x 365: holds both rest-months/12 and rest-days/365 exactly
        ts, fs = [], []
        for when in dates:
            t, f = periods_from_start(start, when, unit, stream.anchor)
            ts.append(t)
            fs.append(f.numerator * (den // f.denominator))
        return ts, fs, den
    divisor = 15 if kind == "semimonth" else 30 * unit.length
    base = start.year * 12 + start.month
    if stream.uniform and dates:
        # Every date stands for the same day of month: one odd-days figure.
        months, rest = _months_back(start, dates[0], stream.anchor)
        if divisor == 30 and stream.monthly():
            carry, f = divmod(rest, 30)
            t0 = months + carry
            return list(range(t0, t0 + len(dates))), [f] * len(dates), 30
        origin = stream.index[0] - months
        if divisor == 30:
            carry, f = divmod(rest, 30)
            return [i - origin + carry for i in stream.index], [f] * len(dates), 30
        pairs = [divmod(30 * (i - origin) + rest, divisor) for i in stream.index]
        return [p[0] for p in pairs], [p[1] for p in pairs], divisor
    odd: dict[int, tuple[int, int]] = {}  # nominal day -> (months short, remaining days)
    ts, fs = [], []
    for when, index, nominal in zip(dates, stream.index, stream.nominal, strict=True):
        found = odd.get(nominal)
        if found is None:
            months, rest = _months_back(start, when, nominal)
            found = odd[nominal] = (index - base - months, rest)
        t, f = divmod(30 * (index - base - found[0]) + found[1], divisor)
        ts.append(t)
        fs.append(f)
    return ts, fs, divisor


def _key_length(key: tuple[str, int]) -> Fraction:
    kind, n = key
    if kind == "M":
        return n * _MONTH_DAYS
    if kind == "S":
        return _YEAR_DAYS / 24
    return Fraction(n * (7 if kind == "W" else 1))


def _series_keys(start: date, stream: _Stream) -> Counter[tuple[str, int]]:
    """Counts of the classified periods start -> d0 -> d1 ... of a stream of
    distinct dates after start."""
    dates = stream.dates
    keys: Counter[tuple[str, int]] = Counter()
    if not dates:
        return keys
    first = [start, *dates[:2]]
    keys[_classify(first, _Stream(first, stream.anchor), 0)] += 1
    if stream.monthly():
        if len(dates) > 1:
            keys["M", 1] += len(dates) - 1
        return keys
    months = stream.index
    if stream.uniform:
        steps = [b - a for a, b in pairwise(months)]
        if not steps or min(steps) > 0:
            for step, count in Counter(steps).items():
                keys["M", step] += count
            return keys
    for j in range(len(dates) - 1):
        keys[_classify(dates, stream, j)] += 1
    return keys


def _classify(points: Sequence[date], stream: _Stream, j: int) -> tuple[str, int]:
    """Class of the period points[j] -> points[j + 1]."""
    months, nominal = stream.index, stream.nominal
    step = months[j + 1] - months[j]
    if nominal[j] == nominal[j + 1] and step > 0:
        return "M", step
    last = len(points) - 1
    semi = (j + 2 <= last and nominal[j] == nominal[j + 2] and months[j + 2] - months[j] == 1) or (
        j >= 1 and nominal[j - 1] == nominal[j + 1] and months[j + 1] - months[j - 1] == 1
    )
    days = points[j + 1].toordinal() - points[j].toordinal()
    if semi and 13 <= days <= 17:
        return "S", 1
    return ("W", days // 7) if days % 7 == 0 else ("D", days)


def _standard_interval(average: Fraction) -> tuple[str, int]:
    candidates = [("D", 1), ("S", 1)]
    candidates += [("W", k) for k in range(1, 53)] + [("M", k) for k in range(1, 13)]
    return min(candidates, key=lambda key: (abs(_key_length(key) - average), _key_length(key)))


def _unit_from_key(key: tuple[str, int]) -> UnitPeriod:
    kind, n = key
    if _key_length(key) > _YEAR_DAYS:
        return UnitPeriod("months", 12)
    if kind == "M":
        return UnitPeriod("months", n)
    if kind == "S":
        return UnitPeriod("semimonth", 1)
    return UnitPeriod("days", n * (7 if kind == "W" else 1))


def series_anchor(dates: Sequence[date]) -> int:
    """Day of month a payment series is anchored on: its latest day of month."""
    return max((d.day for d in dates), default=1)


def unit_period(advances: Sequence[date], payments: Sequence[date]) -> UnitPeriod:
    """The Appendix J (b)(4) unit-period of a transaction (its dates only)."""
    pay = sorted(set(payments))
    return _unit_period(min(advances), sorted(set(advances)), _Stream(pay), len(payments))


def _unit_period(start: date, advances: list[date], payments: _Stream, count: int) -> UnitPeriod:
    if len(advances) == 1 and count == 1:
        when = payments.dates[0]
        months, rest = _months_back(start, when, when.day)
        if months >= 12:
            return UnitPeriod("months", 12)
        if rest == 0 and months > 0:
            return UnitPeriod("term", months, in_months=True)
        return UnitPeriod("term", max(when.toordinal() - start.toordinal(), 1), in_months=False)
    if payments.dates[0] > start:
        counts = _series_keys(start, payments)
    else:
        counts = _series_keys(start, _Stream([d for d in payments.dates if d > start]))
    later_advances = [d for d in advances if d > start]
    if later_advances:
        counts.update(_series_keys(start, _Stream(later_advances)))
    common = [(key, count) for key, count in counts.items() if count > 1]
    if common:
        best = max(common, key=lambda item: (item[1], -_key_length(item[0])))[0]
    else:
        total = sum((_key_length(key) * n for key, n in counts.items()), Fraction(0))
        best = _standard_interval(total / max(sum(counts.values()), 1))
    return _unit_from_key(best)
