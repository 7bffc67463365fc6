"""Due-date rules: month-end anchoring, semi-monthly pairs, weeks and days."""

from datetime import date

import pytest

from core.finance import RepaymentUnit, add_months
from core.finance.dates import due_date_rule

M, S, W, D = (
    RepaymentUnit.MONTHS,
    RepaymentUnit.SEMI_MONTHS,
    RepaymentUnit.WEEKS,
    RepaymentUnit.DAYS,
)


def test_add_months_clamps_to_month_end_and_keeps_anchor():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 2, 29), 1) == date(2024, 3, 29)
    assert add_months(date(2024, 2, 29), 1, anchor_day=31) == date(2024, 3, 31)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 11, 15), 3) == date(2025, 2, 15)


def test_disbursed_jan_31_monthly_falls_due_feb_29_then_mar_31():
    rule = due_date_rule(M, 1, date(2024, 1, 31), None)
    assert rule.dates(6) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    ]
    assert rule.previous() == date(2024, 1, 31)  # regular first period


@pytest.mark.parametrize(
    ("disbursed", "first", "expected"),
    [
        # A clamped month end keeps the disbursement day as the anchor.
        (date(2023, 1, 31), date(2023, 2, 28), [date(2023, 2, 28), date(2023, 3, 31)]),
        (date(2023, 1, 30), date(2023, 2, 28), [date(2023, 2, 28), date(2023, 3, 30)]),
        # Otherwise the first payment date's own day is the anchor.
        (date(2023, 1, 15), date(2023, 2, 28), [date(2023, 2, 28), date(2023, 3, 28)]),
        (date(2023, 1, 15), date(2023, 4, 30), [date(2023, 4, 30), date(2023, 5, 30)]),
        (date(2023, 1, 15), date(2023, 1, 31), [date(2023, 1, 31), date(2023, 2, 28)]),
    ],
)
def test_month_anchor_from_first_payment_date(disbursed, first, expected):
    assert due_date_rule(M, 1, disbursed, first).dates(2) == expected


def test_every_n_months_and_outside_the_precomputed_years():
    rule = due_date_rule(M, 3, date(2024, 1, 31), None)
    assert rule.dates(3) == [date(2024, 4, 30), date(2024, 7, 31), date(2024, 10, 31)]
    old = due_date_rule(M, 1, date(1900, 1, 31), None)
    assert old.dates(2) == [date(1900, 2, 28), date(1900, 3, 31)]
    assert old.dates(1, start=1) == [date(1900, 3, 31)]


def test_odd_first_period_previous_regular_date():
    rule = due_date_rule(M, 1, date(2024, 1, 15), date(2024, 3, 1))
    assert rule.previous() == date(2024, 2, 1)  # long first period: Jan 15 .. Mar 1


@pytest.mark.parametrize(
    ("first", "expected", "previous"),
    [
        # d <= 15: (d, d + 15)
        (
            date(2024, 2, 1),
            [date(2024, 2, 1), date(2024, 2, 16), date(2024, 3, 1), date(2024, 3, 16)],
            date(2024, 1, 16),
        ),
        # (15, 30): the 30th clamps to February's end
        (
            date(2024, 1, 30),
            [date(2024, 1, 30), date(2024, 2, 15), date(2024, 2, 29), date(2024, 3, 15)],
            date(2024, 1, 15),
        ),
        # A month-end first date pairs the 15th with the month's last day.
        (
            date(2024, 4, 30),
            [date(2024, 4, 30), date(2024, 5, 15), date(2024, 5, 31), date(2024, 6, 15)],
            date(2024, 4, 15),
        ),
        # d > 15: (d - 15, d)
        (
            date(2024, 3, 20),
            [date(2024, 3, 20), date(2024, 4, 5), date(2024, 4, 20), date(2024, 5, 5)],
            date(2024, 3, 5),
        ),
    ],
)
def test_semi_monthly_pairs(first, expected, previous):
    rule = due_date_rule(S, 1, date(2024, 1, 1), first)
    assert rule.dates(4) == expected
    assert rule.previous() == previous


def test_semi_monthly_default_first_date_is_15_days_later():
    rule = due_date_rule(S, 1, date(2024, 1, 10), None)
    assert rule.dates(3) == [date(2024, 1, 25), date(2024, 2, 10), date(2024, 2, 25)]
    assert rule.previous() == date(2024, 1, 10)


def test_weeks_and_days():
    weekly = due_date_rule(W, 2, date(2024, 1, 1), None)
    assert weekly.dates(2) == [date(2024, 1, 15), date(2024, 1, 29)]
    assert weekly.previous() == date(2024, 1, 1)
    daily = due_date_rule(D, 10, date(2024, 2, 25), date(2024, 3, 1))
    assert daily.dates(2) == [date(2024, 3, 1), date(2024, 3, 11)]
    assert daily.previous() == date(2024, 2, 20)
