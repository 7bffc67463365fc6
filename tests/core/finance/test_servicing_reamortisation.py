"""Servicing replay: prepayments and modifications re-amortise the rest of the
loan (the loan of test_servicing: 1,200.00 at 12 % over 12 months, 30/360,
instalments of 106.62 due on the 15th from 2024-02-15)."""

from datetime import date
from decimal import Decimal

from core.finance import LoanSetup, LoanTerms, ModificationEvent, build_schedule, replay
from tests.core.finance.test_servicing import SCHEDULE, SETUP, TERMS, on_time, pay, split

D = Decimal


def test_a_500_prepayment_reduce_term_keeps_the_instalment_and_shortens_the_loan():
    state = replay(SETUP, [pay(1, date(2024, 2, 15), "606.62")], as_of=date(2024, 2, 15))
    effect = state.effects[1]
    assert split(effect) == [(1, "interest", "12.00"), (1, "principal", "94.62")]
    assert (effect.prepaid_principal, effect.reamortized) == (D("500.00"), True)
    assert state.installment == D("106.62")
    assert state.principal_outstanding == D("605.38")
    # 605.38 at 1 % a month: 6.05 interest, 100.57 principal, ... last row 92.39 + 0.92.
    assert [(i.principal_due, i.interest_due) for i in state.installments[1:3]] == [
        (D("100.57"), D("6.05")),
        (D("101.57"), D("5.05")),
    ]
    last = state.schedule_rows[-1]
    assert (last.number, last.due_date) == (7, date(2024, 8, 15))
    assert (last.principal, last.interest, last.payment) == (D("92.39"), D("0.92"), D("93.31"))


def test_a_500_prepayment_reduce_installment_keeps_the_term():
    setup = LoanSetup(terms=TERMS, schedule=SCHEDULE, prepayment_mode="reduce_installment")
    state = replay(setup, [pay(1, date(2024, 2, 15), "606.62")], as_of=date(2024, 2, 15))
    assert state.effects[1].prepaid_principal == D("500.00")
    # 605.38 x 0.01 / (1 - 1.01^-11) = 58.39
    assert state.installment == D("58.39")
    assert [r.payment for r in state.schedule_rows[1:-1]] == [D("58.39")] * 10
    last = state.schedule_rows[-1]
    assert (last.number, last.due_date) == (12, date(2025, 1, 15))
    assert (last.principal, last.interest, last.payment) == (D("57.82"), D("0.58"), D("58.40"))


def test_a_prepayment_between_due_dates_carries_the_interest_accrued_to_it():
    events = [*on_time(2), pay(3, date(2024, 3, 20), "500")]
    state = replay(SETUP, events, as_of=date(2024, 3, 20))
    assert state.effects[3].prepaid_principal == D("500.00")
    third = state.installments[2]
    # 1,009.81 x 12 % x 5/360 = 1.68 to Mar 20, then 509.81 x 12 % x 25/360 = 4.25;
    # the principal part is the regular one, 106.62 - 509.81 x 1 % = 101.52.
    assert (third.interest_due, third.principal_due) == (D("5.93"), D("101.52"))
    assert state.principal_outstanding == D("509.81")


def test_interest_only_prepayments_reduce_the_interest():
    terms = LoanTerms(
        principal="1200",
        annual_rate="0.12",
        term=12,
        disbursement_date=date(2024, 1, 15),
        amortization="interest_only",
    )
    setup = LoanSetup(terms=terms, schedule=build_schedule(terms))  # reduce_term by default
    state = replay(setup, [pay(1, date(2024, 2, 15), "212")], as_of=date(2024, 2, 15))
    assert split(state.effects[1]) == [(1, "interest", "12.00")]
    assert state.effects[1].prepaid_principal == D("200.00")
    assert {i.interest_due for i in state.installments[1:]} == {D("10.00")}
    assert state.installments[-1].principal_due == D("1000.00")


def test_interest_deferred_under_grace_is_due_with_the_first_reamortised_instalment():
    terms = LoanTerms(
        principal="1200",
        annual_rate="0.12",
        term=12,
        disbursement_date=date(2024, 1, 15),
        grace_interest_periods=2,
    )
    setup = LoanSetup(terms=terms, schedule=build_schedule(terms))
    state = replay(setup, [pay(1, date(2024, 2, 15), "194.62")], as_of=date(2024, 2, 15))
    assert split(state.effects[1]) == [(1, "principal", "94.62")]
    assert state.effects[1].prepaid_principal == D("100.00")
    # The 12.00 charged in February (due in April under the grace) plus 1 % of 1,005.38.
    assert state.installments[1].interest_due == D("22.05")


