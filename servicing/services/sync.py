"""Bring loans' ledgers and caches in line with their event histories: the
one module that replays loans and syncs their ledgers.

`sync_loans` replays each loan's events with the pure engine
(core.finance.servicing.replay), turns every effect into the postings it
should have produced, compares them with what the ledger holds for the same
source, and posts only the difference as a new entry. So:

- a new payment posts its split once;
- a backdated payment or a reversal changes the effects of later events,
  and each changed event gets a re-application entry (never an edit);
- running it twice posts nothing the second time (idempotent).

It does this for one loan or a thousand with a fixed number of queries:
one read of the events, one of the posted sums, one of the entry counts,
one of the instalments, then bulk inserts and `UPDATE ... FROM`-style bulk
updates. `sync_loan` is `sync_loans` for a list of one. A loan with several
new payments gets one entry per payment rather than a chain of
re-applications.

Sources: "event:<id>" (payments, fees, waivers, refunds, modifications),
"daily:<date>" (the day's interest accrued by end of day on the current
period's instalment: accrued interest receivable against interest income;
posted by servicing.eod, never corrected here), "accrual:<n>" (instalment n
falling due: its interest moves from accrued to due, and whatever the daily
accruals did not recognise of it is recognised), "credit:<date>" (credit
balance applied automatically on a due date).
Each entry's effective date is its source's date, so balances as of any
past date are one query over postings.

Callers hold the loans' row locks (servicing.services.locks) so concurrent
postings on one loan serialise.
"""

import operator
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, F, Sum
from django.utils import timezone

