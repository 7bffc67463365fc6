"""Servicing replay: exact values for payments, fees, credit and modifications.

The loan: 1,200.00 at 12 % over 12 months, disbursed 2024-01-15, 30/360, so
every regular period charges 1 % of the opening balance; instalments are
106.62 (the last 106.60), due on the 15th from 2024-02-15 to 2025-01-15.
"""

from datetime import date
from decimal import Decimal

import pytest

from core.finance import (
    Component,
    CreditApplication,
    FeeEvent,
    Line,
    LoanSetup,
    LoanTerms,
    ModificationEvent,
    PaymentEvent,
    RefundEvent,
    ServicingError,
    TermsError,
    WaiverEvent,
    build_schedule,
    replay,
)

D = Decimal
FEES, PENALTIES, INTEREST, PRINCIPAL = (
    Component.FEES,
    Component.PENALTIES,
    Component.INTEREST,
    Component.PRINCIPAL,
)
TERMS = LoanTerms(
    principal="1200", annual_rate="0.12", term=12, disbursement_date=date(2024, 1, 15)
)
SCHEDULE = build_schedule(TERMS)
SETUP = LoanSetup(terms=TERMS, schedule=SCHEDULE)


def pay(event_id, day, amount, **kwargs):
    return PaymentEvent(id=event_id, effective_date=day, amount=D(amount), **kwargs)


def on_time(count, first_id=1):
    """Payments of the first `count` scheduled instalments on their due dates."""
    return [pay(first_id + k, SCHEDULE.due_dates[k], SCHEDULE.payments[k]) for k in range(count)]


def split(effect):
    return [(n, c.value, str(a)) for n, c, a in effect.lines]


def test_the_schedule_under_test():
    assert SCHEDULE.payments[:2] == (D("106.62"), D("106.62"))
    assert SCHEDULE.payments[-1] == D("106.60")
    assert [(r.principal, r.interest) for r in SCHEDULE.rows[:3]] == [
        (D("94.62"), D("12.00")),
        (D("95.57"), D("11.05")),
        (D("96.52"), D("10.10")),
    ]


def test_payments_on_time_pay_interest_then_principal_and_end_paid_off():
    state = replay(SETUP, on_time(12), as_of=date(2025, 1, 31))
    for k, row in enumerate(SCHEDULE.rows):
        effect = state.effects[k + 1]
        assert split(effect) == [
            (k + 1, "interest", str(row.interest)),
            (k + 1, "principal", str(row.principal)),
        ]
        assert effect.prepaid_principal == effect.to_unapplied == effect.overpayment == 0
        assert effect.paid_off is (k == 11)
    assert state.paid_off
    assert all(i.status == "paid" for i in state.installments)
    assert state.principal_outstanding == state.total_due_unpaid == state.credit_balance == 0
    assert (state.days_past_due, state.oldest_unpaid_due_date, state.payoff) == (0, None, None)
    assert state.credit_applications == ()


def test_unpaid_instalments_are_past_due():
    state = replay(SETUP, [], as_of=date(2024, 3, 16))
    assert [i.status for i in state.installments[:3]] == ["past_due", "past_due", "not_due"]
    assert state.principal_due_unpaid == D("190.19")
    assert state.interest_due_unpaid == D("23.05")
    assert state.principal_not_due == D("1009.81")
    assert state.principal_outstanding == D("1200.00")
    assert state.days_past_due == 30
    assert state.oldest_unpaid_due_date == date(2024, 2, 15)
    today = replay(SETUP, on_time(1), as_of=date(2024, 3, 15))
    assert today.installments[1].status == "due"
    assert (today.days_past_due, today.oldest_unpaid_due_date) == (0, date(2024, 3, 15))


def test_a_late_payment_covering_two_instalments_pays_the_oldest_first():
    state = replay(SETUP, [pay(1, date(2024, 3, 20), "213.24")], as_of=date(2024, 3, 20))
    assert split(state.effects[1]) == [
        (1, "interest", "12.00"),
        (1, "principal", "94.62"),
        (2, "interest", "11.05"),
        (2, "principal", "95.57"),
    ]
    assert state.effects[1].prepaid_principal == 0
    assert state.days_past_due == 0
    vertical = LoanSetup(terms=TERMS, schedule=SCHEDULE, allocation_method="vertical")
    state = replay(vertical, [pay(1, date(2024, 3, 20), "100")], as_of=date(2024, 3, 20))
    assert split(state.effects[1]) == [
        (1, "interest", "12.00"),
        (2, "interest", "11.05"),
        (1, "principal", "76.95"),
    ]


