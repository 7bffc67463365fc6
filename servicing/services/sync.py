"""Bring a loan's ledger and caches in line with its event history.

`sync_loan` replays the loan's events with the pure engine
(core.finance.servicing.replay), turns every effect into the postings it
should have produced, compares them with what the ledger holds for the same
source, and posts only the difference as a new entry. So:

- a new payment posts its split once;
- a backdated payment or a reversal changes the effects of later events,
  and each changed event gets a re-application entry (never an edit);
- running it twice posts nothing the second time (idempotent).

Sources: "event:<id>" (payments, fees, waivers, refunds, modifications),
"accrual:<n>" (interest of instalment n recognised when it falls due),
"credit:<date>" (credit balance applied automatically on a due date).
Each entry's effective date is its source's date, so balances as of any
past date are one query over postings.

Callers hold the loan's row lock (`lock_loan`) so concurrent postings on one
loan serialise. This module plans (replay, expected postings, the entries
and cache values that close the gap); `servicing.services.bulk.sync_loans`
executes the plan for one loan or many with a fixed number of queries.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from core import audit
from core.businessdate import get_business_date
from core.finance import (
    AllocationMethod,
    Component,
    ExcessHandling,
    LoanTerms,
    PrepaymentMode,
    build_schedule,
)
from core.finance.servicing import (
    FeeEffect,
    FeeEvent,
    LoanSetup,
    ModificationEffect,
    ModificationEvent,
    PaymentEffect,
    PaymentEvent,
    RefundEffect,
    RefundEvent,
    ServicingState,
    WaiverEffect,
    WaiverEvent,
    replay,
)
from core.models import AuditCategory
from core.money import ZERO
from servicing.models import Installment, JournalEntry, Loan, LoanEvent, LoanState
from servicing.services.ledger import Line

RECEIVABLE = {
    Component.PRINCIPAL: "principal_receivable",
    Component.INTEREST: "interest_receivable",
    Component.FEES: "fees_receivable",
    Component.PENALTIES: "penalties_receivable",
}


FROZEN_STATES = (LoanState.CHARGED_OFF, LoanState.CLOSED)


def lock_loan(loan_id: int) -> Loan:
    """The loan row (with its product), locked FOR UPDATE until the
    transaction ends."""
    return Loan.objects.select_for_update(of=("self",)).select_related("product").get(pk=loan_id)


def loan_terms(loan: Loan) -> LoanTerms:
    data = dict(loan.terms)
    data["fees"] = tuple(data.get("fees") or ())
    return LoanTerms(**data)


def loan_setup(loan: Loan) -> LoanSetup:
    terms = loan_terms(loan)
    product = loan.product
    return LoanSetup(
        terms=terms,
        schedule=build_schedule(terms),
        allocation_order=tuple(Component(c) for c in product.allocation_order),
        allocation_method=AllocationMethod(product.allocation_method),
        prepayment_mode=PrepaymentMode(loan.prepayment_mode),
    )


_VALUES = ("id", "loan_id", "kind", "effective_date", "amount", "details")


def live_event_rows(**filters):
    """Values rows of live events (not reversed; no reversal, charge-off or
    recovery events, which the replay does not model), in replay order."""
    return (
        LoanEvent.objects.filter(reversed_by__isnull=True, **filters)
        .exclude(
            kind__in=[LoanEvent.Kind.REVERSAL, LoanEvent.Kind.CHARGE_OFF, LoanEvent.Kind.RECOVERY]
        )
        .order_by("loan_id", "effective_date", "id")
        .values_list(*_VALUES)
    )


def event_from_row(event_id, kind, effective_date, amount, d):
    """One LoanEvent's values as the engine's event (None if not replayed)."""
    common = {"id": event_id, "effective_date": effective_date, "seq": event_id}
    if kind == LoanEvent.Kind.PAYMENT:
        return PaymentEvent(
            **common, amount=amount, excess=ExcessHandling(d.get("excess", "prepayment"))
        )
    if kind == LoanEvent.Kind.FEE:
        return FeeEvent(
            **common,
            amount=amount,
            kind=d.get("fee_kind", "other"),
            installment_number=d.get("installment_number"),
            penalty=bool(d.get("penalty")),
        )
    if kind == LoanEvent.Kind.WAIVER:
        return WaiverEvent(**common, fee_event_id=d["fee_event_id"], amount=amount)
    if kind == LoanEvent.Kind.REFUND:
        return RefundEvent(**common, amount=amount)
    if kind == LoanEvent.Kind.MODIFICATION:
        return ModificationEvent(
            **common,
            annual_rate=Decimal(d["annual_rate"]) if d.get("annual_rate") else None,
            remaining_term=d.get("remaining_term"),
            next_due_date=date.fromisoformat(d["next_due_date"])
            if d.get("next_due_date")
            else None,
            capitalise_interest=bool(d.get("capitalise_interest")),
            defer_installments=int(d.get("defer_installments") or 0),
        )
    return None


def engine_events(loan: Loan) -> list:
    """The loan's live events as engine events."""
    events = (
        event_from_row(event_id, kind, when, amount, details)
        for event_id, _, kind, when, amount, details in live_event_rows(loan=loan)
    )
    return [e for e in events if e is not None]


