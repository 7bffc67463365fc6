"""Servicing replay: invariants over random loans and event histories, and speed."""

import time
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.finance import (
    DEFAULT_ORDER,
    AllocationMethod,
    Amortization,
    Component,
    Due,
    ExcessHandling,
    FeeEvent,
    InterestMethod,
    LoanSetup,
    LoanTerms,
    ModificationEvent,
    PaymentEffect,
    PaymentEvent,
    PrepaymentMode,
    RefundEffect,
    RefundEvent,
    ServicingError,
    WaiverEffect,
    WaiverEvent,
    allocate,
    build_schedule,
    replay,
)
from core.money import ZERO

D = Decimal

PRINCIPAL, INTEREST = Component.PRINCIPAL, Component.INTEREST


def cents(low: int, high: int):
    return st.integers(low, high).map(lambda n: D(n) / 100)


@st.composite
def setups(draw):
    unit = draw(st.sampled_from(["months", "months", "weeks", "semi_months"]))
    disbursed = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
    first = None
    if draw(st.booleans()):
        first = disbursed + timedelta(days=draw(st.integers(10, 45 if unit == "months" else 20)))
    term = draw(st.integers(2, 18))
    terms = LoanTerms(
        principal=draw(cents(100_00, 20_000_00)),
        annual_rate=D(draw(st.integers(0, 3000))) / 10000,
        term=term,
        disbursement_date=disbursed,
        first_payment_date=first,
        repayment_unit=unit,
        amortization=draw(st.sampled_from(list(Amortization))),
        day_count=draw(st.sampled_from(["30/360", "actual/365", "actual/actual"])),
        grace_interest_periods=draw(st.integers(0, min(2, term - 1))),
        interest_method=draw(st.sampled_from(list(InterestMethod))),
        installment_multiple=draw(st.sampled_from(["0.01", "0.01", "1"])),
    )
    return LoanSetup(
        terms=terms,
        schedule=build_schedule(terms),
        allocation_order=tuple(draw(st.permutations(list(Component)))),
        allocation_method=draw(st.sampled_from(list(AllocationMethod))),
        prepayment_mode=draw(st.sampled_from(list(PrepaymentMode))),
    )


@st.composite
def histories(draw, setup: LoanSetup):
    schedule = setup.schedule
    start = setup.terms.disbursement_date
    span = (schedule.due_dates[-1] - start).days + 40
    instalment = max(*schedule.payments[:-1], D("10"))
    events, fees = [], []
    for event_id in range(1, draw(st.integers(0, 14)) + 1):
        day = start + timedelta(days=draw(st.integers(0, span)))
        seq = draw(st.integers(0, 3))
        kind = draw(st.sampled_from(["pay"] * 5 + ["fee", "fee", "waiver", "refund", "mod"]))
        if kind == "pay":
            amount = draw(
                st.one_of(
                    st.just(instalment),
                    cents(1, int(instalment * 250)),
                    st.just(schedule.loan_amount + instalment),
                )
            )
            excess = draw(st.sampled_from(list(ExcessHandling)))
            events.append(
                PaymentEvent(id=event_id, effective_date=day, seq=seq, amount=amount, excess=excess)
            )
        elif kind == "fee":
            number = draw(st.one_of(st.none(), st.integers(1, len(schedule))))
            fee = FeeEvent(
                id=event_id,
                effective_date=day,
                seq=seq,
                amount=draw(cents(1, 50_00)),
                kind=draw(st.sampled_from(["late", "nsf", "other"])),
                installment_number=number,
                penalty=draw(st.booleans()),
            )
            events.append(fee)
            fees.append(fee)
        elif kind == "waiver" and fees:
            fee = draw(st.sampled_from(fees))
            events.append(
                WaiverEvent(
                    id=event_id,
                    effective_date=fee.effective_date + timedelta(days=draw(st.integers(0, 40))),
                    seq=seq + 4,
                    fee_event_id=fee.id,
                    amount=draw(cents(1, int(fee.amount * 100))),
                )
            )
        elif kind == "refund":
            events.append(
                RefundEvent(id=event_id, effective_date=day, seq=seq, amount=draw(cents(1, 100_00)))
            )
        elif kind == "mod":

            def days_after(n, day=day):
                return day + timedelta(days=n)

            events.append(
                ModificationEvent(
                    id=event_id,
                    effective_date=day,
                    seq=seq,
                    annual_rate=draw(
                        st.one_of(st.none(), st.integers(0, 2500).map(lambda n: D(n) / 10000))
                    ),
                    remaining_term=draw(st.one_of(st.none(), st.integers(1, 24))),
                    capitalise_interest=draw(st.booleans()),
                    defer_installments=draw(st.integers(0, 2)),
                    next_due_date=draw(st.one_of(st.none(), st.integers(1, 40).map(days_after))),
                )
            )
    as_of = max([e.effective_date for e in events] + [start]) + timedelta(
        days=draw(st.integers(0, 400))
    )
    return events, as_of