def test_a_partial_payment_leaves_the_instalment_partially_paid():
    state = replay(SETUP, [pay(1, date(2024, 2, 15), "50")], as_of=date(2024, 2, 20))
    assert split(state.effects[1]) == [(1, "interest", "12.00"), (1, "principal", "38.00")]
    first = state.installments[0]
    assert (first.status, first.outstanding) == ("partially_paid", D("56.62"))
    assert state.principal_due_unpaid == D("56.62")
    assert state.days_past_due == 5


def test_a_late_fee_is_paid_before_the_instalment():
    fee = FeeEvent(id=2, effective_date=date(2024, 2, 25), amount=D("25"), kind="late")
    events = [fee, pay(3, date(2024, 3, 1), "106.62")]
    state = replay(SETUP, events, as_of=date(2024, 3, 1))
    assert state.effects[2].installment_number == 1
    assert state.effects[2].component is FEES
    assert split(state.effects[3]) == [
        (1, "fees", "25.00"),
        (1, "interest", "12.00"),
        (1, "principal", "69.62"),
    ]
    first = state.installments[0]
    assert (first.fees_due, first.fees_paid, first.status) == (D("25"), D("25"), "partially_paid")
    assert (state.principal_due_unpaid, state.fees_due_unpaid) == (D("25.00"), 0)
    # Not 15: the 106.62 was a full periodic payment (principal and interest)
    # and, for delinquency, is deemed applied to it before the fee (Reg X
    # 12 CFR 1024.31 "delinquency"; 16 CFR 444.4), so nothing is past due.
    assert state.days_past_due == 0
    assert state.periodic_arrears == ()
    assert state.fees[2].paid == D("25.00")
    # A penalty is the penalties component; an order putting fees last pays them last.
    penalty = FeeEvent(id=2, effective_date=date(2024, 2, 25), amount=D("25"), penalty=True)
    order = (INTEREST, PRINCIPAL, PENALTIES, FEES)
    setup = LoanSetup(terms=TERMS, schedule=SCHEDULE, allocation_order=order)
    state = replay(setup, [penalty, pay(3, date(2024, 3, 1), "106.62")], as_of=date(2024, 3, 1))
    assert split(state.effects[3]) == [(1, "interest", "12.00"), (1, "principal", "94.62")]
    assert state.penalties_due_unpaid == D("25.00")
    assert state.installments[0].penalties_due == D("25.00")


def test_a_fee_on_a_current_loan_goes_on_the_next_instalment_and_is_due_at_once():
    nsf = FeeEvent(id=5, effective_date=date(2024, 2, 20), amount=D("15"), kind="nsf")
    state = replay(SETUP, [*on_time(1), nsf], as_of=date(2024, 2, 21))
    assert state.effects[5].installment_number == 2
    assert state.fees_due_unpaid == D("15.00")
    assert (state.days_past_due, state.installments[1].status) == (0, "not_due")
    state = replay(
        SETUP, [*on_time(1), nsf, pay(6, date(2024, 2, 22), "15")], as_of=date(2024, 3, 1)
    )
    assert split(state.effects[6]) == [(2, "fees", "15.00")]
    assert state.effects[6].prepaid_principal == 0


def test_a_payoff_quote_is_exactly_what_pays_the_loan_off():
    quote = replay(SETUP, on_time(2), as_of=date(2024, 3, 20)).payoff
    assert (quote.principal, quote.interest, quote.total) == (
        D("1009.81"),
        D("1.68"),
        D("1011.49"),
    )
    assert quote.per_diem == D("0.34")
    state = replay(SETUP, [*on_time(2), pay(3, date(2024, 3, 20), "1020")], as_of=date(2024, 4, 1))
    effect = state.effects[3]
    assert split(effect) == [(3, "interest", "1.68"), (3, "principal", "1009.81")]
    assert (effect.payoff_installment, effect.overpayment, effect.paid_off) == (3, D("8.51"), True)
    assert len(state.installments) == 3
    assert state.installments[2].due_date == date(2024, 3, 20)
    assert state.paid_off and state.payoff is None and state.overpayment == D("8.51")
    assert state.remaining_rows == ()
    refunded = replay(
        SETUP,
        [
            *on_time(2),
            pay(3, date(2024, 3, 20), "1020"),
            RefundEvent(id=4, effective_date=date(2024, 4, 1), amount=D("8.51")),
        ],
        as_of=date(2024, 4, 1),
    )
    assert refunded.effects[4].refunded_overpayment == D("8.51")
    assert refunded.credit_balance == 0
    with pytest.raises(ServicingError) as info:
        replay(
            SETUP,
            [
                *on_time(2),
                pay(3, date(2024, 3, 20), "1020"),
                RefundEvent(id=4, effective_date=date(2024, 4, 1), amount=D("9")),
            ],
            as_of=date(2024, 4, 1),
        )
    assert info.value.event_id == 4
    assert set(info.value.errors) == {"amount"}


