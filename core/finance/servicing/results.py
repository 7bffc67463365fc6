"""The outputs of `replay`: per-event effects and the loan's servicing state.

Money is Decimal cents, never negative. A `Line` is one amount applied to
one component of one instalment. The rules that produce these values are
in the package docstring (`core.finance.servicing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from core.finance.accrual import Payoff
from core.finance.enums import Component
from core.finance.schedule import ScheduleRow
from core.money import ZERO

__all__ = [
    "CreditApplication",
    "EventEffect",
    "FeeEffect",
    "FeeState",
    "InstallmentState",
    "Line",
    "ModificationEffect",
    "PaymentEffect",
    "PeriodicArrear",
    "RefundEffect",
    "ServicingState",
    "WaiverEffect",
]


class Line(NamedTuple):
    """`amount` applied to `component` of instalment `installment_number`."""

    installment_number: int | None
    component: Component
    amount: Decimal


class PeriodicArrear(NamedTuple):
    """A periodic payment (principal and interest of instalment `number`,
    due `due_date`) not paid in full: `unpaid` is what it lacked (as of
    `as_of` in `periodic_arrears`, at the end of its late-fee grace period
    in `late_payments`), with payments deemed applied to periodic payments
    before any fee (see the package docstring, "Delinquency")."""

    number: int
    due_date: date
    unpaid: Decimal


def _total(lines: tuple[Line, ...]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


@dataclass(frozen=True, kw_only=True)
class CreditApplication:
    """Credit balance applied to amounts due, without new money.

    `event_id` None: applied automatically on the due date `on` (at most
    one per date, so ("credit", on) is a natural key); otherwise applied as
    part of that event (its effect's `credit`). sum(lines) ==
    from_unapplied + from_overpayment.
    """

    on: date
    event_id: int | None
    lines: tuple[Line, ...]
    from_unapplied: Decimal
    from_overpayment: Decimal

    @property
    def amount(self) -> Decimal:
        return self.from_unapplied + self.from_overpayment


@dataclass(frozen=True, kw_only=True)
class EventEffect:
    """What one event did. `credit`: credit balance applied by it (or None)."""

    event_id: int
    effective_date: date
    credit: CreditApplication | None = None

    @property
    def from_unapplied(self) -> Decimal:
        return ZERO if self.credit is None else self.credit.from_unapplied

    @property
    def from_overpayment(self) -> Decimal:
        return ZERO if self.credit is None else self.credit.from_overpayment


@dataclass(frozen=True, kw_only=True)
class PaymentEffect(EventEffect):
    """The exact split of a payment's cash:
    sum(lines) + prepaid_principal + to_unapplied + overpayment == amount.

    `lines` includes a payoff's interest and principal (instalment
    `payoff_installment`); `credit` holds the credit balance used to
    complete a payoff. `reamortized`: the prepayment rebuilt the schedule.
    """

    amount: Decimal
    lines: tuple[Line, ...]
    prepaid_principal: Decimal = ZERO
    to_unapplied: Decimal = ZERO
    overpayment: Decimal = ZERO
    reamortized: bool = False
    payoff_installment: int | None = None
    paid_off: bool = False  # the loan is fully repaid after this payment

    @property
    def applied(self) -> Decimal:
        return _total(self.lines)


@dataclass(frozen=True, kw_only=True)
class FeeEffect(EventEffect):
    """The fee's component and the instalment it was attached to."""

    amount: Decimal
    kind: str
    component: Component
    installment_number: int


@dataclass(frozen=True, kw_only=True)
class WaiverEffect(EventEffect):
    """`waived_unpaid` cancels what was still owed; `to_unapplied` is the part
    of the fee already paid, returned to the borrower as unapplied credit."""

    fee_event_id: int
    amount: Decimal
    component: Component
    installment_number: int
    waived_unpaid: Decimal
    to_unapplied: Decimal


@dataclass(frozen=True, kw_only=True)
class RefundEffect(EventEffect):
    amount: Decimal
    refunded_overpayment: Decimal
    refunded_unapplied: Decimal


