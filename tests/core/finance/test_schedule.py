"""Schedules: exact, hand-checked Decimal tables for every option.

Each expected figure was worked by hand from the rules in
core/finance/schedule.py (and the first tables against an independent
Fraction-based annuity) rather than read back from the engine.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from core.finance import Fee, LoanTerms, build_schedule, periods_per_year

D = Decimal
BASE = {
    "principal": "10000",
    "annual_rate": "0.12",
    "term": 12,
    "disbursement_date": date(2024, 1, 15),
}


def schedule(**changes):
    return build_schedule(LoanTerms(**{**BASE, **changes}))


def table(s, *names):
    return [tuple(str(getattr(row, name)) for name in names) for row in s.rows]


def test_10000_at_12_percent_for_12_months_30_360():
    s = schedule()
    assert s.installment == D("888.49")  # 10000 x 0.01 / (1 - 1.01^-12) = 888.4879
    assert table(s, "opening_balance", "principal", "interest", "payment") == [
        ("10000.00", "788.49", "100.00", "888.49"),
        ("9211.51", "796.37", "92.12", "888.49"),
        ("8415.14", "804.34", "84.15", "888.49"),
        ("7610.80", "812.38", "76.11", "888.49"),
        ("6798.42", "820.51", "67.98", "888.49"),
        ("5977.91", "828.71", "59.78", "888.49"),
        ("5149.20", "837.00", "51.49", "888.49"),
        ("4312.20", "845.37", "43.12", "888.49"),
        ("3466.83", "853.82", "34.67", "888.49"),
        ("2613.01", "862.36", "26.13", "888.49"),
        ("1750.65", "870.98", "17.51", "888.49"),
        ("879.67", "879.67", "8.80", "888.47"),  # the last instalment absorbs the residue
    ]
    assert [row.due_date for row in s.rows[:3]] == [
        date(2024, 2, 15),
        date(2024, 3, 15),
        date(2024, 4, 15),
    ]
    assert [row.days for row in s.rows[:3]] == [31, 29, 31]
    assert s.rows[1].period_start == date(2024, 2, 15)
    assert s.total_principal == D("10000.00")
    assert s.total_interest == D("661.86")
    assert s.total_payments == D("10661.86")
    assert s.total_fees == D("0.00")
    assert s.rows[-1].closing_balance == D("0.00")
    assert len(s) == 12
    assert s.payments == tuple(row.payment for row in s.rows)


def test_long_odd_first_period_adds_the_odd_days_interest_to_the_first_payment():
    s = schedule(first_payment_date=date(2024, 3, 1))
    first = s.rows[0]
    # Jan 15 -> Mar 1 is 46 days under 30/360: 10000 x 0.12 x 46/360 = 153.33;
    # a regular month would be 100.00, so the first payment is 888.49 + 53.33.
    assert (first.interest, first.principal, first.payment) == (
        D("153.33"),
        D("788.49"),
        D("941.82"),
    )
    assert first.days == 46
    # From then on the schedule is the regular one.
    assert table(s, "principal", "interest")[1:] == table(schedule(), "principal", "interest")[1:]
    assert s.total_interest == D("715.19")


def test_short_odd_first_period_deducts_the_missing_days_from_the_first_payment():
    s = schedule(first_payment_date=date(2024, 2, 1))
    first = s.rows[0]
    # Jan 15 -> Feb 1 is 16 days under 30/360: 53.33 instead of 100.00.
    assert (first.interest, first.principal, first.payment) == (
        D("53.33"),
        D("788.49"),
        D("841.82"),
    )
    assert s.rows[1].due_date == date(2024, 3, 1)
    assert s.total_payments == D("10615.19")


def test_disbursed_jan_31_falls_due_on_month_ends_and_charges_a_month_for_february():
    s = schedule(disbursement_date=date(2024, 1, 31), term=4)
    assert [r.due_date for r in s.rows] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert [r.days for r in s.rows] == [29, 31, 30, 31]
    # 30/360 regular periods are exactly rate/12, whatever the month's length.
    assert table(s, "interest", "payment") == [
        ("100.00", "2562.81"),
        ("75.37", "2562.81"),
        ("50.50", "2562.81"),
        ("25.37", "2562.81"),
    ]


@pytest.mark.parametrize(
    ("changes", "installment", "rows"),
    [
        # 7.3 % / 365 = 0.0002 a day: 31 days -> 62.00, 28 days on 6688.03 -> 37.45.
        (
            {"annual_rate": "0.073", "day_count": "actual/365"},
            "3373.97",
            [("62.00", "3373.97"), ("37.45", "3373.97"), ("20.78", "3372.29")],
        ),
        (
            {"annual_rate": "0.072", "day_count": "actual/360"},
            "3373.41",
            [("62.00", "3373.41"), ("37.46", "3373.41"), ("20.79", "3373.43")],
        ),
        (
            {"annual_rate": "0.0728", "day_count": "actual/364"},
            "3373.86",
            [("62.00", "3373.86"), ("37.45", "3373.86"), ("20.78", "3372.51")],
        ),
    ],
)
def test_actual_day_counts_charge_actual_days(changes, installment, rows):
    s = schedule(**changes, disbursement_date=date(2023, 1, 15), term=3)
    assert s.installment == D(installment)
    assert table(s, "interest", "payment") == rows


def test_actual_actual_isda_splits_the_year_end():
    s = schedule(
        annual_rate="0.0732",
        day_count="actual/actual",
        disbursement_date=date(2023, 12, 15),
        term=3,
    )
    # 10000 x 0.0732 x (17/365 + 14/366) = 62.09; then 31/366 and 29/366 of 2024.
    assert table(s, "interest", "payment") == [
        ("62.09", "3374.08"),
        ("41.47", "3374.08"),
        ("19.46", "3374.86"),
    ]


def test_thirty_day_conventions_differ_only_in_odd_periods():
    us = schedule(day_count="30/360", first_payment_date=date(2024, 3, 31), term=3)
    eu = schedule(day_count="30E/360", first_payment_date=date(2024, 3, 31), term=3)
    # Jan 15 -> Mar 31: US keeps the 31st (76 days), 30E/360 caps it (75 days).
    assert us.rows[0].interest == D("253.33")
    assert eu.rows[0].interest == D("250.00")
    assert us.installment == eu.installment == D("3400.22")
    assert us.rows[0].payment == D("3553.55")  # 3400.22 + 253.33 - 100.00
    assert eu.rows[0].payment == D("3550.22")
    assert [r.due_date for r in us.rows] == [
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert table(us, "interest")[1:] == table(eu, "interest")[1:] == [("67.00",), ("33.67",)]


def test_equal_principal():
    s = schedule(amortization="equal_principal")
    assert s.installment == D("833.33")
    assert table(s, "principal", "interest", "payment")[:3] == [
        ("833.33", "100.00", "933.33"),
        ("833.33", "91.67", "925.00"),
        ("833.33", "83.33", "916.66"),
    ]
    assert s.rows[-1].principal == D("833.37")  # 10000 - 11 x 833.33
    assert s.total_interest == D("650.00")


def test_equal_principal_rounds_the_principal_part_to_the_multiple_when_asked():
    # Issue 13: the multiple applies to level instalments only; rounding the
    # equal-principal part to it is now the "installment_multiple" setting
    # (the rule before, which loans boarded before it keep).
    s = schedule(
        amortization="equal_principal",
        principal="1000",
        term=3,
        installment_multiple="10",
        rounding="down",
        equal_principal_rounding="installment_multiple",
    )
    assert table(s, "principal", "interest", "payment") == [
        ("330.00", "10.00", "340.00"),
        ("330.00", "6.70", "336.70"),
        ("340.00", "3.40", "343.40"),
    ]


def test_interest_only_pays_the_principal_with_the_last_instalment():
    s = schedule(amortization="interest_only", first_payment_date=date(2024, 2, 1), term=3)
    assert s.installment is None
    assert table(s, "principal", "interest", "payment") == [
        ("0.00", "53.33", "53.33"),  # 16 days (30/360)
        ("0.00", "100.00", "100.00"),
        ("10000.00", "100.00", "10100.00"),
    ]


def test_flat_interest_on_the_original_principal():
    s = schedule(interest_method="flat")
    assert s.installment == D("933.33")  # (10000 + 12 x 100) / 12
    assert all(row.interest == D("100.00") for row in s.rows)
    assert s.rows[-1].principal == D("833.37")
    assert s.total_interest == D("1200.00")


def test_flat_with_odd_first_period_and_actual_days():
    odd = schedule(interest_method="flat", first_payment_date=date(2024, 3, 1), term=3)
    assert table(odd, "principal", "interest", "payment") == [
        ("3333.33", "153.33", "3486.66"),
        ("3333.33", "100.00", "3433.33"),
        ("3333.34", "100.00", "3433.34"),
    ]
    actual = schedule(
        interest_method="flat", amortization="equal_principal", day_count="actual/365", term=3
    )
    # 10000 x 0.12 x 31/365 = 101.92 and x 29/365 = 95.34, on the original principal.
    assert table(actual, "interest") == [("101.92",), ("95.34",), ("101.92",)]


def test_grace_on_principal():
    s = schedule(grace_principal_periods=2, term=4)
    assert s.installment == D("5075.12")  # 10000 amortised over the last 2 periods
    assert table(s, "principal", "interest", "payment") == [
        ("0.00", "100.00", "100.00"),
        ("0.00", "100.00", "100.00"),
        ("4975.12", "100.00", "5075.12"),
        ("5024.88", "50.25", "5075.13"),
    ]


def test_interest_free_periods_discount_at_zero():
    s = schedule(interest_free_periods=2, term=4)
    # 10000 / (1 + 1 + 1.01^-1 + 1.01^-2) = 2518.64
    assert table(s, "principal", "interest", "payment") == [
        ("2518.64", "0.00", "2518.64"),
        ("2518.64", "0.00", "2518.64"),
        ("2469.01", "49.63", "2518.64"),
        ("2493.71", "24.94", "2518.65"),
    ]


def test_deferred_interest_is_charged_but_due_after_the_grace():
    s = schedule(grace_interest_periods=2, amortization="equal_principal", term=4)
    assert table(s, "interest_charged", "interest", "payment") == [
        ("100.00", "0.00", "2500.00"),
        ("75.00", "0.00", "2500.00"),
        ("50.00", "225.00", "2725.00"),
        ("25.00", "25.00", "2525.00"),
    ]
    assert s.total_interest == D("250.00")


def test_principal_grace_deferred_interest_and_interest_free_together():
    s = schedule(grace_principal_periods=3, grace_interest_periods=2, interest_free_periods=1)
    assert s.installment == D("1167.40")  # 10000 x 0.01 / (1 - 1.01^-9)
    assert table(s, "principal", "interest_charged", "interest", "payment")[:5] == [
        ("0.00", "0.00", "0.00", "0.00"),
        ("0.00", "100.00", "0.00", "0.00"),
        ("0.00", "100.00", "200.00", "200.00"),
        ("1067.40", "100.00", "100.00", "1167.40"),
        ("1078.07", "89.33", "89.33", "1167.40"),
    ]
    assert s.total_principal == D("10000.00")


def test_balloon():
    s = schedule(balloon_amount="4000")
    # (10000 - 4000 x 1.01^-12) / a(12, 1 %) = 573.09
    assert s.installment == D("573.09")
    last = s.rows[-1]
    assert (last.opening_balance, last.interest, last.payment) == (
        D("4527.84"),
        D("45.28"),
        D("4573.12"),
    )
    assert s.rows[-2].closing_balance == D("4527.84")


@pytest.mark.parametrize(
    ("multiple", "rounding", "installment", "last"),
    [
        ("1", "up", "889.00", "882.50"),
        ("1", "half_up", "888.00", "894.18"),
        ("5", "down", "885.00", "929.24"),
        ("0.01", "half_even", "888.49", "888.47"),
    ],
)
def test_installment_rounding_to_a_multiple(multiple, rounding, installment, last):
    s = schedule(installment_multiple=multiple, rounding=rounding)
    assert s.installment == D(installment)
    assert all(row.payment == D(installment) for row in s.rows[:-1])
    assert s.rows[-1].payment == D(last)
    assert s.total_principal == D("10000.00")


def test_a_coarse_rounded_up_instalment_never_takes_the_balance_below_zero():
    s = schedule(principal="1000", term=3, installment_multiple="600", rounding="up")
    assert table(s, "principal", "interest", "payment", "closing_balance") == [
        ("590.00", "10.00", "600.00", "410.00"),
        ("410.00", "4.10", "414.10", "0.00"),
        ("0.00", "0.00", "0.00", "0.00"),
    ]


def test_semi_monthly():
    s = schedule(repayment_unit="semi_months", first_payment_date=date(2024, 2, 1), term=6)
    assert [r.due_date for r in s.rows] == [
        date(2024, 2, 1),
        date(2024, 2, 16),
        date(2024, 3, 1),
        date(2024, 3, 16),
        date(2024, 4, 1),
        date(2024, 4, 16),
    ]
    # Regular semi-months are 1/24 of a year under 30/360; the first period
    # (Jan 15 -> Feb 1, 16 days) is 3.33 more than the regular 50.00.
    assert table(s, "principal", "interest", "payment") == [
        ("1645.95", "53.33", "1699.28"),
        ("1654.18", "41.77", "1695.95"),
        ("1662.45", "33.50", "1695.95"),
        ("1670.76", "25.19", "1695.95"),
        ("1679.12", "16.83", "1695.95"),
        ("1687.54", "8.44", "1695.98"),
    ]


def test_every_two_weeks_actual_365():
    s = schedule(repayment_unit="weeks", repayment_every=2, day_count="actual/365", term=5)
    assert s.installment == D("2027.78")  # nominal rate 0.12 / 26
    assert [r.due_date for r in s.rows[:2]] == [date(2024, 1, 29), date(2024, 2, 12)]
    assert table(s, "interest") == [("46.03",), ("36.91",), ("27.74",), ("18.54",), ("9.29",)]
    assert s.rows[-1].payment == D("2027.39")


def test_every_ten_days():
    s = schedule(
        annual_rate="0.073",
        day_count="actual/365",
        repayment_unit="days",
        repayment_every=10,
        term=3,
    )
    # 0.073 x 10/365 = 0.002 per period.
    assert s.installment == D("3346.68")
    assert table(s, "interest", "payment") == [
        ("20.00", "3346.68"),
        ("13.35", "3346.68"),
        ("6.68", "3346.67"),
    ]


def test_periods_per_year():
    assert periods_per_year(LoanTerms(**BASE, repayment_every=3)) == 4
    assert periods_per_year(LoanTerms(**BASE, repayment_unit="semi_months")) == 24
    assert periods_per_year(LoanTerms(**BASE, repayment_unit="weeks", repayment_every=2)) == 26
    days = LoanTerms(**BASE, repayment_unit="days", repayment_every=7, day_count="actual/360")
    assert periods_per_year(days) == Fraction(360, 7)


def test_fee_treatments_set_loan_and_disbursed_amounts():
    fees = [
        Fee("origination", D("200"), "withheld", True),
        Fee("processing", D("150"), "financed", True),
        Fee("title", D("50"), "financed", False),
        Fee("appraisal", D("300"), "paid_separately", True),
    ]
    s = schedule(fees=fees)
    assert s.loan_amount == D("10200.00")  # principal + financed fees
    assert s.disbursed_amount == D("9800.00")  # principal - withheld fees
    assert s.rows[0].opening_balance == D("10200.00")
    assert s.total_principal == D("10200.00")
    assert s.total_fees == D("0.00")


def test_schedule_is_frozen_and_rows_are_cached():
    s = schedule(term=2)
    assert s.rows is s.rows
    with pytest.raises(AttributeError):
        s.rows[0].payment = D(0)
    with pytest.raises(AttributeError):
        s.installment = D(0)


def test_a_half_cent_rounded_up_on_a_long_high_rate_loan_repays_it_a_row_early():
    # 32.8151 rounds to 32.82; 0.0049 a month compounded at 2.37 % for 229
    # months is about 45, more than the last instalment.
    s = schedule(principal="1377", annual_rate="0.2847", term=231)
    assert s.installment == D("32.82")
    assert table(s, "principal", "payment", "closing_balance")[-2:] == [
        ("22.76", "23.30", "0.00"),
        ("0.00", "0.00", "0.00"),
    ]
