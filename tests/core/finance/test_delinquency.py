"""Delinquency: days past due as Regulation X counts them (12 CFR 1024.31,
"delinquency"), delinquent days beyond an arrears grace, and late payments
under a late-fee grace, with payments deemed applied to periodic payments
(principal and interest) before any fee, so late fees never pyramid (FTC
Credit Practices Rule, 16 CFR 444.4; Reg Z 1026.36(c)(2)).

The loan: 1,200.00 at 12 % over 12 months, disbursed 2023-12-01, 30/360, so
instalment 1 is 94.62 principal + 12.00 interest = 106.62, due 2024-01-01,
and every later one 106.62 (the last 106.60), due on the 1st of each month.
Every expected figure below is worked out by hand from those numbers.
"""

from datetime import date
from decimal import Decimal
from itertools import permutations

import pytest

from core.finance import (
    AllocationMethod,
    Component,
    ExcessHandling,
    FeeEvent,
    LoanSetup,
    LoanTerms,
    PaymentEvent,
    PeriodicArrear,
    TermsError,
    WaiverEvent,
    build_schedule,
    replay,
)

D = Decimal
TERMS = LoanTerms(
    principal="1200", annual_rate="0.12", term=12, disbursement_date=date(2023, 12, 1)
)
SCHEDULE = build_schedule(TERMS)
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
EVERY_ORDER_AND_METHOD = [
    (order, method) for order in permutations(Component) for method in AllocationMethod
]


def setup(order=None, method=AllocationMethod.HORIZONTAL, **graces):
    options = {} if order is None else {"allocation_order": tuple(order)}
    return LoanSetup(terms=TERMS, schedule=SCHEDULE, allocation_method=method, **options, **graces)


def pay(event_id, day, amount, excess=ExcessHandling.PREPAYMENT):
    return PaymentEvent(id=event_id, effective_date=day, amount=D(amount), excess=excess)


def late_fee(event_id, day, number, amount="25.00"):
    return FeeEvent(
        id=event_id,
        effective_date=day,
        seq=99,
        amount=D(amount),
        kind="late",
        installment_number=number,
    )


def test_the_schedule_under_test():
    assert SCHEDULE.due_dates[:3] == (JAN, FEB, MAR)
    assert (SCHEDULE.rows[0].principal, SCHEDULE.rows[0].interest) == (D("94.62"), D("12.00"))
    assert SCHEDULE.payments[:2] == (D("106.62"), D("106.62"))


@pytest.mark.parametrize(("order", "method"), EVERY_ORDER_AND_METHOD)
def test_the_issue_check_january_paid_its_late_fee_not_is_3_days_past_due_on_feb_4(order, method):
    """Issue 13: January's principal and interest paid, its late fee not:
    on February 4 the oldest unpaid periodic payment is February's (due
    Feb 1), so 3 days past due, not 34 (from January 1), whatever the
    allocation order and method."""
    events = [late_fee(1, date(2024, 1, 12), 1), pay(2, date(2024, 1, 20), "106.62")]
    state = replay(setup(order, method), events, as_of=date(2024, 2, 4))
    assert state.days_past_due == 3
    assert state.periodic_arrears == (PeriodicArrear(2, FEB, D("106.62")),)
    # The fee is still owed (as the fee, or as the principal it was paid from).
    owed = state.fees_due_unpaid + state.principal_due_unpaid + state.interest_due_unpaid
    assert owed == D("25.00") + D("106.62")
    # The day before February's due date nothing is past due; on it, 0 days.
    for day in (date(2024, 1, 31), FEB):
        assert replay(setup(order, method), events, as_of=day).days_past_due == 0


def test_days_past_due_count_from_the_due_date_and_no_grace_delays_them():
    plain, graced = setup(), setup(arrears_grace_days=10)
    # (as of, days past due, delinquent days beyond a 10-day arrears grace)
    for as_of, dpd, delinquent in [
        (JAN, 0, 0),
        (date(2024, 1, 5), 4, 0),
        (date(2024, 1, 11), 10, 0),
        (date(2024, 1, 12), 11, 1),
        (date(2024, 2, 4), 34, 24),  # two instalments unpaid: from January 1
    ]:
        state = replay(graced, [], as_of=as_of)
        assert (state.days_past_due, state.delinquent_days) == (dpd, delinquent), as_of
        state = replay(plain, [], as_of=as_of)
        assert (state.days_past_due, state.delinquent_days) == (dpd, dpd), as_of


def test_a_periodic_payment_short_by_a_cent_is_not_paid_in_full():
    state = replay(setup(), [pay(1, JAN, "106.61")], as_of=date(2024, 1, 10))
    assert state.days_past_due == 9
    assert state.periodic_arrears == (PeriodicArrear(1, JAN, D("0.01")),)
    # The missing cent and February's instalment early, as unapplied credit:
    # the credit pays February on its due date, so nothing is past due.
    events = [pay(1, JAN, "106.61"), pay(2, date(2024, 1, 20), "106.63", ExcessHandling.UNAPPLIED)]
    assert replay(setup(), events, as_of=date(2024, 2, 4)).days_past_due == 0


def test_a_payment_to_the_oldest_instalment_advances_the_delinquency_date():
    # Two instalments missed; one instalment's amount pays January (the oldest),
    # so the delinquency runs from February 1 (Reg X comment 31 (delinquency)-3).
    state = replay(setup(), [pay(1, date(2024, 2, 10), "106.62")], as_of=date(2024, 2, 10))
    assert state.days_past_due == 9
    assert state.periodic_arrears == (PeriodicArrear(2, FEB, D("106.62")),)


