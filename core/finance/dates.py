"""Calendar helpers and due-date rules for repayment schedules.

Rules (all dates are `datetime.date`):

- Months (every N months): due dates keep an anchor day and clamp it to the
  month's length. The anchor is the first payment date's day, except when the
  first payment date is the last day of its month and earlier in the month
  than the disbursement day (it was clamped), in which case the disbursement
  day is the anchor. So a loan disbursed Jan 31 paying monthly is due Feb 28
  (29), Mar 31, Apr 30, ...; to pay on the last day of every month give a
  first payment date on a 31st (or a clamped month end as above). With no
  first payment date the first due date is N months after disbursement,
  anchored on the disbursement day.
- Semi-months (twice a month): each month has a low day L and a high day
  H = L + 15. From the first payment date's day d: if the first payment date
  is the last day of its month the pair is (15, month end); if d <= 15 it is
  (d, d + 15); otherwise (d - 15, d). H is clamped to the month's length (15 &
  30 falls on Feb 28/29). Dates alternate L, H, L (next month), ... starting
  at the first payment date. With no first payment date the first due date is
  15 days after disbursement.
- Weeks / days: every 7N / N calendar days from the first payment date
  (default: one period after disbursement).

`DueDateRule.previous()` is the regular due date one period before the first
one; the first period is regular exactly when that equals the disbursement
date, otherwise it is an odd (short or long) first period.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from core.finance.enums import RepaymentUnit

__all__ = ["DueDateRule", "add_months", "days_in_month", "due_date_rule", "is_month_end"]

_DIM = (
    (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
    (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
)


def days_in_month(year: int, month: int) -> int:
    return _DIM[calendar.isleap(year)][month - 1]


def is_month_end(day: date) -> bool:
    return day.day == _DIM[calendar.isleap(day.year)][day.month - 1]


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """`day` moved by `months` calendar months, on `anchor_day` (default: day's
    own day) clamped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    want = day.day if anchor_day is None else anchor_day
    dim = _DIM[calendar.isleap(year)][month0]
    return date(year, month0 + 1, want if want <= dim else dim)


def _month_date(index: int, anchor: int) -> date:
    year, month0 = divmod(index, 12)
    dim = _DIM[calendar.isleap(year)][month0]
    return date(year, month0 + 1, anchor if anchor <= dim else dim)


# Month-anchored dates are precomputed once per anchor day for 1950-2249 and
# sliced: building 360 date objects one by one costs more than the interest.
_TABLE_FIRST = 1950 * 12
_TABLE_END = 2250 * 12
_MONTH_TABLES: dict[int, tuple[list[date], list[int]]] = {}


def _month_table(anchor: int) -> tuple[list[date], list[int]]:
    """Anchored dates by month index, and the days from the previous one."""
    table = _MONTH_TABLES.get(anchor)
    if table is None:
        dates = [_month_date(index, anchor) for index in range(_TABLE_FIRST - 1, _TABLE_END)]
        ordinals = [d.toordinal() for d in dates]
        table = (dates[1:], [b - a for a, b in itertools.pairwise(ordinals)])
        _MONTH_TABLES[anchor] = table
    return table


@dataclass(frozen=True)
class DueDateRule:
    """How due dates follow each other. `anchor` is the month anchor day
    (months) or the low day (semi-months); `high` the semi-monthly high day
    (31 = month end)."""

    unit: RepaymentUnit
    every: int
    first: date
    anchor: int = 0
    high: int = 0

    def dates(self, count: int, start: int = 0) -> list[date]:
        """Due dates number start+1 .. start+count (0-based offset from the first)."""
        first = self.first
        if self.unit is RepaymentUnit.MONTHS:
            step = self.every
            begin = first.year * 12 + first.month - 1 + start * step
            stop = begin + count * step
            if begin >= _TABLE_FIRST and stop <= _TABLE_END:
                table = _month_table(self.anchor)[0]
                return table[begin - _TABLE_FIRST : stop - _TABLE_FIRST : step]
            return [_month_date(index, self.anchor) for index in range(begin, stop, step)]
        if self.unit is RepaymentUnit.SEMI_MONTHS:
            return [self._semi(self._semi_index0() + k) for k in range(start, start + count)]
        step = self.every * (7 if self.unit is RepaymentUnit.WEEKS else 1)
        ordinal = first.toordinal()
        return [date.fromordinal(ordinal + k * step) for k in range(start, start + count)]

    def gaps(self, dates: list[date]) -> list[int]:
        """Days between consecutive due dates (`dates` from `self.dates`)."""
        first = dates[0] if dates else self.first
        begin = first.year * 12 + first.month - 1
        if (
            self.unit is RepaymentUnit.MONTHS
            and self.every == 1
            and begin >= _TABLE_FIRST
            and begin + len(dates) <= _TABLE_END
        ):
            table = _month_table(self.anchor)[1]
            return table[begin - _TABLE_FIRST + 1 : begin - _TABLE_FIRST + len(dates)]
        ordinals = [d.toordinal() for d in dates]
        return [b - a for a, b in itertools.pairwise(ordinals)]

    def previous(self) -> date:
        """The regular due date one period before the first due date."""
        if self.unit is RepaymentUnit.MONTHS:
            return add_months(self.first, -self.every, self.anchor)
        if self.unit is RepaymentUnit.SEMI_MONTHS:
            return self._semi(self._semi_index0() - 1)
        step = self.every * (7 if self.unit is RepaymentUnit.WEEKS else 1)
        return self.first - timedelta(days=step)

    def _semi_index0(self) -> int:
        first = self.first
        half = 0 if first.day == self.anchor else 1
        return 2 * (first.year * 12 + first.month - 1) + half

    def _semi(self, index: int) -> date:
        month_index, half = divmod(index, 2)
        year, month0 = divmod(month_index, 12)
        if half == 0:
            return date(year, month0 + 1, self.anchor)
        dim = _DIM[calendar.isleap(year)][month0]
        return date(year, month0 + 1, self.high if self.high <= dim else dim)


def due_date_rule(
    unit: RepaymentUnit,
    every: int,
    disbursement_date: date,
    first_payment_date: date | None,
) -> DueDateRule:
    """The due-date rule of a loan (see the module docstring)."""
    if unit is RepaymentUnit.MONTHS:
        if first_payment_date is None:
            anchor = disbursement_date.day
            first = add_months(disbursement_date, every, anchor)
        else:
            first = first_payment_date
            anchor = first.day
            if is_month_end(first) and first.day < disbursement_date.day:
                anchor = disbursement_date.day
        return DueDateRule(unit, every, first, anchor)
    if unit is RepaymentUnit.SEMI_MONTHS:
        first = first_payment_date or disbursement_date + timedelta(days=15)
        if is_month_end(first):
            low, high = 15, 31
        elif first.day <= 15:
            low, high = first.day, first.day + 15
        else:
            low, high = first.day - 15, first.day
        return DueDateRule(unit, 1, first, low, high)
    step = every * (7 if unit is RepaymentUnit.WEEKS else 1)
    first = first_payment_date or disbursement_date + timedelta(days=step)
    return DueDateRule(unit, every, first)