def test_an_overpayment_at_the_end_is_a_credit_balance():
    events = [*on_time(11), pay(12, date(2025, 1, 15), "150")]
    state = replay(SETUP, events, as_of=date(2025, 1, 20))
    effect = state.effects[12]
    assert split(effect) == [(12, "interest", "1.06"), (12, "principal", "105.54")]
    assert (effect.overpayment, effect.paid_off) == (D("43.40"), True)
    assert state.paid_off and state.overpayment == D("43.40")
    # Another payment after the loan is repaid is all overpayment.
    state = replay(SETUP, [*events, pay(13, date(2025, 1, 20), "10")], as_of=date(2025, 1, 20))
    assert (state.effects[13].lines, state.effects[13].overpayment) == ((), D("10.00"))


def test_a_backdated_payment_changes_the_split_of_the_later_one_and_reversal_restores_it():
    later = pay(2, date(2024, 3, 15), "106.62")
    before = replay(SETUP, [later], as_of=date(2024, 3, 31))
    assert split(before.effects[2]) == [(1, "interest", "12.00"), (1, "principal", "94.62")]
    backdated = pay(3, date(2024, 2, 15), "106.62")
    after = replay(SETUP, [later, backdated], as_of=date(2024, 3, 31))
    assert split(after.effects[3]) == [(1, "interest", "12.00"), (1, "principal", "94.62")]
    assert split(after.effects[2]) == [(2, "interest", "11.05"), (2, "principal", "95.57")]
    assert after.days_past_due == 0 and before.days_past_due == 16  # Mar 15 unpaid
    # Reversing it (removing the event) gives back exactly the earlier state.
    assert replay(SETUP, [later], as_of=date(2024, 3, 31)) == before


def test_same_day_events_follow_seq():
    first = pay(7, date(2024, 3, 20), "106.62", seq=2)
    second = pay(3, date(2024, 3, 20), "106.62", seq=1)
    state = replay(SETUP, [first, second], as_of=date(2024, 3, 20))
    assert list(state.effects) == [3, 7]
    assert split(state.effects[3])[0] == (1, "interest", "12.00")
    assert split(state.effects[7])[0] == (2, "interest", "11.05")


def test_unapplied_credit_is_applied_on_the_next_due_date():
    events = [pay(1, date(2024, 2, 15), "150", excess="unapplied")]
    state = replay(SETUP, events, as_of=date(2024, 3, 14))
    assert state.effects[1].to_unapplied == D("43.38")
    assert (state.unapplied_credit, state.credit_applications) == (D("43.38"), ())
    state = replay(SETUP, events, as_of=date(2024, 3, 15))
    assert state.credit_applications == (
        CreditApplication(
            on=date(2024, 3, 15),
            event_id=None,
            lines=(Line(2, INTEREST, D("11.05")), Line(2, PRINCIPAL, D("32.33"))),
            from_unapplied=D("43.38"),
            from_overpayment=D("0.00"),
        ),
    )
    assert state.unapplied_credit == 0
    assert state.installments[1].status == "partially_paid"
    # A payment the same day pays what the credit left.
    state = replay(SETUP, [*events, pay(2, date(2024, 3, 15), "63.24")], as_of=date(2024, 3, 15))
    assert split(state.effects[2]) == [(2, "principal", "63.24")]
    assert state.installments[1].status == "paid"


