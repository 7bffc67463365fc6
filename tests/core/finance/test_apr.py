"""APR by Regulation Z Appendix J's actuarial method.

The worked examples of Appendix J (c) are reproduced from the regulation's
text (12 CFR 1026 Appendix J; the same examples appear in 12 CFR 226):
amounts, dates and the disclosed APRs are the appendix's own.
"""

from datetime import date, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.finance import AprError, TermsError, UnitPeriod, add_months, apr, periods_from_start
from core.finance import unit_period as find_unit_period
from core.finance.unitperiod import flow_times

D = Decimal


def monthly(first: date, count: int, step: int = 1):
    return [add_months(first, k * step, first.day) for k in range(count)]


def every_days(first: date, count: int, days: int):
    return [first + timedelta(days=days * k) for k in range(count)]


def semimonthly_1st_16th(count: int):
    dates = []
    for k in range(count):
        months, half = divmod(k, 2)
        year, month0 = divmod(2 + months, 12)
        dates.append(date(1978 + year, month0 + 1, 1 if half == 0 else 16))
    return dates


def disclosed(result) -> Decimal:
    return (result.rate * 100).quantize(D("0.01"))


def test_c1i_monthly_payments_regular_first_period():
    """(c)(1)(i): $5,000 advanced 1-10-78, 24 monthly payments of $230 from 2-10-78: 9.69 %."""
    result = apr(
        [(date(1978, 1, 10), D(5000))], [(d, D(230)) for d in monthly(date(1978, 2, 10), 24)]
    )
    assert disclosed(result) == D("9.69")
    assert result.unit_period == UnitPeriod("months", 1)


def test_c1ii_monthly_payments_long_first_period():
    """(c)(1)(ii): $6,000 on 2-10-78, 36 payments of $200 from 4-1-78: 11.82 %.
    From 4-1 one month back is 3-1; 3-1 back to 2-10 is 19 days: t = 1, f = 19/30."""
    unit = UnitPeriod("months", 1)
    assert periods_from_start(date(1978, 2, 10), date(1978, 4, 1), unit) == (1, Fraction(19, 30))
    result = apr(
        [(date(1978, 2, 10), D(6000))], [(d, D(200)) for d in monthly(date(1978, 4, 1), 36)]
    )
    assert disclosed(result) == D("11.82")


def test_c1iii_semimonthly_payments_short_first_period():
    """(c)(1)(iii): $5,000 on 2-23-78, 24 payments of $219.17 on the 1st and 16th from 3-1-78:
    10.34 %. 2-23 to 3-1 is 6 days: t = 0, f = 6/15."""
    unit = UnitPeriod("semimonth", 1)
    assert periods_from_start(date(1978, 2, 23), date(1978, 3, 1), unit) == (0, Fraction(6, 15))
    assert periods_from_start(date(1978, 2, 23), date(1978, 4, 16), unit) == (3, Fraction(6, 15))
    payments = [(d, D("219.17")) for d in semimonthly_1st_16th(24)]
    result = apr([(date(1978, 2, 23), D(5000))], payments)
    assert result.unit_period == unit
    assert disclosed(result) == D("10.34")


def test_c1iv_quarterly_payments_long_first_period():
    """(c)(1)(iv): $10,000 on 5-23-78, 40 quarterly payments of $385 from 10-1-78: 8.97 %.
    10-1 back 4 months is 6-1, plus 9 days: 129 days = 1 unit-period + 39/90."""
    unit = UnitPeriod("months", 3)
    assert periods_from_start(date(1978, 5, 23), date(1978, 10, 1), unit) == (1, Fraction(39, 90))
    payments = [(d, D(385)) for d in monthly(date(1978, 10, 1), 40, 3)]
    result = apr([(date(1978, 5, 23), D(10000))], payments)
    assert result.unit_period == unit
    assert disclosed(result) == D("8.97")


def test_c1v_weekly_payments_long_first_period():
    """(c)(1)(v): $500 on 3-20-78, 30 weekly payments of $17.60 from 4-21-78: 14.96 %.
    32 days = 4 weeks + 4/7."""
    unit = UnitPeriod("days", 7)
    assert periods_from_start(date(1978, 3, 20), date(1978, 4, 21), unit) == (4, Fraction(4, 7))
    payments = [(d, D("17.60")) for d in every_days(date(1978, 4, 21), 30, 7)]
    result = apr([(date(1978, 3, 20), D(500))], payments)
    assert result.unit_period == unit
    assert result.unit_period.per_year == 52
    assert disclosed(result) == D("14.96")