from core import audit
from core import bulk as core_bulk
from core.bulk import gc_paused, insert_all, update_rows
from core.businessdate import get_business_date
from core.finance import (
    AllocationMethod,
    Component,
    ExcessHandling,
    LoanTerms,
    PrepaymentMode,
    PrincipalRounding,
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
from servicing.models import (
    Installment,
    JournalEntry,
    Loan,
    LoanEvent,
    LoanState,
    Payment,
    Posting,
    ServicingProduct,
)
from servicing.selectors.ledger import accounts_for_product
from servicing.services.ledger import EntrySpec, Line, post_entries

RECEIVABLE = {
    Component.PRINCIPAL: "principal_receivable",
    Component.INTEREST: "interest_receivable",
    Component.FEES: "fees_receivable",
    Component.PENALTIES: "penalties_receivable",
}


FROZEN_STATES = (LoanState.CHARGED_OFF, LoanState.CLOSED)

# The tables batch servicing reads by loan (`loan_id IN (...)`).
BATCH_MODELS = (Loan, Installment, LoanEvent, Payment, JournalEntry, Posting)


def refresh_statistics() -> list[str]:
    """Planner statistics of the batch tables, refreshed where stale
    (core.bulk.refresh_statistics); batch entry points call it first."""
    return core_bulk.refresh_statistics(*BATCH_MODELS)


# --- locks -------------------------------------------------------------------------


def lock_rows(loan_ids) -> dict[int, Loan]:
    """The loans, locked FOR UPDATE in id order (so concurrent batches and
    single postings cannot deadlock), with their products. Writers use
    servicing.services.locks, which also catches up a loan end of day left
    behind; this is the plain lock (end of day's own)."""
    loans = list(Loan.objects.select_for_update().filter(pk__in=set(loan_ids)).order_by("pk"))
    # Products apart: a handful of rows instead of one copy per loan.
    products = ServicingProduct.objects.in_bulk({loan.product_id for loan in loans})
    cache = Loan.product.field.set_cached_value
    for loan in loans:
        cache(loan, products[loan.product_id])
    return {loan.pk: loan for loan in loans}


# --- the replay --------------------------------------------------------------------


def loan_terms(loan: Loan) -> LoanTerms:
    """The engine terms stored on the loan at boarding. Terms stored before
    equal_principal_rounding existed were scheduled with the equal-principal
    part rounded to the instalment multiple: they keep that rule (and their
    figures); a missing installment_method is the engine's default, which
    is what they were scheduled with."""
    data = dict(loan.terms)
    data["fees"] = tuple(data.get("fees") or ())
    data.setdefault("equal_principal_rounding", PrincipalRounding.INSTALLMENT_MULTIPLE)
    return LoanTerms(**data)


def setup_of(terms: LoanTerms, product: ServicingProduct, prepayment_mode: str) -> LoanSetup:
    """The engine's setup for a loan of `product` on `terms`: the product's
    allocation order and method, and the graces delinquency is measured
    with (they change no allocation)."""
    return LoanSetup(
        terms=terms,
        schedule=build_schedule(terms),
        allocation_order=tuple(Component(c) for c in product.allocation_order),
        allocation_method=AllocationMethod(product.allocation_method),
        prepayment_mode=PrepaymentMode(prepayment_mode),
        arrears_grace_days=product.arrears_grace_days,
        late_fee_grace_days=product.late_fee_grace_days,
    )


def loan_setup(loan: Loan) -> LoanSetup:
    return setup_of(loan_terms(loan), loan.product, loan.prepayment_mode)


# Events the replay does not model: a reversal takes its payment out of the
# history (the payment's reversed_by is set), charge-off and recovery freeze
# the loan and post their own entries.
NOT_REPLAYED = (LoanEvent.Kind.REVERSAL, LoanEvent.Kind.CHARGE_OFF, LoanEvent.Kind.RECOVERY)


def _engine_event(event_id, kind, effective_date, amount, d):
    """One LoanEvent's values as the engine's event."""
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
    raise TypeError(f"the replay has no event for {kind!r}")  # pragma: no cover


class EventHistory(NamedTuple):
    """What `read_events` found."""

    live: defaultdict[int, list]  # loan id -> its live events as engine events, replay order
    dates: dict[int, date]  # event id -> effective date, reversed events included


def read_events(**filters) -> EventHistory:
    """The replay's input for the loans whose events match `filters`
    (e.g. loan=..., loan_id__in=[...]), in one query: the events replayed
    (not reversed), and the dates of reversed ones too (a reversal entry is
    dated its payment's date). Events of NOT_REPLAYED kinds are not read."""
    history = EventHistory(defaultdict(list), {})
    for event_id, loan_id, kind, when, amount, details, reversed_by in (
        LoanEvent.objects.filter(**filters)
        .exclude(kind__in=NOT_REPLAYED)
        .order_by("loan_id", "effective_date", "id")
        .values_list("id", "loan_id", "kind", "effective_date", "amount", "details", "reversed_by")
    ):
        history.dates[event_id] = when
        if reversed_by is None:
            history.live[loan_id].append(_engine_event(event_id, kind, when, amount, details))
    return history


def engine_events(loan: Loan) -> list:
    """The loan's live events as engine events."""
    return read_events(loan=loan).live[loan.pk]


def replay_events(loan: Loan, events: list, *, as_of: date) -> ServicingState:
    """The loan's state after `events` (engine events in replay order) as of
    `as_of`, or of the latest event's date if that is later."""
    latest = max((e.effective_date for e in events), default=loan.disbursement_date)
    return replay(loan_setup(loan), events, as_of=max(as_of, latest, loan.disbursement_date))


def replay_loan(loan: Loan, *, as_of: date | None = None, extra_events=()) -> ServicingState:
    """The loan's servicing state as of `as_of` (default: the business date,
    or the latest event's date if that is later)."""
    events = engine_events(loan) + list(extra_events)
    return replay_events(loan, events, as_of=as_of or get_business_date())


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


DAILY = "daily:"


def daily_accrued(posted: dict[str, dict]) -> dict[int, Decimal]:
    """instalment -> what the daily accruals ("daily:<date>" sources in
    `posted`, one loan's posted sums) have put in accrued interest for it."""
    out: dict[int, Decimal] = defaultdict(Decimal)
    for source, lines in posted.items():
        if source.startswith(DAILY):
            for (role, _component, number), amount in lines.items():
                if role == "accrued_interest":
                    out[number] += amount
    return out


def accrued_not_due(state: ServicingState, accrued: dict[int, Decimal]) -> Decimal:
    """The accrued interest still awaiting its due date (Loan.accrued_interest)."""
    return sum(
        (accrued.get(i.number, ZERO) for i in state.installments if i.due_date > state.as_of), ZERO
    )


def expected_postings(
    state: ServicingState, accrued: dict[int, Decimal] | None = None
) -> dict[str, tuple[date, str, dict]]:
    """source -> (effective date, entry type, {(role, component, instalment): amount}).
    `accrued`: instalment -> interest the daily accruals posted for it
    (`daily_accrued`); when the instalment falls due that moves to interest
    receivable, and the rest of its interest is recognised then. Accruals of
    an instalment the schedule no longer has are reversed."""
    accrued = accrued or {}
    result: dict[str, tuple[date, str, dict]] = {}
    for inst in state.installments:
        moved = accrued.get(inst.number, ZERO)
        if inst.due_date <= state.as_of and (inst.interest_due or moved):
            lines = defaultdict(lambda: ZERO)
            lines[("interest_receivable", "interest", inst.number)] += inst.interest_due
            lines[("accrued_interest", "interest", inst.number)] -= moved
            lines[("interest_income", "", None)] -= inst.interest_due - moved
            result[f"accrual:{inst.number}"] = (inst.due_date, JournalEntry.Type.ACCRUAL, lines)
    numbers = {inst.number for inst in state.installments}
    for number, amount in accrued.items():
        if number not in numbers and amount:
            lines = defaultdict(lambda: ZERO)
            lines[("accrued_interest", "interest", number)] -= amount
            lines[("interest_income", "", None)] += amount
            result[f"accrual:{number}"] = (state.as_of, JournalEntry.Type.ACCRUAL, lines)
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


# Sources sync never corrects: they are posted once, by their own services.
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
    expected = expected_postings(state, daily_accrued(posted))
    planned = []
    for source in sorted(set(expected) | set(posted)):
        if source in _SKIP or source.startswith(DAILY):
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


# --- sync --------------------------------------------------------------------------


@gc_paused()
def sync_loans(
    loans: list[Loan], *, user=None, as_of: date | None = None
) -> dict[int, ServicingState]:
    """Replay each loan in `loans`, post the differences, refresh the caches
    and call the transitions the replay calls for (paid off, overpaid,
    reopened). Returns {loan id: ServicingState}.

    Precondition: the caller holds the loans' locks (or has just created
    them). A charged-off or closed loan is frozen: its receivables were
    written off, so only its caches are refreshed."""
    if not loans:
        return {}
    today = as_of or get_business_date()
    history = read_events(loan_id__in=[loan.pk for loan in loans])
    states = {loan.pk: replay_events(loan, history.live[loan.pk], as_of=today) for loan in loans}
    live = [loan for loan in loans if loan.state not in FROZEN_STATES]
    posted, counts = _posted(
        [loan.pk for loan in live], {loan.pk: loan.product_id for loan in live}
    )
    specs = []
    for loan in live:
        for entry in plan_entries(
            states[loan.pk],
            posted.get(loan.pk, {}),
            counts.get(loan.pk, {}),
            history.dates.__getitem__,
        ):
            specs.append(
                EntrySpec(
                    loan=loan,
                    entry_type=entry.entry_type,
                    effective_date=entry.effective_date or _first_posted(loan, entry.source),
                    key=entry.key,
                    lines=tuple(entry.lines),
                    source=entry.source,
                    event_id=entry.event_id,
                    user=user,
                )
            )
    post_entries(specs)
    for loan in loans:
        accrued = daily_accrued(posted.get(loan.pk, {}))
        loan.accrued_interest = (
            ZERO if loan.state in FROZEN_STATES else accrued_not_due(states[loan.pk], accrued)
        )
    _refresh(loans, states)
    return states


def sync_loan(*, loan: Loan, user=None, as_of: date | None = None) -> ServicingState:
    """`sync_loans` for one loan (locked by the caller). Returns its state."""
    return sync_loans([loan], user=user, as_of=as_of)[loan.pk]


def _posted(ids: list[int], products: dict[int, int]):
    """Per loan: source -> {(role, component, instalment): net} and source -> entry count."""
    sums: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    counts: dict[int, dict] = defaultdict(dict)
    if not ids:
        return sums, counts
    roles = {
        product_id: {v: k for k, v in accounts_for_product(product_id).items()}
        for product_id in set(products.values())
    }
    rows = (
        # entry__loan_id too: the entries are then found through their
        # (loan, source) index, whatever the planner's statistics say (without
        # it, stale statistics hash-join a scan of every journal entry).
        Posting.objects.filter(loan_id__in=ids, entry__loan_id__in=ids)
        .exclude(entry__source__in=_SKIP)
        .values_list("loan_id", "entry__source", "account_id", "component", "installment_number")
        .annotate(net=Sum(F("debit") - F("credit")))
    )
    for loan_id, source, account_id, component, installment, net in rows:
        role = roles[products[loan_id]][account_id]
        sums[loan_id][source][(role, component, installment)] += net
    for loan_id, source, n in (
        JournalEntry.objects.filter(loan_id__in=ids)
        .values_list("loan_id", "source")
        .annotate(n=Count("id"))
    ):
        counts[loan_id][source] = n
    return sums, counts


def _first_posted(loan: Loan, source: str) -> date:
    entry = JournalEntry.objects.filter(loan=loan, source=source).order_by("id").first()
    return entry.effective_date if entry else get_business_date()


# --- caches ------------------------------------------------------------------------

CACHE_FIELDS = [
    "principal_balance",
    "interest_balance",
    "fees_balance",
    "penalties_balance",
    "unapplied_balance",
    "overpayment_balance",
    "days_past_due",
    "delinquent_days",
    "arrears_since",
    "next_due_date",
    "next_due_amount",
    "accrued_interest",
    "updated_at",
]

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


def _refresh(loans: list[Loan], states: dict[int, ServicingState]) -> None:
    """Rewrite the loans' schedule projections and cached balances from their
    states: instalment rows compared as tuples (no model instances), only
    changed rows written; a schedule with a different number of instalments
    (a modification) is rewritten whole."""
    existing: dict[int, dict[int, tuple]] = defaultdict(dict)
    for pk, loan_id, number, *values in Installment.objects.filter(
        loan_id__in=[loan.pk for loan in loans]
    ).values_list("pk", "loan_id", "number", *INSTALLMENT_FIELDS):
        existing[loan_id][number] = (pk, tuple(values))
    changed: list[tuple] = []
    planned = operator.attrgetter(*INSTALLMENT_FIELDS)
    recreate: dict[int, list[Installment]] = {}
    moves = []
    for loan in loans:
        state = states[loan.pk]
        rows = existing[loan.pk]
        if set(rows) != {i.number for i in state.installments}:
            recreate[loan.pk] = [
                Installment(
                    loan=loan, number=i.number, **{f: getattr(i, f) for f in INSTALLMENT_FIELDS}
                )
                for i in state.installments
            ]
        else:
            for inst in state.installments:
                pk, values = rows[inst.number]
                wanted = planned(inst)
                if wanted != values:
                    changed.append((pk, *wanted))
        _set_cached_figures(loan, state)
        move = _move_state(loan, state)
        if move:
            moves.append((loan, move))
    if recreate:
        Installment.objects.filter(loan_id__in=list(recreate)).delete()
        insert_all([row for rows in recreate.values() for row in rows])
    update_rows(Installment, INSTALLMENT_FIELDS, changed)
    now = timezone.now()
    fields = [*CACHE_FIELDS, "state"]
    for loan in loans:
        loan.updated_at = now
    update_rows(Loan, fields, [(loan.pk, *(getattr(loan, f) for f in fields)) for loan in loans])
    for loan, (before, name) in moves:
        audit.record(
            action=f"loan.{name}",
            category=AuditCategory.STATE_CHANGE,
            obj=loan,
            changes={"state": [before, loan.state]},
        )


def _set_cached_figures(loan: Loan, state: ServicingState) -> None:
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
    loan.delinquent_days = 0 if frozen else state.delinquent_days
    loan.arrears_since = (
        state.periodic_arrears[0].due_date if state.periodic_arrears and not frozen else None
    )
    loan.next_due_date = upcoming[0].due_date if upcoming and not frozen else None
    loan.next_due_amount = (
        sum((i.outstanding for i in upcoming if i.due_date <= upcoming[0].due_date), ZERO)
        if upcoming and not frozen
        else ZERO
    )


def _move_state(loan: Loan, state: ServicingState) -> tuple[str, str] | None:
    """Call the transition the replay calls for (paid off, overpaid,
    reopened) without saving; returns (state before, transition name) or
    None. `_refresh` saves "state" and audits the move."""
    if loan.state == LoanState.ACTIVE and state.paid_off:
        transition = loan.overpay if state.credit_balance > 0 else loan.pay_off
    elif loan.state == LoanState.OVERPAID and state.paid_off and state.credit_balance == 0:
        transition = loan.refund_credit
    elif loan.state in (LoanState.PAID_OFF, LoanState.OVERPAID) and not state.paid_off:
        transition = loan.reopen
    else:
        return None
    before = loan.state
    transition()
    return before, transition.__name__