@dataclass(frozen=True, kw_only=True)
class ModificationEffect(EventEffect):
    """The re-amortisation: `principal` (after capitalisation) re-amortised at
    `annual_rate` over `installment_count` new instalments numbered from
    `first_installment_number`, the first due `next_due_date`.
    `capitalised_interest` was added to principal; `carried_interest` (accrued
    to the effective date, not capitalised) is due with the first new one."""

    principal: Decimal
    annual_rate: Decimal
    capitalised_interest: Decimal
    carried_interest: Decimal
    first_installment_number: int
    installment_count: int
    next_due_date: date
    installment: Decimal | None


@dataclass(frozen=True)
class InstallmentState:
    """One instalment of the current schedule and what has been paid on it.
    `fees_due` / `penalties_due` are the assessed fees attached to it, net
    of waivers. status is relative to `as_of` (see the package docstring)."""

    number: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    fees_due: Decimal
    penalties_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    fees_paid: Decimal
    penalties_paid: Decimal
    status: str

    @property
    def total_due(self) -> Decimal:
        return self.principal_due + self.interest_due + self.fees_due + self.penalties_due

    @property
    def total_paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid + self.fees_paid + self.penalties_paid

    @property
    def outstanding(self) -> Decimal:
        return self.total_due - self.total_paid


@dataclass(frozen=True)
class FeeState:
    """An assessed fee: amount = waived + paid + outstanding."""

    event_id: int
    kind: str
    component: Component
    installment_number: int
    assessed_on: date
    amount: Decimal
    waived: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.waived - self.paid


@dataclass(frozen=True, kw_only=True)
class ServicingState:
    """The loan after replaying its events, as of `as_of`.

    `effects` is keyed by event id, in replay order. `credit_applications`
    are the automatic ones on due dates (event-triggered ones are in the
    events' effects). Balances: `principal_outstanding` is all unpaid
    principal (= principal_due_unpaid + principal_not_due); the other
    *_unpaid balances are amounts due on or before `as_of` (assessed fees
    are due when assessed). `payoff` is the amount that settles the loan on
    `as_of` (None once paid off). `schedule_rows` is the whole current
    schedule (kept rows and re-amortised ones); `remaining_rows` those not
    yet due. `periodic_arrears`: the periodic payments due by `as_of` and
    not paid in full, oldest first; `days_past_due` counts from the first
    of them, `delinquent_days` the days past due beyond the setup's
    arrears grace. `late_payments`: the periodic payments still not paid in
    full when their late-fee grace period ended before `as_of` (package
    docstring, "Delinquency").
    """

    as_of: date
    effects: dict[int, EventEffect]
    credit_applications: tuple[CreditApplication, ...]
    installments: tuple[InstallmentState, ...]
    fees: dict[int, FeeState]
    schedule_rows: tuple[ScheduleRow, ...]
    principal_outstanding: Decimal
    principal_due_unpaid: Decimal
    principal_not_due: Decimal
    interest_due_unpaid: Decimal
    fees_due_unpaid: Decimal
    penalties_due_unpaid: Decimal
    unapplied_credit: Decimal
    overpayment: Decimal
    days_past_due: int
    delinquent_days: int
    periodic_arrears: tuple[PeriodicArrear, ...]
    late_payments: tuple[PeriodicArrear, ...]
    oldest_unpaid_due_date: date | None
    paid_off: bool
    annual_rate: Decimal
    installment: Decimal | None
    capitalised_interest: Decimal
    payoff: Payoff | None

    @property
    def credit_balance(self) -> Decimal:
        return self.unapplied_credit + self.overpayment

    @property
    def total_due_unpaid(self) -> Decimal:
        return (
            self.principal_due_unpaid
            + self.interest_due_unpaid
            + self.fees_due_unpaid
            + self.penalties_due_unpaid
        )

    @property
    def remaining_rows(self) -> tuple[ScheduleRow, ...]:
        return tuple(row for row in self.schedule_rows if row.due_date > self.as_of)