def test_c2i_monthly_payments_irregular_first_payment():
    """(c)(2)(i): $5,000 on 1-10-78; $250 on 2-10-78, then 23 of $230: 10.08 %."""
    payments = [(date(1978, 2, 10), D(250))]
    payments += [(d, D(230)) for d in monthly(date(1978, 3, 10), 23)]
    assert disclosed(apr([(date(1978, 1, 10), D(5000))], payments)) == D("10.08")


def test_c2ii_four_weekly_payments_long_first_period_irregular_first_payment():
    """(c)(2)(ii): $400 on 3-18-78; $39.50 on 4-20-78, then 11 of $38.31 every 4 weeks
    from 5-18-78: 28.50 %. 33 days = 1 unit-period + 5/28; 13 unit-periods a year."""
    payments = [(date(1978, 4, 20), D("39.50"))]
    payments += [(d, D("38.31")) for d in every_days(date(1978, 5, 18), 11, 28)]
    result = apr([(date(1978, 3, 18), D(400))], payments)
    assert result.unit_period == UnitPeriod("days", 28)
    assert result.unit_period.per_year == 13
    assert periods_from_start(date(1978, 3, 18), date(1978, 4, 20), result.unit_period) == (
        1,
        Fraction(5, 28),
    )
    assert disclosed(result) == D("28.50")


def test_c3i_monthly_payments_irregular_final_payment():
    """(c)(3)(i): $5,000 on 1-10-78; 23 of $230 from 2-10-78, then $280: 10.50 %."""
    payments = [(d, D(230)) for d in monthly(date(1978, 2, 10), 23)]
    payments.append((date(1980, 1, 10), D(280)))
    assert disclosed(apr([(date(1978, 1, 10), D(5000))], payments)) == D("10.50")


def test_c3ii_biweekly_payments_short_first_period_irregular_final_payment():
    """(c)(3)(ii): $200 on 4-3-78; 19 of $9.50 every 2 weeks from 4-11-78, then $30: 12.22 %."""
    dates = every_days(date(1978, 4, 11), 20, 14)
    payments = [(d, D("9.50")) for d in dates[:19]] + [(dates[19], D(30))]
    result = apr([(date(1978, 4, 3), D(200))], payments)
    assert result.unit_period == UnitPeriod("days", 14)
    assert disclosed(result) == D("12.22")


def test_c4i_monthly_irregular_first_and_final_payments():
    """(c)(4)(i): $5,000 on 1-10-78; $250 on 2-10-78, 22 of $230, $280 last: 10.90 %."""
    payments = [(date(1978, 2, 10), D(250))]
    payments += [(d, D(230)) for d in monthly(date(1978, 3, 10), 22)]
    payments.append((date(1980, 1, 10), D(280)))
    assert disclosed(apr([(date(1978, 1, 10), D(5000))], payments)) == D("10.90")


def test_c4ii_bimonthly_short_first_period_irregular_first_and_final_payments():
    """(c)(4)(ii): $8,000 on 1-10-78; $449.36 on 3-1-78, 18 of $465 every two months from
    5-1-78, $200 on 5-1-81: 7.30 %. 3-1 back to 2-1 is a month, plus 22 days: 52/60."""
    payments = [(date(1978, 3, 1), D("449.36"))]
    payments += [(d, D(465)) for d in monthly(date(1978, 5, 1), 18, 2)]
    payments.append((date(1981, 5, 1), D(200)))
    result = apr([(date(1978, 1, 10), D(8000))], payments)
    assert result.unit_period == UnitPeriod("months", 2)
    assert periods_from_start(date(1978, 1, 10), date(1978, 3, 1), result.unit_period) == (
        0,
        Fraction(52, 60),
    )
    assert disclosed(result) == D("7.30")


def test_c5i_single_advance_single_payment_in_days():
    """(c)(5)(i): $1,000 on 1-3-78 repaid with $1,080 on 9-15-78 (255 days): 11.45 %."""
    result = apr([(date(1978, 1, 3), D(1000))], [(date(1978, 9, 15), D(1080))])
    assert result.unit_period == UnitPeriod("term", 255, in_months=False)
    assert disclosed(result) == D("11.45")
    assert result.rate == (D(80) / 1000 * 365 / 255).quantize(D("1e-12"))


def test_single_advance_single_payment_in_whole_months_and_over_a_year():
    # (b)(5)(vi): 9 whole months: one unit-period, 12/9 of them a year.
    nine = apr([(date(2024, 1, 15), D(1000))], [(date(2024, 10, 15), D(1060))])
    assert nine.unit_period == UnitPeriod("term", 9, in_months=True)
    assert nine.rate == D("0.080000000000")
    # (b)(4)(ii), (b)(5)(v): 15 months: a year unit, t = 1, f = 3/12.
    long = apr([(date(2024, 1, 15), D(1000))], [(date(2025, 4, 15), D(1135))])
    assert long.unit_period == UnitPeriod("months", 12)
    # (1 + i/4)(1 + i) = 1.135  ->  i = (-1.25 + sqrt(1.5625 + 0.135)) / 0.5
    with localcontext() as ctx:
        ctx.prec = 40
        expected = (D("-1.25") + D("1.6975").sqrt()) / D("0.5")
    assert abs(long.rate - expected) < D("1e-11")


