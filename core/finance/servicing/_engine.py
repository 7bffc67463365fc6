"""The event handlers and `replay` (internal to `core.finance.servicing`,
whose docstring states the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from core.finance.accrual import AccrualPosition, accrue
from core.finance.dates import DueDateRule, due_date_rule
from core.finance.enums import Amortization, PrepaymentMode
from core.finance.errors import TermsError
from core.finance.reamortization import reamortize
from core.finance.schedule import Schedule
from core.finance.servicing._book import (
    FEES,
    INTEREST,
    PENALTIES,
    PRINCIPAL,
    UNAPPLIED,
    Book,
    _Fee,
)
from core.finance.servicing._snapshot import snapshot
from core.finance.servicing.events import (
    Event,
    FeeEvent,
    LoanSetup,
    ModificationEvent,
    PaymentEvent,
    RefundEvent,
    ServicingError,
    WaiverEvent,
)
from core.finance.servicing.results import (
    CreditApplication,
    EventEffect,
    FeeEffect,
    Line,
    ModificationEffect,
    PaymentEffect,
    RefundEffect,
    ServicingState,
    WaiverEffect,
)
from core.money import CENT, ZERO


class _Replay(Book):
    def _reamortize(self, event_id: int, state: AccrualPosition, **kwargs) -> Schedule:
        try:
            return reamortize(self.rule_terms, state, **kwargs)
        except TermsError as exc:
            raise ServicingError(event_id, exc.errors) from exc

    def payment(self, event: PaymentEvent) -> PaymentEffect:
        on = event.effective_date
        lines, excess = self._allocate(event.amount)
        effect = {"lines": lines}
        if excess:
            k, principal, earned, start = self._future()
            if not principal:
                effect["overpayment"] = excess
                self.overpaid += excess
            elif event.excess is UNAPPLIED:
                effect["to_unapplied"] = excess
                self.unapplied += excess
            else:
                effect.update(self._prepay(event, excess, k, principal, earned, start))
                effect["lines"] = lines + effect.pop("payoff_lines", ())
        return PaymentEffect(
            event_id=event.id,
            effective_date=on,
            amount=event.amount,
            paid_off=self._paid_off(),
            **effect,
        )

    def _prepay(self, event, excess, k, principal, earned, start) -> dict[str, object]:
        on = event.effective_date
        accrued = earned + accrue(principal, self.rate, start, on, self.day_count)
        if excess + self.unapplied + self.overpaid >= principal + accrued:
            return self._payoff(event, excess, k, principal, accrued, start)
        prepaid = min(excess, principal - CENT)
        result: dict[str, object] = {}
        if prepaid > 0:
            mode = self.setup.prepayment_mode
            if self.installment is None or self.terms.amortization is Amortization.INTEREST_ONLY:
                mode = PrepaymentMode.REDUCE_INSTALLMENT
            state = AccrualPosition(
                principal=principal,
                annual_rate=self.rate,
                interest_from=start,
                day_count=self.day_count,
                interest_outstanding=earned,
            )
            kwargs = {"on": on, "next_due_date": self.due[k], "remaining_term": len(self.due) - k}
            if mode is PrepaymentMode.REDUCE_TERM:
                kwargs["installment"] = self.installment
            try:
                schedule = reamortize(
                    self.rule_terms, state, prepayment=prepaid, mode=mode, **kwargs
                )
            except TermsError as exc:
                if mode is PrepaymentMode.REDUCE_TERM or self.installment is None:
                    raise ServicingError(event.id, exc.errors) from exc
                # A tiny balance whose level instalment rounds to zero: keep the instalment.
                kwargs["installment"] = self.installment
                mode = PrepaymentMode.REDUCE_TERM
                schedule = self._reamortize(
                    event.id, state, prepayment=prepaid, mode=mode, **kwargs
                )
            self._replace(k, schedule, accrued)
            result["prepaid_principal"] = prepaid
            result["reamortized"] = True
        if excess > prepaid:
            result["to_unapplied"] = excess - prepaid
            self.unapplied += excess - prepaid
        return result

    def _payoff(self, event, excess, k, principal, accrued, start) -> dict[str, object]:
        on = event.effective_date
        moved = self._detach(k)
        self._truncate(k)
        self.due.append(on)
        self.start.append(start)
        self.days.append(on.toordinal() - start.toordinal())
        self.opening.append(principal)
        self.prin.append(principal)
        self.intr.append(accrued)
        self.chg.append(accrued)
        self.extra.append(ZERO)
        self.closing.append(ZERO)
        self.ppaid.append(principal)
        self.ipaid.append(accrued)
        self.dppaid.append(ZERO)
        self.dipaid.append(ZERO)
        self.due_ptr = k + 1
        self._rehome_fees(k, moved)
        parts = [(INTEREST, accrued), (PRINCIPAL, principal)]
        if self.order.index(PRINCIPAL) < self.order.index(INTEREST):
            parts.reverse()
        cash, credit, left = [], [], excess
        for component, amount in parts:
            paid = min(left, amount)
            left -= paid
            if paid:
                cash.append(Line(k + 1, component, paid))
            if amount - paid:
                credit.append(Line(k + 1, component, amount - paid))
        self._deem(principal + accrued)
        result: dict[str, object] = {"payoff_lines": tuple(cash), "payoff_installment": k + 1}
        if credit:
            from_unapplied, from_over = self._use_credit(sum(ln.amount for ln in credit))
            result["credit"] = CreditApplication(
                on=on,
                event_id=event.id,
                lines=tuple(credit),
                from_unapplied=from_unapplied,
                from_overpayment=from_over,
            )
        if left:
            result["overpayment"] = left
            self.overpaid += left
        return result

    def fee(self, event: FeeEvent) -> FeeEffect:
        n = len(self.due)
        if event.installment_number is not None:
            row = event.installment_number - 1
            if row >= n:
                raise ServicingError(
                    event.id, {"installment_number": f"the loan has {n} instalments"}
                )
        else:
            row = next(
                (i for i in range(self.first_open, self.due_ptr) if self._row_out(i)),
                self.due_ptr if self.due_ptr < n else n - 1,
            )
        rec = _Fee(event, row)
        self.recs.setdefault(row, []).append(rec)
        self.fees[event.id] = rec
        self.first_open = min(self.first_open, row)
        return FeeEffect(
            event_id=event.id,
            effective_date=event.effective_date,
            amount=event.amount,
            kind=event.kind,
            component=event.component,
            installment_number=row + 1,
            credit=self._apply_credit(event.effective_date, event.id),
        )

    def waiver(self, event: WaiverEvent) -> WaiverEffect:
        rec = self.fees.get(event.fee_event_id)
        if rec is None:
            raise ServicingError(
                event.id, {"fee_event_id": "no fee was assessed by that event before this one"}
            )
        if event.amount > rec.amount - rec.waived:
            raise ServicingError(
                event.id, {"amount": f"exceeds the fee's unwaived {rec.amount - rec.waived}"}
            )
        unpaid = min(event.amount, rec.amount - rec.waived - rec.paid)
        refunded = event.amount - unpaid
        rec.waived += event.amount
        rec.paid -= refunded
        self.unapplied += refunded
        self.reserve -= refunded  # that cash comes back as credit
        return WaiverEffect(
            event_id=event.id,
            effective_date=event.effective_date,
            fee_event_id=rec.event_id,
            amount=event.amount,
            component=PENALTIES if rec.penalty else FEES,
            installment_number=rec.row + 1,
            waived_unpaid=unpaid,
            to_unapplied=refunded,
            credit=self._apply_credit(event.effective_date, event.id),
        )

    def refund(self, event: RefundEvent) -> RefundEffect:
        credit = self.unapplied + self.overpaid
        if event.amount > credit:
            raise ServicingError(event.id, {"amount": f"exceeds the credit balance of {credit}"})
        from_over = min(event.amount, self.overpaid)
        self.overpaid -= from_over
        self.unapplied -= event.amount - from_over
        return RefundEffect(
            event_id=event.id,
            effective_date=event.effective_date,
            amount=event.amount,
            refunded_overpayment=from_over,
            refunded_unapplied=event.amount - from_over,
        )

    def modification(self, event: ModificationEvent) -> ModificationEffect:
        on = event.effective_date
        k, principal, earned, start = self._future()
        if not principal:
            raise ServicingError(event.id, {"effective_date": "no principal is still to fall due"})
        next_due = self.due[k]
        rule = due_date_rule(
            self.rule_terms.repayment_unit,
            self.rule_terms.repayment_every,
            self.rule_terms.disbursement_date,
            self.rule_terms.first_payment_date,
        )
        if event.next_due_date is not None:
            next_due = event.next_due_date
            if next_due <= on:
                raise ServicingError(event.id, {"next_due_date": "must be after effective_date"})
            moved = DueDateRule(rule.unit, rule.every, next_due, rule.anchor, rule.high)
            if moved.dates(1)[0] != next_due:
                # A new due day: anchor the rule as for a loan disbursed today.
                self.rule_terms = replace(
                    self.terms, disbursement_date=on, first_payment_date=next_due
                )
                rule = due_date_rule(rule.unit, rule.every, on, next_due)
        if event.defer_installments:
            moved = DueDateRule(rule.unit, rule.every, next_due, rule.anchor, rule.high)
            next_due = moved.dates(1, start=event.defer_installments)[0]
        accrued = earned + accrue(principal, self.rate, start, on, self.day_count)
        capitalised = accrued if event.capitalise_interest else ZERO
        if capitalised:
            state = AccrualPosition(
                principal=principal + capitalised,
                annual_rate=self.rate,
                interest_from=on,
                day_count=self.day_count,
            )
        else:
            state = AccrualPosition(
                principal=principal,
                annual_rate=self.rate,
                interest_from=start,
                day_count=self.day_count,
                interest_outstanding=earned,
            )
        rate = self.rate if event.annual_rate is None else event.annual_rate
        schedule = self._reamortize(
            event.id,
            state,
            on=on,
            next_due_date=next_due,
            remaining_term=event.remaining_term or len(self.due) - k,
            annual_rate=rate,
            mode=PrepaymentMode.REDUCE_INSTALLMENT,
        )
        if any(part < 0 for part in schedule.principal_parts):
            raise ServicingError(event.id, {"annual_rate": "would amortise negatively"})
        carried = accrued - capitalised
        self._replace(k, schedule, carried)
        self.rate = rate
        self.capitalised += capitalised
        return ModificationEffect(
            event_id=event.id,
            effective_date=on,
            principal=state.principal,
            annual_rate=rate,
            capitalised_interest=capitalised,
            carried_interest=carried,
            first_installment_number=k + 1,
            installment_count=len(schedule),
            next_due_date=next_due,
            installment=schedule.installment,
            credit=self._apply_credit(on, event.id),
        )


_HANDLERS = {
    PaymentEvent: _Replay.payment,
    FeeEvent: _Replay.fee,
    WaiverEvent: _Replay.waiver,
    RefundEvent: _Replay.refund,
    ModificationEvent: _Replay.modification,
}


def replay(setup: LoanSetup, events: Sequence[Event], *, as_of: date) -> ServicingState:
    """The loan's servicing state after `events`, as of `as_of` (pure; see
    the package docstring for the rules). Raises ServicingError."""
    if not isinstance(setup, LoanSetup):
        raise ServicingError(None, {"setup": "must be a LoanSetup"})
    start = setup.terms.disbursement_date
    if as_of < start:
        raise ServicingError(None, {"as_of": "must not be before the disbursement date"})
    seen: set[int] = set()
    for event in events:
        if type(event) not in _HANDLERS:
            raise ServicingError(None, {"events": f"unknown event {event!r}"})
        if event.id in seen:
            raise ServicingError(event.id, {"id": "is not unique"})
        seen.add(event.id)
        if not start <= event.effective_date <= as_of:
            raise ServicingError(event.id, {"effective_date": "must be from disbursement to as_of"})
    engine = _Replay(setup)
    effects: dict[int, EventEffect] = {}
    for event in sorted(events, key=lambda e: (e.effective_date, e.seq, e.id)):
        engine.advance(event.effective_date)
        effects[event.id] = _HANDLERS[type(event)](engine, event)
    engine.advance(as_of)
    return snapshot(engine, as_of, effects)
