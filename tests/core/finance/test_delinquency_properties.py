"""Late fees never pyramid, over random schedules, payment patterns, fee
amounts, grace periods and every allocation order and method.

A simulated end of day charges a late fee (flat or percent, random amount)
on every periodic payment the engine reports late, on random business
dates (so some days are caught up late), while manual fees of random kinds
take what the allocation order gives them. The fees then take part of
later payments by the order under test. The result must be exactly the set
of periodic payments that a world without any fee finds not paid in full
by the end of their grace period, worked out by a second, independent
implementation of that world below: so no fee is ever charged because an
earlier fee took part of a payment (16 CFR 444.4), and every payment more
than N days late is charged once, with what it lacked then.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.finance import (
    AllocationMethod,
    Amortization,
    Component,
    ExcessHandling,
    FeeEvent,
    LoanSetup,
    LoanTerms,
    PaymentEvent,
    WaiverEvent,
    build_schedule,
    replay,
)
from core.money import ZERO
from tests.core.finance.test_servicing_properties import cents, histories, setups, valid_replay

D = Decimal
INTEREST, PRINCIPAL = Component.INTEREST, Component.PRINCIPAL


@st.composite
def cases(draw):
    unit = draw(st.sampled_from(["months", "months", "weeks", "semi_months"]))
    disbursed = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
    terms = LoanTerms(
        principal=draw(cents(100_00, 20_000_00)),
        annual_rate=D(draw(st.integers(0, 3000))) / 10000,
        term=draw(st.integers(2, 12)),
        disbursement_date=disbursed,
        repayment_unit=unit,
        amortization=draw(st.sampled_from(list(Amortization))),
        day_count=draw(st.sampled_from(["30/360", "actual/365"])),
    )
    setup = LoanSetup(
        terms=terms,
        schedule=build_schedule(terms),
        allocation_order=tuple(draw(st.permutations(list(Component)))),
        allocation_method=draw(st.sampled_from(list(AllocationMethod))),
        late_fee_grace_days=draw(st.integers(0, 20)),
    )
    schedule = setup.schedule
    span = (schedule.due_dates[-1] - disbursed).days + 30
    instalment = max(schedule.payments[0], D("1.00"))
    fee = draw(cents(1, 60_00))

    def day():
        return disbursed + timedelta(days=draw(st.integers(0, span)))

    events = []
    for event_id in range(1, draw(st.integers(0, 2 * terms.term)) + 1):
        amount = draw(
            st.one_of(
                st.just(instalment),  # the periodic payment
                st.just(instalment + fee),  # ... and a late fee
                st.just(2 * instalment),  # two at once (one early: credit)
                cents(1, int(instalment * 150)),
            )
        )
        # Excess kept as credit: prepayments would re-amortise, and the
        # world without fees below keeps the schedule as built.
        events.append(
            PaymentEvent(
                id=event_id,
                effective_date=day(),
                seq=draw(st.integers(0, 3)),
                amount=amount,
                excess=ExcessHandling.UNAPPLIED,
            )
        )
    for event_id in range(100, 100 + draw(st.integers(0, 4))):
        events.append(
            FeeEvent(
                id=event_id,
                effective_date=day(),
                seq=draw(st.integers(0, 3)),
                amount=draw(cents(1, 50_00)),
                kind=draw(st.sampled_from(["nsf", "other"])),
                installment_number=draw(st.one_of(st.none(), st.integers(1, terms.term))),
                penalty=draw(st.booleans()),
            )
        )
    percent = draw(st.one_of(st.none(), st.integers(1, 1000).map(lambda n: D(n) / 10000)))
    end = disbursed + timedelta(days=span)
    business_dates = sorted({day() for _ in range(draw(st.integers(0, 30)))} | {end})
    return setup, events, fee, percent, business_dates


def charge(unpaid: Decimal, fee: Decimal, percent: Decimal | None) -> Decimal:
    if percent is None:
        return fee
    return (unpaid * percent).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def end_of_days(setup, events, fee, percent, business_dates):
    """Run the late-fee rule on each business date (events dated up to it);
    returns {instalment: (date charged, unpaid)} and the events with fees."""
    events, charged = list(events), {}
    for business_date in business_dates:
        seen = [e for e in events if e.effective_date <= business_date]
        state = replay(setup, seen, as_of=business_date)
        for late in state.late_payments:
            if late.number in charged:
                continue
            charged[late.number] = (business_date, late.unpaid)
            amount = charge(late.unpaid, fee, percent)
            if amount > 0:
                events.append(
                    FeeEvent(
                        id=10_000 + late.number,
                        effective_date=business_date,
                        seq=99,  # end of day runs after the day's payments
                        amount=amount,
                        kind="late",
                        installment_number=late.number,
                    )
                )
    return charged, events


def late_without_fees(setup: LoanSetup, payments, until: date) -> dict[int, Decimal]:
    """A second implementation of the loan with no fee at all: payments pay
    the principal and interest of the instalments due (oldest first, by the
    setup's method and its order of interest and principal), the rest is
    credit applied on each due date. Returns {instalment: unpaid} for the
    periodic payments not paid in full at the end of due date + grace, for
    those grace periods ended before `until`."""
    schedule = setup.schedule
    due = schedule.due_dates
    owed = {INTEREST: list(schedule.interest_parts), PRINCIPAL: list(schedule.principal_parts)}
    order = [c for c in setup.allocation_order if c in owed]
    grace = timedelta(days=setup.late_fee_grace_days)
    n = len(due)
    at = {"reached": 0, "checked": 0, "credit": ZERO}
    late = {}

    def pay(amount: Decimal) -> Decimal:
        rows = range(at["reached"])
        if setup.allocation_method is AllocationMethod.HORIZONTAL:
            steps = [(j, c) for j in rows for c in order]
        else:
            steps = [(j, c) for c in order for j in rows]
        for j, component in steps:
            paid = min(amount, owed[component][j])
            owed[component][j] -= paid
            amount -= paid
        return amount

    def advance(to: date) -> None:
        while at["reached"] < n and due[at["reached"]] <= to:
            at["reached"] += 1
            at["credit"] = pay(at["credit"])
        while at["checked"] < at["reached"] and due[at["checked"]] + grace < to:
            j = at["checked"]
            if owed[INTEREST][j] + owed[PRINCIPAL][j]:
                late[j + 1] = owed[INTEREST][j] + owed[PRINCIPAL][j]
            at["checked"] += 1

    for payment in sorted(payments, key=lambda e: (e.effective_date, e.seq, e.id)):
        advance(payment.effective_date)
        at["credit"] += pay(payment.amount)
    advance(until)
    return late


@given(cases())
def test_late_fees_never_pyramid_and_every_late_payment_is_charged_once(case):
    setup, events, fee, percent, business_dates = case
    charged, with_fees = end_of_days(setup, events, fee, percent, business_dates)
    payments = [e for e in events if isinstance(e, PaymentEvent)]
    expected = late_without_fees(setup, payments, business_dates[-1])
    assert {n: unpaid for n, (_, unpaid) in charged.items()} == expected
    due = setup.schedule.due_dates
    for number, (charged_on, _) in charged.items():
        # never on or before the last day of grace
        assert (charged_on - due[number - 1]).days > setup.late_fee_grace_days
    # Days past due agree with the world without fees too, fees and all.
    final = replay(setup, with_fees, as_of=business_dates[-1])
    plain = replay(setup, payments, as_of=business_dates[-1])
    assert final.periodic_arrears == plain.periodic_arrears
    assert final.days_past_due == plain.days_past_due


@given(st.data())
def test_without_fees_delinquency_is_the_instalments_own_principal_and_interest(data):
    setup = data.draw(setups())
    events, as_of = data.draw(histories(setup))
    events = [e for e in events if not isinstance(e, FeeEvent | WaiverEvent)]
    state, events = valid_replay(setup, events, as_of)
    unpaid = [
        (
            i.number,
            i.due_date,
            i.principal_due + i.interest_due - i.principal_paid - i.interest_paid,
        )
        for i in state.installments
        if i.due_date <= as_of
    ]
    assert state.periodic_arrears == tuple(row for row in unpaid if row[2] > 0)
    oldest = state.periodic_arrears[0].due_date if state.periodic_arrears else as_of
    assert state.days_past_due == (as_of - oldest).days


@given(st.data())
def test_fees_never_leave_more_periodic_arrears_than_the_books_show(data):
    """With fees, waivers, refunds, prepayments and modifications: the deemed
    allocation gives periodic payments at least what the real one gave, so
    periodic arrears never exceed the principal and interest due unpaid,
    and days past due never exceed those of the oldest such instalment."""
    setup = data.draw(setups())
    events, as_of = data.draw(histories(setup))
    state, events = valid_replay(setup, events, as_of)
    real = [
        i
        for i in state.installments
        if i.due_date <= as_of
        and i.principal_due + i.interest_due > i.principal_paid + i.interest_paid
    ]
    assert sum((a.unpaid for a in state.periodic_arrears), ZERO) <= (
        state.principal_due_unpaid + state.interest_due_unpaid
    )
    assert state.days_past_due <= ((as_of - real[0].due_date).days if real else 0)
    assert state.delinquent_days == max(0, state.days_past_due - setup.arrears_grace_days)
    assert all(a.unpaid > 0 and a.due_date <= as_of for a in state.periodic_arrears)