def test_year_unit_with_odd_days_uses_365():
    unit = UnitPeriod("months", 12)
    # 2024-01-15 -> 2025-03-01: one year back is 2024-03-01; 46 days remain.
    assert periods_from_start(date(2024, 1, 15), date(2025, 3, 1), unit) == (1, Fraction(46, 365))
    assert periods_from_start(date(2024, 1, 15), date(2025, 4, 15), unit) == (1, Fraction(3, 12))


def test_months_are_counted_back_from_the_payment_date_on_month_ends():
    unit = UnitPeriod("months", 1)
    # A month-end series counts last day to last day (b)(3)(iv).
    assert periods_from_start(date(2024, 1, 20), date(2024, 4, 30), unit, anchor=31) == (
        3,
        Fraction(11, 30),
    )
    # The same date in a series on the 30th counts back to the 30ths.
    assert periods_from_start(date(2024, 1, 20), date(2024, 4, 30), unit, anchor=30) == (
        3,
        Fraction(10, 30),
    )
    # A series on the 30th uses the last day of February.
    assert periods_from_start(date(2024, 1, 30), date(2024, 2, 29), unit, anchor=30) == (1, 0)
    assert periods_from_start(date(2024, 1, 31), date(2024, 2, 29), unit, anchor=31) == (1, 0)


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        # Most frequent common period.
        (monthly(date(2024, 2, 15), 12), UnitPeriod("months", 1)),
        # Two common periods occurring equally often: the shorter one.
        (
            [*every_days(date(2024, 1, 8), 3, 7), *every_days(date(2024, 1, 29), 3, 14)],
            UnitPeriod("days", 7),
        ),
        # No common period: the average of 1 month, 45 and 60 days (45.1 days)
        # rounded to the nearest standard interval, 6 weeks (7 weeks: 49).
        ([date(2024, 2, 1), date(2024, 3, 17), date(2024, 5, 16)], UnitPeriod("days", 42)),
    ],
)
def test_unit_period_selection(payments, expected):
    assert find_unit_period([date(2024, 1, 1)], payments) == expected


def test_exactness_on_a_stream_built_at_a_known_rate():
    """An advance equal to the payments discounted at a known unit rate gives
    back that rate: the solution is exact, not merely to 0.01 point."""
    start = date(2024, 1, 20)
    payments = [(d, D("1000.00")) for d in monthly(date(2024, 3, 5), 60)]
    i = D("0.00625")
    unit = UnitPeriod("months", 1)
    with localcontext() as ctx:
        ctx.prec = 60
        advance = sum(
            D(a) / ((1 + i * D(f.numerator) / f.denominator) * (1 + i) ** t)
            for (t, f), a in ((periods_from_start(start, d, unit), a) for d, a in payments)
        )
    result = apr([(start, advance)], payments)
    assert abs(result.rate - D("0.075")) < D("1e-12")


@st.composite
def known_rate_streams(draw):
    start = draw(st.dates(date(1990, 1, 1), date(2050, 1, 1)))
    kind = draw(st.sampled_from(["monthly", "weekly", "quarterly"]))
    count = draw(st.integers(2, 120))
    first = start + timedelta(days=draw(st.integers(1, 80)))
    if kind == "monthly":
        dates = monthly(first, count)
    elif kind == "quarterly":
        dates = monthly(first, count, 3)
    else:
        dates = every_days(first, count, 7)
    amounts = [D(draw(st.integers(1_00, 5_000_00))) / 100 for _ in range(3)]
    payments = [
        (d, amounts[k % 3] if draw(st.booleans()) else amounts[0]) for k, d in enumerate(dates)
    ]
    # Later advances fall before the first payment: with one sign change in
    # the cash flows the rate that solves the equation is unique.
    extra = draw(st.lists(st.integers(0, (first - start).days - 1), max_size=2))
    advance_dates = [start] + [start + timedelta(days=d) for d in extra]
    return advance_dates, payments, D(draw(st.integers(1, 4000))) / 100_000