def replay_loan(loan: Loan, *, as_of: date | None = None, extra_events=()) -> ServicingState:
    """The loan's servicing state as of `as_of` (default: the business date,
    or the latest event's date if that is later)."""
    events = engine_events(loan) + list(extra_events)
    latest = max((e.effective_date for e in events), default=loan.disbursement_date)
    as_of = max(as_of or get_business_date(), latest, loan.disbursement_date)
    return replay(loan_setup(loan), events, as_of=as_of)


# --- effects -> postings ---------------------------------------------------------


def _apply_lines(out: dict, lines) -> None:
    for line in lines:
        key = (RECEIVABLE[line.component], line.component.value, line.installment_number)
        out[key] -= line.amount


def _credit(out: dict, credit) -> None:
    if credit is None:
        return
    out[("unapplied_funds", "unapplied", None)] += credit.from_unapplied
    out[("overpayment_liability", "overpayment", None)] += credit.from_overpayment
    _apply_lines(out, credit.lines)


def expected_postings(state: ServicingState) -> dict[str, tuple[date, str, dict]]:
    """source -> (effective date, entry type, {(role, component, instalment): amount})."""
    result: dict[str, tuple[date, str, dict]] = {}
    for inst in state.installments:
        if inst.due_date <= state.as_of and inst.interest_due:
            lines = defaultdict(lambda: ZERO)
            lines[("interest_receivable", "interest", inst.number)] += inst.interest_due
            lines[("interest_income", "", None)] -= inst.interest_due
            result[f"accrual:{inst.number}"] = (inst.due_date, JournalEntry.Type.ACCRUAL, lines)
    for effect in state.effects.values():
        lines = defaultdict(lambda: ZERO)
        if isinstance(effect, PaymentEffect):
            kind = JournalEntry.Type.PAYMENT
            lines[("cash_clearing", "", None)] += effect.amount
            _apply_lines(lines, effect.lines)
            lines[("principal_receivable", "principal", None)] -= effect.prepaid_principal
            lines[("unapplied_funds", "unapplied", None)] -= effect.to_unapplied
            lines[("overpayment_liability", "overpayment", None)] -= effect.overpayment
        elif isinstance(effect, FeeEffect):
            kind = JournalEntry.Type.FEE_ASSESSED
            lines[
                (RECEIVABLE[effect.component], effect.component.value, effect.installment_number)
            ] += effect.amount
            lines[("fee_income", "", None)] -= effect.amount
        elif isinstance(effect, WaiverEffect):
            kind = JournalEntry.Type.FEE_WAIVED
            role = RECEIVABLE[effect.component]
            lines[(role, effect.component.value, effect.installment_number)] -= effect.waived_unpaid
            lines[("fee_income", "", None)] += effect.waived_unpaid + effect.to_unapplied
            lines[("unapplied_funds", "unapplied", None)] -= effect.to_unapplied
        elif isinstance(effect, RefundEffect):
            kind = JournalEntry.Type.REFUND
            lines[("overpayment_liability", "overpayment", None)] += effect.refunded_overpayment
            lines[("unapplied_funds", "unapplied", None)] += effect.refunded_unapplied
            lines[("cash_clearing", "", None)] -= effect.amount
        elif isinstance(effect, ModificationEffect):
            kind = JournalEntry.Type.MODIFICATION
            lines[("principal_receivable", "principal", None)] += effect.capitalised_interest
            lines[("interest_income", "", None)] -= effect.capitalised_interest
        else:  # pragma: no cover - every effect type is handled above
            raise TypeError(type(effect))
        _credit(lines, effect.credit)
        result[f"event:{effect.event_id}"] = (effect.effective_date, kind, lines)
    for application in state.credit_applications:
        lines = defaultdict(lambda: ZERO)
        _credit(lines, application)
        result[f"credit:{application.on.isoformat()}"] = (
            application.on,
            JournalEntry.Type.CREDIT_APPLIED,
            lines,
        )
    return result


_SKIP = {"disbursement", "charge_off", "recovery"}


class PlannedEntry(NamedTuple):
    """One correcting entry sync wants to post (see `plan_entries`)."""

    source: str
    key: str
    entry_type: str
    effective_date: date | None  # None: the date the source was first posted
    lines: list[Line]
    event_id: int | None