def valid_replay(setup, events, as_of):
    """Replay, dropping events the history makes invalid (a refund above the credit,
    a waiver before its fee, a modification after maturity ...)."""
    events = list(events)
    while True:
        try:
            return replay(setup, events, as_of=as_of), events
        except ServicingError as exc:
            assert exc.event_id is not None, exc
            refused = next(e for e in events if e.id == exc.event_id)
            assert not isinstance(refused, PaymentEvent), exc  # a payment is never refused
            events = [e for e in events if e.id != exc.event_id]


def key(event):
    return (event.effective_date, event.seq, event.id)


def all_credit(state):
    own = [e.credit for e in state.effects.values() if e.credit is not None]
    return [*state.credit_applications, *own]


def total(lines, *components):
    return sum((a for _, c, a in lines if not components or c in components), ZERO)


def check_invariants(setup, events, state):
    payments = [e for e in state.effects.values() if isinstance(e, PaymentEffect)]
    waivers = [e for e in state.effects.values() if isinstance(e, WaiverEffect)]
    refunds = [e for e in state.effects.values() if isinstance(e, RefundEffect)]
    credit = all_credit(state)
    for effect in payments:
        accounted = effect.applied + effect.prepaid_principal + effect.to_unapplied
        assert accounted + effect.overpayment == effect.amount
    for application in credit:
        assert total(application.lines) == application.amount > 0
    lines = [line for e in payments for line in e.lines] + [
        line for a in credit for line in a.lines
    ]
    assert all(amount > 0 for _, _, amount in lines)
    prepaid = sum((e.prepaid_principal for e in payments), ZERO)
    rows = state.installments
    # Principal: scheduled + prepaid = loan amount + capitalised; paid + outstanding likewise.
    assert sum((r.principal_due for r in rows), ZERO) + prepaid == (
        setup.schedule.loan_amount + state.capitalised_interest
    )
    assert sum((r.principal_paid for r in rows), ZERO) == total(lines, PRINCIPAL)
    assert total(lines, PRINCIPAL) + prepaid + state.principal_outstanding == (
        setup.schedule.loan_amount + state.capitalised_interest
    )
    assert sum((r.interest_paid for r in rows), ZERO) == total(lines, INTEREST)
    fee_lines = total(lines, Component.FEES, Component.PENALTIES)
    returned = sum((w.to_unapplied for w in waivers), ZERO)
    assert sum((r.fees_paid + r.penalties_paid for r in rows), ZERO) == fee_lines - returned
    for r in rows:
        for name in ("principal", "interest", "fees", "penalties"):
            assert 0 <= getattr(r, f"{name}_paid") <= getattr(r, f"{name}_due")
    assert state.principal_outstanding >= 0
    assert state.principal_outstanding == state.principal_due_unpaid + state.principal_not_due
    for fee in state.fees.values():
        assert fee.waived >= 0 and fee.paid >= 0 and fee.outstanding >= 0
    # Credit balance: what went in less what was refunded or applied.
    credited = sum((e.to_unapplied + e.overpayment for e in payments), returned)
    used = sum((a.amount for a in credit), ZERO) + sum((e.amount for e in refunds), ZERO)
    assert state.unapplied_credit >= 0 and state.overpayment >= 0
    assert state.credit_balance == credited - used
    if state.credit_balance:
        assert state.total_due_unpaid == 0
    if state.paid_off:
        assert state.principal_outstanding == state.total_due_unpaid == 0
        assert state.payoff is None
    else:
        owed = sum((r.outstanding for r in rows if r.due_date <= state.as_of), ZERO)
        assert state.payoff.total >= owed - state.credit_balance
    dates = [r.due_date for r in rows]
    assert dates == sorted(dates)
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))