@given(known_rate_streams())
def test_apr_recovers_the_rate_a_stream_was_built_at(stream):
    """Multiple advances, irregular amounts: split the discounted payments
    over the advances; the APR must come back to 1e-10. (With advances after
    payments the equation can have two roots, and any of them solves it.)"""
    advance_dates, payments, i = stream
    unit = find_unit_period(advance_dates, [d for d, _ in payments])
    start = advance_dates[0]

    def factor(when):
        t, f = periods_from_start(start, when, unit, max(d.day for d, _ in payments))
        return (1 + i * D(f.numerator) / f.denominator) * (1 + i) ** t

    with localcontext() as ctx:
        ctx.prec = 60
        value = sum(a / factor(d) for d, a in payments)
        later = [(d, D("0.25") * value * factor(d)) for d in advance_dates[1:]]
        first_amount = value - sum(a / factor(d) for d, a in later)
    advances = [(start, first_amount), *later]
    result = apr(advances, payments)
    assert result.unit_period == unit
    per_year = unit.per_year
    assert abs(result.unit_rate - i) < D("1e-12")
    assert abs(result.rate - i * per_year.numerator / per_year.denominator) < D("1e-10")


@given(
    st.dates(date(1990, 1, 1), date(2050, 1, 1)),
    st.integers(1, 90),
    st.sampled_from([1, 2, 3, 6, 12]),
    st.sampled_from([28, 29, 30, 31, 15, 1]),
    st.integers(1, 60),
)
def test_fast_flow_times_equal_the_appendix_rule(start, gap, months, day, count):
    first = start + timedelta(days=gap)
    dates = [add_months(first, k * months, day) for k in range(count)]
    dates = [d for d in dates if d >= start]
    if not dates:
        return
    anchor = max(d.day for d in dates)
    for unit in (UnitPeriod("months", months), UnitPeriod("semimonth", 1), UnitPeriod("days", 7)):
        ts, fs, den = flow_times(start, dates, unit, anchor)
        for when, t, f in zip(dates, ts, fs, strict=True):
            slow_t, slow_f = periods_from_start(start, when, unit, anchor)
            # f = 1 is the same discount as one more full unit-period.
            assert (t, Fraction(f, den)) == (slow_t, slow_f) or (
                slow_f == 1 and (t, f) == (slow_t + 1, 0)
            )


def test_matches_irr_times_twelve_for_regular_monthly_streams():
    npf = pytest.importorskip("numpy_financial")
    payments = [(d, D("888.49")) for d in monthly(date(2024, 2, 15), 11)]
    payments.append((date(2025, 1, 15), D("888.47")))
    result = apr([(date(2024, 1, 15), D("9700.00"))], payments)
    irr = npf.irr([-9700.0] + [float(a) for _, a in payments])
    assert abs(float(result.rate) - 12 * irr) < 1e-10
    assert disclosed(result) == D("17.83")


def test_bad_input():
    payments = [(date(2024, 2, 1), D(100))]
    with pytest.raises(TermsError) as info:
        apr([], payments)
    assert "advances" in info.value.errors
    with pytest.raises(TermsError):
        apr([(date(2024, 3, 1), D(100))], payments)  # payment before the advance
    with pytest.raises(TermsError):
        apr([(date(2024, 1, 1), 100.0)], payments)
    with pytest.raises(TermsError):
        apr([(date(2024, 1, 1), D("NaN"))], payments)
    with pytest.raises(TermsError):
        apr([(date(2024, 1, 1), D(100))], [(date(2024, 2, 1), D(0))])


def test_negative_finance_charge_gives_a_negative_rate_and_impossible_streams_fail():
    result = apr([(date(2024, 1, 1), D(1000))], [(d, D(80)) for d in monthly(date(2024, 2, 1), 12)])
    assert result.rate < 0
    with pytest.raises(AprError):
        apr(
            [(date(2024, 1, 1), D(1000)), (date(2024, 3, 1), D(1000))],
            [(date(2024, 2, 1), D(1))],
        )


def test_advances_on_one_date_count_once_each_and_are_not_spread_over_periods():
    start = date(2024, 1, 1)
    payments = [(d, D(300)) for d in every_days(date(2024, 1, 16), 3, 7)]
    split = apr(
        [(start, D(400)), (date(2024, 1, 15), D(250)), (date(2024, 1, 15), D(250))], payments
    )
    whole = apr([(start, D(400)), (date(2024, 1, 15), D(500))], payments)
    assert split == whole


def test_construction_style_multiple_advances_with_interest_only_payments():
    """Draws of 20,000 on the 1st of each of 5 months, interest-only payments
    of 1 % of the drawn balance a month later, then the balance repaid: the
    actuarial rate is exactly 1 % a month (12 %)."""
    draws = [(date(2024, month, 1), D(20000)) for month in range(1, 6)]
    payments = [(date(2024, month + 1, 1), D(200) * month) for month in range(1, 6)]
    payments[-1] = (date(2024, 6, 1), D(1000) + D(100000))
    result = apr(draws, payments)
    assert result.unit_period == UnitPeriod("months", 1)
    assert result.rate == D("0.120000000000")