def test_a_reduce_installment_too_small_to_round_keeps_the_instalment():
    terms = LoanTerms(
        principal="1200",
        annual_rate="0.12",
        term=12,
        disbursement_date=date(2024, 1, 15),
        installment_multiple="1",
    )
    setup = LoanSetup(
        terms=terms, schedule=build_schedule(terms), prepayment_mode="reduce_installment"
    )
    state = replay(setup, [pay(1, date(2024, 2, 15), "1211.50")], as_of=date(2024, 2, 15))
    assert state.effects[1].prepaid_principal == D("1104.50")
    # 0.50 left over 11 months would round to a 0 instalment: the 107 instalment is kept.
    assert state.installment == D("107")
    assert [(r.principal, r.interest) for r in state.schedule_rows[1:]] == [(D("0.50"), D("0.01"))]


def test_modification_changes_the_rate_from_its_date():
    mod = ModificationEvent(id=9, effective_date=date(2024, 4, 15), annual_rate=D("0.06"))
    state = replay(SETUP, [*on_time(3), mod], as_of=date(2024, 4, 15))
    effect = state.effects[9]
    # 913.29 x 0.005 / (1 - 1.005^-9) = 104.03; first interest 913.29 x 0.5 % = 4.57.
    assert (effect.principal, effect.installment, effect.installment_count) == (
        D("913.29"),
        D("104.03"),
        9,
    )
    assert (effect.first_installment_number, effect.carried_interest) == (4, 0)
    assert state.installments[3].interest_due == D("4.57")
    assert state.installments[2].interest_due == D("10.10")  # already due: kept
    assert state.annual_rate == D("0.06")
    rest = [pay(10 + k, r.due_date, r.payment) for k, r in enumerate(state.schedule_rows[3:])]
    done = replay(SETUP, [*on_time(3), mod, *rest], as_of=date(2025, 1, 15))
    assert done.paid_off and done.credit_balance == 0


def test_modification_capitalises_interest_accrued_to_its_date():
    mod = ModificationEvent(id=9, effective_date=date(2024, 4, 20), capitalise_interest=True)
    state = replay(SETUP, [*on_time(3), mod], as_of=date(2024, 4, 20))
    effect = state.effects[9]
    # 913.29 x 12 % x 5/360 = 1.52 added to principal.
    assert (effect.capitalised_interest, effect.principal) == (D("1.52"), D("914.81"))
    assert state.principal_outstanding == D("914.81")
    assert state.capitalised_interest == D("1.52")
    fourth = state.installments[3]
    # Apr 20 - May 15 on 914.81 (7.62) and the regular principal 106.80 - 9.15.
    assert (fourth.interest_due, fourth.principal_due, state.installment) == (
        D("7.62"),
        D("97.65"),
        D("106.80"),
    )


def test_modification_defers_instalments_and_changes_the_due_day():
    holiday = ModificationEvent(id=9, effective_date=date(2024, 4, 15), defer_installments=2)
    state = replay(SETUP, [*on_time(3), holiday], as_of=date(2024, 4, 15))
    assert state.effects[9].next_due_date == date(2024, 7, 15)
    fourth = state.installments[3]
    # Three months of interest, 913.29 x 12 % x 90/360, due with the first new instalment.
    assert (fourth.due_date, fourth.interest_due, fourth.principal_due) == (
        date(2024, 7, 15),
        D("27.40"),
        D("97.49"),
    )
    assert state.schedule_rows[-1].due_date == date(2025, 3, 15)
    assert len(state.installments) == 12
    moved = ModificationEvent(
        id=9, effective_date=date(2024, 4, 15), next_due_date=date(2024, 5, 1)
    )
    state = replay(SETUP, [*on_time(3), moved], as_of=date(2024, 4, 15))
    dates = [r.due_date for r in state.schedule_rows[3:6]]
    assert dates == [date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)]
    assert state.installments[3].interest_due == D("4.87")  # 16 days: 913.29 x 12 % x 16/360
    # A later prepayment keeps the new due day.
    prepay = pay(10, date(2024, 5, 1), "300")
    state = replay(SETUP, [*on_time(3), moved, prepay], as_of=date(2024, 5, 1))
    assert state.schedule_rows[4].due_date == date(2024, 6, 1)