@given(st.data())
def test_replay_invariants_on_random_histories(data):
    setup = data.draw(setups())
    events, as_of = data.draw(histories(setup))
    state, events = valid_replay(setup, events, as_of)
    check_invariants(setup, events, state)
    # Deterministic, and independent of the order the events are passed in.
    assert replay(setup, list(reversed(events)), as_of=as_of) == state
    # Effects do not depend on as_of (only the balances do).
    later = replay(setup, events, as_of=as_of + timedelta(days=35))
    assert later.effects == state.effects
    payments = [e for e in events if isinstance(e, PaymentEvent)]
    if payments:
        removed = data.draw(st.sampled_from(payments))
        try:
            without = replay(setup, [e for e in events if e is not removed], as_of=as_of)
        except ServicingError as exc:
            # Only a refund or waiver the payment was needed for can fail, and only later.
            failing = next(e for e in events if e.id == exc.event_id)
            assert key(failing) > key(removed)
        else:
            for event in events:
                if key(event) < key(removed):
                    assert without.effects[event.id] == state.effects[event.id]
            early = [a for a in state.credit_applications if a.on <= removed.effective_date]
            assert list(without.credit_applications[: len(early)]) == early
            check_invariants(setup, [e for e in events if e is not removed], without)


@given(st.data())
def test_an_extra_backdated_payment_then_its_reversal_gives_the_original_state(data):
    setup = data.draw(setups())
    events, as_of = data.draw(histories(setup))
    original, events = valid_replay(setup, events, as_of)
    start = setup.terms.disbursement_date
    extra = PaymentEvent(
        id=10_000,
        effective_date=start + timedelta(days=data.draw(st.integers(0, (as_of - start).days))),
        amount=data.draw(cents(1, 500_00)),
        excess=data.draw(st.sampled_from(list(ExcessHandling))),
    )
    try:
        with_extra = replay(setup, [*events, extra], as_of=as_of)
    except ServicingError:
        return  # the extra payment changed history so that a later event is refused
    check_invariants(setup, [*events, extra], with_extra)
    assert replay(setup, events, as_of=as_of) == original


@given(setups())
def test_paying_the_schedule_on_time_ends_paid_off_with_nothing_left(setup):
    schedule = setup.schedule
    events = [
        PaymentEvent(id=k + 1, effective_date=day, amount=amount)
        for k, (day, amount) in enumerate(zip(schedule.due_dates, schedule.payments, strict=True))
        if amount
    ]
    state = replay(setup, events, as_of=schedule.due_dates[-1])
    assert state.paid_off
    assert state.principal_outstanding == state.total_due_unpaid == state.credit_balance == 0
    assert all(not e.prepaid_principal and not e.to_unapplied for e in state.effects.values())
    assert [r.due_date for r in state.schedule_rows] == list(schedule.due_dates)
    check_invariants(setup, events, state)


@given(st.data())
def test_payments_split_exactly_as_allocate_does(data):
    """replay runs allocate()'s waterfall on plain tuples; hold the two equal."""
    setup = data.draw(setups())
    events, as_of = data.draw(histories(setup))
    before, events = valid_replay(setup, events, as_of)
    amount = data.draw(cents(1, 5000_00))
    payment = PaymentEvent(
        id=10_000, effective_date=as_of, seq=99, amount=amount, excess="unapplied"
    )
    effect = replay(setup, [*events, payment], as_of=as_of).effects[payment.id]
    dues = [
        Due(
            i.number,
            i.due_date,
            i.fees_due - i.fees_paid,
            i.penalties_due - i.penalties_paid,
            (i.interest_due - i.interest_paid) if i.due_date <= as_of else ZERO,
            (i.principal_due - i.principal_paid) if i.due_date <= as_of else ZERO,
        )
        for i in before.installments
    ]
    order, method = setup.allocation_order, setup.allocation_method
    expected = allocate(amount, [d for d in dues if d.total], order=order, method=method)
    assert list(effect.lines) == [(ln.number, ln.component, ln.amount) for ln in expected.lines]
    assert effect.amount - effect.applied == expected.unapplied


def test_a_360_instalment_loan_with_60_payments_replays_in_well_under_10_ms():
    terms = LoanTerms(
        principal="250000", annual_rate="0.065", term=360, disbursement_date=date(2024, 1, 15)
    )
    setup = LoanSetup(terms=terms, schedule=build_schedule(terms), allocation_order=DEFAULT_ORDER)
    rows = setup.schedule.rows[:60]
    events = [
        PaymentEvent(id=k, effective_date=r.due_date, amount=r.payment) for k, r in enumerate(rows)
    ]
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        state = replay(setup, events, as_of=rows[-1].due_date)
        best = min(best, time.perf_counter() - started)
    assert state.principal_outstanding == rows[-1].closing_balance
    assert best < 0.010, f"replay took {best * 1000:.1f} ms"