def plan_entries(
    state: ServicingState, posted: dict[str, dict], counts: dict[str, int], event_dates
) -> list[PlannedEntry]:
    """The entries that make the ledger equal the replayed `state`: for each
    source, the difference between what it should have posted and what it
    has. `event_dates(event_id)` gives a reversed event's effective date."""
    expected = expected_postings(state)
    planned = []
    for source in sorted(set(expected) | set(posted)):
        if source in _SKIP:
            continue
        when, kind, want = expected.get(source, (None, None, {}))
        have = posted.get(source, {})
        delta = [
            Line(role, want.get(k, ZERO) - have.get(k, ZERO), component, installment)
            for k in set(want) | set(have)
            for role, component, installment in [k]
            if want.get(k, ZERO) != have.get(k, ZERO)
        ]
        if not delta:
            continue
        n = counts.get(source, 0)
        event_id = None
        if source.startswith("event:"):
            event_id = int(source.split(":", 1)[1])
            if when is None:  # the event was reversed: undo what it posted
                when, kind = event_dates(event_id), JournalEntry.Type.REVERSAL
            elif n:
                kind = JournalEntry.Type.REAPPLICATION
        elif when is None or n:
            kind = JournalEntry.Type.REAPPLICATION
        planned.append(PlannedEntry(source, f"{source}#{n + 1}", kind, when, delta, event_id))
    return planned


def sync_loan(*, loan: Loan, user=None, as_of: date | None = None) -> ServicingState:
    """Replay `loan`, post the differences, refresh the caches. Returns the state.

    Precondition: the caller holds the loan's lock (or has just created it).
    A charged-off loan is frozen: its receivables were written off, so only
    its caches are refreshed. The work is `servicing.services.bulk.sync_loans`
    for a list of one: the same fixed number of queries for one loan or a
    thousand."""
    from servicing.services.bulk import sync_loans

    return sync_loans([loan], user=user, as_of=as_of)[loan.pk]


CACHE_FIELDS = [
    "principal_balance",
    "interest_balance",
    "fees_balance",
    "penalties_balance",
    "unapplied_balance",
    "overpayment_balance",
    "days_past_due",
    "next_due_date",
    "next_due_amount",
    "updated_at",
]


def set_cached_figures(loan: Loan, state: ServicingState) -> None:
    """Set (not save) the loan's cached balances from `state`."""
    upcoming = [i for i in state.installments if i.outstanding > 0]
    frozen = loan.state in FROZEN_STATES
    loan.principal_balance = ZERO if frozen else state.principal_outstanding
    loan.interest_balance = ZERO if frozen else state.interest_due_unpaid
    loan.fees_balance = ZERO if frozen else state.fees_due_unpaid
    loan.penalties_balance = ZERO if frozen else state.penalties_due_unpaid
    loan.unapplied_balance = state.unapplied_credit
    loan.overpayment_balance = state.overpayment
    loan.days_past_due = 0 if frozen else state.days_past_due
    loan.next_due_date = upcoming[0].due_date if upcoming and not frozen else None
    loan.next_due_amount = (
        sum((i.outstanding for i in upcoming if i.due_date <= upcoming[0].due_date), ZERO)
        if upcoming and not frozen
        else ZERO
    )


def move_state(loan: Loan, state: ServicingState) -> tuple[str, str] | None:
    """Call the transition the replay calls for (paid off, overpaid,
    reopened) without saving; returns (state before, transition name) or
    None. The caller saves "state" and then calls `audit_move`."""
    transition = _state_transition(loan, state)
    if transition is None:
        return None
    before = loan.state
    transition()
    return before, transition.__name__


def audit_move(loan: Loan, move: tuple[str, str]) -> None:
    before, name = move
    audit.record(
        action=f"loan.{name}",
        category=AuditCategory.STATE_CHANGE,
        obj=loan,
        changes={"state": [before, loan.state]},
    )


INSTALLMENT_FIELDS = (
    "due_date",
    "principal_due",
    "interest_due",
    "fees_due",
    "penalties_due",
    "principal_paid",
    "interest_paid",
    "fees_paid",
    "penalties_paid",
    "status",
)


def installment_changes(loan: Loan, state: ServicingState, existing: list[Installment]):
    """(rows to update, rows to recreate or None): what makes the loan's
    Installment rows equal the replayed schedule. Usually one or two rows
    change per payment; a schedule with a different number of instalments
    (a modification) is rewritten whole."""
    rows = {row.number: row for row in existing}
    wanted = {i.number: i for i in state.installments}
    if set(rows) != set(wanted):
        return [], [
            Installment(
                loan=loan, number=i.number, **{f: getattr(i, f) for f in INSTALLMENT_FIELDS}
            )
            for i in state.installments
        ]
    changed = []
    for number, row in rows.items():
        target = wanted[number]
        if any(getattr(row, f) != getattr(target, f) for f in INSTALLMENT_FIELDS):
            for f in INSTALLMENT_FIELDS:
                setattr(row, f, getattr(target, f))
            changed.append(row)
    return changed, None


def _state_transition(loan: Loan, state: ServicingState):
    """The transition the replayed state calls for, if any (no I/O here)."""
    if loan.state == LoanState.ACTIVE and state.paid_off:
        return loan.overpay if state.credit_balance > 0 else loan.pay_off
    if loan.state == LoanState.OVERPAID and state.paid_off and state.credit_balance == 0:
        return loan.refund_credit
    if loan.state in (LoanState.PAID_OFF, LoanState.OVERPAID) and not state.paid_off:
        return loan.reopen
    return None