def test_a_waiver_reduces_the_fee_and_a_paid_part_becomes_credit():
    fee = FeeEvent(id=2, effective_date=date(2024, 2, 25), amount=D("25"), kind="late")
    waiver = WaiverEvent(id=3, effective_date=date(2024, 2, 26), fee_event_id=2, amount=D("10"))
    events = [fee, waiver, pay(4, date(2024, 3, 1), "106.62")]
    state = replay(SETUP, events, as_of=date(2024, 3, 1))
    assert (state.effects[3].waived_unpaid, state.effects[3].to_unapplied) == (D("10.00"), 0)
    assert split(state.effects[4]) == [
        (1, "fees", "15.00"),
        (1, "interest", "12.00"),
        (1, "principal", "79.62"),
    ]
    assert (state.fees[2].waived, state.fees[2].paid, state.fees[2].outstanding) == (
        D("10.00"),
        D("15.00"),
        0,
    )
    # Waiving a fee already paid returns it as credit, applied at once to what is due.
    late = WaiverEvent(id=3, effective_date=date(2024, 3, 5), fee_event_id=2, amount=D("25"))
    state = replay(SETUP, [fee, pay(4, date(2024, 3, 1), "106.62"), late], as_of=date(2024, 3, 5))
    effect = state.effects[3]
    assert (effect.waived_unpaid, effect.to_unapplied) == (0, D("25.00"))
    assert effect.credit.lines == (Line(1, PRINCIPAL, D("25.00")),)
    assert effect.from_unapplied == D("25.00")
    assert state.installments[0].status == "paid"
    assert (state.unapplied_credit, state.fees[2].paid, state.fees[2].waived) == (0, 0, D("25"))
    too_much = WaiverEvent(id=3, effective_date=date(2024, 3, 5), fee_event_id=2, amount=D("26"))
    unknown = WaiverEvent(id=3, effective_date=date(2024, 3, 5), fee_event_id=9, amount=D("1"))
    for bad in (too_much, unknown):
        with pytest.raises(ServicingError):
            replay(SETUP, [fee, bad], as_of=date(2024, 3, 5))


def test_credit_pays_a_fee_assessed_after_the_loan_is_repaid():
    events = [*on_time(2), pay(3, date(2024, 3, 20), "1020")]
    fee = FeeEvent(id=4, effective_date=date(2024, 3, 25), amount=D("5"))
    state = replay(SETUP, [*events, fee], as_of=date(2024, 3, 25))
    assert state.effects[4].installment_number == 3
    assert state.effects[4].credit.lines == (Line(3, FEES, D("5.00")),)
    assert state.effects[4].from_overpayment == D("5.00")
    assert state.overpayment == D("3.51") and state.paid_off


def test_refusals():
    late = pay(1, date(2024, 3, 1), "10")
    with pytest.raises(ServicingError, match="as_of"):
        replay(SETUP, [late], as_of=date(2024, 2, 1))
    with pytest.raises(ServicingError, match="unique"):
        replay(SETUP, [late, pay(1, date(2024, 2, 1), "5")], as_of=date(2024, 3, 1))
    with pytest.raises(ServicingError):
        replay(SETUP, [pay(1, date(2024, 1, 1), "5")], as_of=date(2024, 3, 1))
    with pytest.raises(ServicingError, match="as_of"):
        replay(SETUP, [], as_of=date(2024, 1, 1))
    with pytest.raises(ServicingError) as info:
        fee = FeeEvent(id=1, effective_date=date(2024, 3, 1), amount=D("5"), installment_number=13)
        replay(SETUP, [fee], as_of=date(2024, 3, 1))
    assert set(info.value.errors) == {"installment_number"}
    with pytest.raises(ServicingError) as info:
        mod = ModificationEvent(id=2, effective_date=date(2025, 2, 1), annual_rate=D("0.05"))
        replay(SETUP, [mod], as_of=date(2025, 2, 1))
    assert info.value.event_id == 2
    refund = RefundEvent(id=1, effective_date=date(2024, 2, 1), amount=D("1"))
    with pytest.raises(ServicingError, match="credit"):
        replay(SETUP, [refund], as_of=date(2024, 2, 1))


def test_bad_events_and_setups_name_the_field():
    with pytest.raises(TermsError) as info:
        PaymentEvent(id=1, effective_date=date(2024, 2, 1), amount=1.5, excess="x")
    assert set(info.value.errors) == {"amount", "excess"}
    with pytest.raises(TermsError) as info:
        FeeEvent(id=1, effective_date=date(2024, 2, 1), amount="-1", kind="x", installment_number=0)
    assert set(info.value.errors) == {"amount", "kind", "installment_number"}
    with pytest.raises(TermsError) as info:
        ModificationEvent(
            id=1, effective_date=date(2024, 2, 1), annual_rate=0.05, defer_installments=-1
        )
    assert set(info.value.errors) == {"annual_rate", "defer_installments"}
    other = build_schedule(
        LoanTerms(principal="100", annual_rate="0.1", term=2, disbursement_date=date(2024, 1, 1))
    )
    with pytest.raises(TermsError) as info:
        LoanSetup(terms=TERMS, schedule=other, allocation_order=(FEES,), prepayment_mode="x")
    assert set(info.value.errors) == {"schedule", "allocation_order", "prepayment_mode"}
