"""The inputs of `replay`: the loan's setup and its servicing events.

Every event has `id` (unique within the loan), `effective_date` and `seq`
(orders events of the same day; ties are broken by `id`). Money is Decimal
in whole cents (strings are accepted, floats refused); construction
validates and raises `TermsError` keyed by field name. Refusals that depend
on the loan's history (a refund above the credit, an unknown fee) are
raised by `replay` as `ServicingError`. The rules are in the package
docstring (`core.finance.servicing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from core.finance.allocation import DEFAULT_ORDER
from core.finance.enums import AllocationMethod, Component, ExcessHandling, PrepaymentMode
from core.finance.errors import TermsError
from core.finance.schedule import Schedule
from core.finance.terms import MAX_ANNUAL_RATE, LoanTerms
from core.money import CENT

__all__ = [
    "FEE_KINDS",
    "Event",
    "FeeEvent",
    "LoanSetup",
    "ModificationEvent",
    "PaymentEvent",
    "RefundEvent",
    "ServicingError",
    "WaiverEvent",
]


FEE_KINDS = ("late", "nsf", "other")


class ServicingError(TermsError):
    """`replay` refused an event given the loan's history (or a bad request).

    `event_id` names the event (None for a request-level problem such as an
    `as_of` before disbursement); `errors` maps field -> message.
    """

    def __init__(self, event_id: int | None, errors: dict[str, str]):
        self.event_id = event_id
        super().__init__(errors)
        if event_id is not None:
            self.args = (f"event {event_id}: {self.args[0]}",)


def _amount(value: object, name: str, errors: dict[str, str]) -> Decimal | None:
    if isinstance(value, (float, bool)):
        errors[name] = "must be a Decimal or str, not a float"
        return None
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors[name] = f"{value!r} is not a number"
        return None
    if not result.is_finite() or result <= 0 or result != result.quantize(CENT):
        errors[name] = "must be a positive whole number of cents"
        return None
    return result.quantize(CENT)


def _check_common(event: object, errors: dict[str, str]) -> None:
    for name in ("id", "seq"):
        value = getattr(event, name)
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = "must be an integer"
    day = event.effective_date  # type: ignore[attr-defined]
    if isinstance(day, datetime) or not isinstance(day, date):
        errors["effective_date"] = "must be a date"


def _finish(event: object, errors: dict[str, str], **values: object) -> None:
    if errors:
        raise TermsError(errors)
    for name, value in values.items():
        object.__setattr__(event, name, value)


@dataclass(frozen=True, kw_only=True)
class PaymentEvent:
    """Money received. `excess`: what to do with the part beyond what is due."""

    id: int
    effective_date: date
    seq: int = 0
    amount: Decimal
    excess: ExcessHandling = ExcessHandling.PREPAYMENT

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        _check_common(self, errors)
        amount = _amount(self.amount, "amount", errors)
        excess = None
        try:
            excess = ExcessHandling(self.excess)
        except ValueError:
            errors["excess"] = 'must be "prepayment" or "unapplied"'
        _finish(self, errors, amount=amount, excess=excess)


@dataclass(frozen=True, kw_only=True)
class FeeEvent:
    """A fee assessed, due on its effective date. `penalty` puts it in the
    penalties component (else fees); `installment_number` None lets replay
    choose the instalment (see the package docstring)."""

    id: int
    effective_date: date
    seq: int = 0
    amount: Decimal
    kind: str = "other"
    installment_number: int | None = None
    penalty: bool = False

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        _check_common(self, errors)
        amount = _amount(self.amount, "amount", errors)
        if self.kind not in FEE_KINDS:
            errors["kind"] = 'must be "late", "nsf" or "other"'
        number = self.installment_number
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int) or number < 1
        ):
            errors["installment_number"] = "must be a positive integer or None"
        if not isinstance(self.penalty, bool):
            errors["penalty"] = "must be true or false"
        _finish(self, errors, amount=amount)

    @property
    def component(self) -> Component:
        return Component.PENALTIES if self.penalty else Component.FEES


@dataclass(frozen=True, kw_only=True)
class WaiverEvent:
    """Waive `amount` of the fee assessed by event `fee_event_id`."""

    id: int
    effective_date: date
    seq: int = 0
    fee_event_id: int
    amount: Decimal

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        _check_common(self, errors)
        amount = _amount(self.amount, "amount", errors)
        if isinstance(self.fee_event_id, bool) or not isinstance(self.fee_event_id, int):
            errors["fee_event_id"] = "must be an integer"
        _finish(self, errors, amount=amount)


@dataclass(frozen=True, kw_only=True)
class RefundEvent:
    """Pay `amount` of the credit balance back to the borrower."""

    id: int
    effective_date: date
    seq: int = 0
    amount: Decimal

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        _check_common(self, errors)
        _finish(self, errors, amount=_amount(self.amount, "amount", errors))


@dataclass(frozen=True, kw_only=True)
class ModificationEvent:
    """Re-amortise the not-yet-due principal from `effective_date`.

    `annual_rate`: new rate (None keeps it); `remaining_term`: number of new
    instalments (None: as many as are not yet due); `next_due_date`: first
    new due date (None: the next scheduled one); `defer_installments`: push
    that first due date back by so many periods (a payment holiday);
    `capitalise_interest`: add the interest accrued to `effective_date` to
    the principal instead of making it due with the first new instalment.
    """

    id: int
    effective_date: date
    seq: int = 0
    annual_rate: Decimal | None = None
    remaining_term: int | None = None
    next_due_date: date | None = None
    capitalise_interest: bool = False
    defer_installments: int = 0

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        _check_common(self, errors)
        rate = self.annual_rate
        if rate is not None:
            if isinstance(rate, (float, bool)):
                errors["annual_rate"] = "must be a Decimal or str, not a float"
                rate = None
            else:
                try:
                    rate = rate if isinstance(rate, Decimal) else Decimal(str(rate))
                except (InvalidOperation, ValueError, TypeError):
                    rate = None
                if rate is None or not rate.is_finite() or not 0 <= rate < MAX_ANNUAL_RATE:
                    errors["annual_rate"] = "must be a decimal fraction from 0 up to 10"
        term = self.remaining_term
        if term is not None and (isinstance(term, bool) or not isinstance(term, int) or term < 1):
            errors["remaining_term"] = "must be a positive integer or None"
        due = self.next_due_date
        if due is not None and (isinstance(due, datetime) or not isinstance(due, date)):
            errors["next_due_date"] = "must be a date or None"
        if not isinstance(self.capitalise_interest, bool):
            errors["capitalise_interest"] = "must be true or false"
        defer = self.defer_installments
        if isinstance(defer, bool) or not isinstance(defer, int) or defer < 0:
            errors["defer_installments"] = "must be a non-negative integer"
        _finish(self, errors, annual_rate=rate)


Event = PaymentEvent | FeeEvent | WaiverEvent | RefundEvent | ModificationEvent


@dataclass(frozen=True, kw_only=True)
class LoanSetup:
    """What `replay` starts from: the terms, their schedule (from
    `build_schedule(terms)`) and the loan's servicing options.

    `arrears_grace_days` and `late_fee_grace_days` (whole days, >= 0) only
    measure, they change no effect: delinquent days are the days past due
    beyond the first (state.delinquent_days); a periodic payment not paid in
    full by the end of its due date plus the second is late
    (state.late_payments)."""

    terms: LoanTerms
    schedule: Schedule
    allocation_order: tuple[Component, ...] = DEFAULT_ORDER
    allocation_method: AllocationMethod = AllocationMethod.HORIZONTAL
    prepayment_mode: PrepaymentMode = PrepaymentMode.REDUCE_TERM
    arrears_grace_days: int = 0
    late_fee_grace_days: int = 0
    _columns: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if not isinstance(self.terms, LoanTerms):
            errors["terms"] = "must be LoanTerms"
        if not isinstance(self.schedule, Schedule) or self.schedule.terms != self.terms:
            errors["schedule"] = "must be build_schedule(terms)"
        elif any(self.schedule.fee_parts):
            errors["schedule"] = "must not carry scheduled fees (assess them as FeeEvents)"
        elif any(part < 0 for part in self.schedule.principal_parts):
            errors["schedule"] = "negative amortisation is not supported"
        order = method = mode = None
        try:
            order = tuple(Component(c) for c in self.allocation_order)
            if sorted(order) != sorted(Component):
                raise ValueError
        except (ValueError, TypeError):
            errors["allocation_order"] = "must list fees, penalties, interest and principal once"
        try:
            method = AllocationMethod(self.allocation_method)
        except ValueError:
            errors["allocation_method"] = 'must be "horizontal" or "vertical"'
        try:
            mode = PrepaymentMode(self.prepayment_mode)
        except ValueError:
            errors["prepayment_mode"] = 'must be "reduce_term" or "reduce_installment"'
        for name in ("arrears_grace_days", "late_fee_grace_days"):
            grace = getattr(self, name)
            if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
                errors[name] = "must be a whole number of days, 0 or more"
        if errors:
            raise TermsError(errors)
        object.__setattr__(self, "allocation_order", order)
        object.__setattr__(self, "allocation_method", method)
        object.__setattr__(self, "prepayment_mode", mode)
        # The schedule's rows as the columns replay starts from (computed once).
        s = self.schedule
        starts = (s.terms.disbursement_date, *s.due_dates[:-1])
        extra = tuple(a - b for a, b in zip(s.interest_parts, s.interest_charged, strict=True))
        object.__setattr__(
            self,
            "_columns",
            (
                s.due_dates,
                starts,
                s.days,
                s.opening_balances,
                s.principal_parts,
                s.interest_parts,
                s.interest_charged,
                extra,
                s.closing_balances,
            ),
        )
