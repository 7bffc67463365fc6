"""The payment allocation waterfall."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.finance import AllocationLine, Component, Due, TermsError, allocate

D = Decimal
FEES, PENALTIES, INTEREST, PRINCIPAL = (
    Component.FEES,
    Component.PENALTIES,
    Component.INTEREST,
    Component.PRINCIPAL,
)
DUES = [
    Due(2, date(2024, 3, 15), penalties=D("10"), interest=D("92.12"), principal=D("796.37")),
    Due(1, date(2024, 2, 15), fees=D("5"), interest=D("100"), principal=D("788.49")),
]


def lines(allocation):
    return [(line.number, line.component.value, str(line.amount)) for line in allocation.lines]


def test_horizontal_pays_the_oldest_instalment_first():
    result = allocate(D("1000"), DUES)
    assert lines(result) == [
        (1, "fees", "5.00"),
        (1, "interest", "100.00"),
        (1, "principal", "788.49"),
        (2, "penalties", "10.00"),
        (2, "interest", "92.12"),
        (2, "principal", "4.39"),
    ]
    assert result.unapplied == result.prepayment == D("0.00")
    assert result.lines[0] == AllocationLine(1, date(2024, 2, 15), FEES, D("5.00"))
    assert result.to_installment(2) == {
        FEES: D("0.00"),
        PENALTIES: D("10.00"),
        INTEREST: D("92.12"),
        PRINCIPAL: D("4.39"),
    }
    # What is left, in the order the dues were given.
    assert result.remaining[0].principal == D("791.98")
    assert result.remaining[1].total == D("0.00")


def test_vertical_pays_each_component_across_instalments_first():
    result = allocate(D("300"), DUES, method="vertical")
    assert lines(result) == [
        (1, "fees", "5.00"),
        (2, "penalties", "10.00"),
        (1, "interest", "100.00"),
        (2, "interest", "92.12"),
        (1, "principal", "92.88"),
    ]
    assert result.to_component("interest") == D("192.12")


def test_configurable_order():
    result = allocate(D("150"), DUES, order=["interest", "principal", "fees", "penalties"])
    assert lines(result) == [(1, "interest", "100.00"), (1, "principal", "50.00")]
    with pytest.raises(TermsError) as info:
        allocate(D("1"), DUES, order=["interest", "principal"])
    assert "order" in info.value.errors


def test_excess_as_unapplied_credit_or_prepayment():
    total = sum(due.total for due in DUES)  # 1791.98
    assert allocate(D("2000"), DUES).unapplied == D("208.02")
    prepaid = allocate(D("2000"), DUES, excess="prepayment")
    assert (prepaid.prepayment, prepaid.unapplied) == (D("208.02"), D("0.00"))
    capped = allocate(D("2000"), DUES, excess="prepayment", prepayable=D("100"))
    assert (capped.prepayment, capped.unapplied) == (D("100.00"), D("108.02"))
    assert capped.applied == total


def test_bad_amounts():
    with pytest.raises(TermsError):
        allocate(D("-1"), DUES)
    with pytest.raises(TermsError):
        allocate(D("1.001"), DUES)
    with pytest.raises(TermsError):
        allocate(1.0, DUES)
    with pytest.raises(TermsError):
        Due(1, date(2024, 1, 1), interest=D("-1"))


cents = st.integers(0, 500_00).map(lambda c: D(c) / 100)
dues = st.lists(
    st.builds(
        Due,
        number=st.integers(1, 60),
        due_date=st.dates(date(2024, 1, 1), date(2026, 1, 1)),
        fees=cents,
        penalties=cents,
        interest=cents,
        principal=cents,
    ),
    max_size=8,
)


@given(
    st.integers(0, 4000_00).map(lambda c: D(c) / 100),
    dues,
    st.permutations(list(Component)),
    st.sampled_from(["horizontal", "vertical"]),
    st.sampled_from(["prepayment", "unapplied"]),
)
def test_allocation_conserves_every_cent(amount, items, order, method, excess):
    result = allocate(amount, items, order=order, method=method, excess=excess)
    assert result.applied + result.prepayment + result.unapplied == amount
    assert all(line.amount > 0 for line in result.lines)
    for due, left in zip(items, result.remaining, strict=True):
        for component in Component:
            assert 0 <= getattr(left, component.value) <= getattr(due, component.value)
        paid = sum(getattr(due, c.value) - getattr(left, c.value) for c in Component)
        assert paid >= 0
    owed = sum(due.total for due in items)
    assert result.applied == min(amount, owed)
    if amount < owed:
        assert result.prepayment == result.unapplied == 0