def test_fees_alone_are_not_past_due():
    nsf = FeeEvent(id=2, effective_date=date(2024, 1, 5), amount=D("30"), kind="nsf")
    state = replay(setup(), [pay(1, JAN, "106.62"), nsf], as_of=date(2024, 1, 31))
    assert state.fees_due_unpaid == D("30.00")
    assert (state.days_past_due, state.delinquent_days, state.periodic_arrears) == (0, 0, ())


def test_no_late_fee_until_the_payment_is_more_than_n_days_late():
    """Grace 10, due January 1: a payment made by January 11 (10 days late) is
    in time; on January 11 nothing is late yet, on January 12 an unpaid
    instalment is; a payment made on January 12 (11 days late) is late."""
    graced = setup(late_fee_grace_days=10)
    assert replay(graced, [], as_of=date(2024, 1, 11)).late_payments == ()
    assert replay(graced, [], as_of=date(2024, 1, 12)).late_payments == (
        PeriodicArrear(1, JAN, D("106.62")),
    )
    on_day_10 = [pay(1, date(2024, 1, 11), "106.62")]
    for as_of in (date(2024, 1, 12), date(2024, 2, 11)):  # February late from the 12th
        assert replay(graced, on_day_10, as_of=as_of).late_payments == ()
    on_day_11 = [pay(1, date(2024, 1, 12), "106.62")]
    for as_of in (date(2024, 1, 12), date(2024, 1, 20)):
        assert replay(graced, on_day_11, as_of=as_of).late_payments == (
            PeriodicArrear(1, JAN, D("106.62")),
        )
    # What it lacked when the grace ended: a partial payment counts.
    partial = [pay(1, date(2024, 1, 5), "100.00"), pay(2, date(2024, 1, 15), "6.62")]
    assert replay(graced, partial, as_of=date(2024, 1, 20)).late_payments == (
        PeriodicArrear(1, JAN, D("6.62")),
    )


def test_with_no_grace_a_payment_is_late_the_day_after_its_due_date():
    ungraced = setup(late_fee_grace_days=0)
    assert replay(ungraced, [pay(1, JAN, "106.62")], as_of=date(2024, 1, 2)).late_payments == ()
    assert replay(ungraced, [], as_of=JAN).late_payments == ()
    late = replay(ungraced, [pay(1, date(2024, 1, 2), "106.62")], as_of=date(2024, 1, 2))
    assert late.late_payments == (PeriodicArrear(1, JAN, D("106.62")),)


@pytest.mark.parametrize(("order", "method"), EVERY_ORDER_AND_METHOD)
def test_a_late_fee_never_makes_the_next_full_on_time_payment_late(order, method):
    """The NCLC's pyramiding example: January paid late (its fee charged on
    the 12th), then February and March paid in full on their due dates.
    Whatever order takes the 25.00 fee from the February payment, only
    January is late and nothing is past due in March."""
    graced = setup(order, method, late_fee_grace_days=10)
    events = [
        late_fee(1, date(2024, 1, 12), 1),
        pay(2, date(2024, 1, 20), "106.62"),
        pay(3, FEB, "106.62"),
        pay(4, MAR, "106.62"),
    ]
    state = replay(graced, events, as_of=date(2024, 3, 20))
    assert state.late_payments == (PeriodicArrear(1, JAN, D("106.62")),)
    assert state.days_past_due == 0


@pytest.mark.parametrize(("order", "method"), EVERY_ORDER_AND_METHOD)
def test_money_paid_early_for_the_next_instalment_is_deemed_paid_to_it_not_to_a_fee(order, method):
    """January and February paid together on January 20 (the excess kept as
    credit), January's late fee unpaid: February is paid in full on its due
    date however the fee took part of the money."""
    graced = setup(order, method, late_fee_grace_days=10)
    events = [
        late_fee(1, date(2024, 1, 12), 1),
        pay(2, date(2024, 1, 20), "213.24", ExcessHandling.UNAPPLIED),
    ]
    state = replay(graced, events, as_of=date(2024, 2, 20))
    assert state.late_payments == (PeriodicArrear(1, JAN, D("106.62")),)
    assert state.days_past_due == 0


def test_a_waived_fee_already_paid_comes_back_and_pays_the_instalment():
    """A fee paid from a January payment (fees first) and then waived: the
    cash comes back as credit, which pays what the instalment lacks."""
    events = [
        late_fee(1, date(2024, 1, 12), 1),
        pay(2, date(2024, 1, 20), "106.62"),
        WaiverEvent(id=3, effective_date=date(2024, 1, 25), fee_event_id=1, amount=D("25")),
    ]
    state = replay(setup(), events, as_of=date(2024, 1, 31))
    assert state.effects[3].to_unapplied == D("25.00")
    assert state.principal_due_unpaid == state.fees_due_unpaid == state.credit_balance == 0
    assert (state.days_past_due, state.periodic_arrears) == (0, ())
    # February's payment then pays February in full.
    state = replay(setup(), [*events, pay(4, FEB, "106.62")], as_of=date(2024, 2, 5))
    assert (state.days_past_due, state.periodic_arrears) == (0, ())


@pytest.mark.parametrize("bad", [-1, True, "3", 1.5])
def test_graces_are_whole_days(bad):
    for name in ("arrears_grace_days", "late_fee_grace_days"):
        with pytest.raises(TermsError) as caught:
            setup(**{name: bad})
        assert name in caught.value.errors
