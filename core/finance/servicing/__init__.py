"""Loan servicing as a pure function: `replay(setup, events, as_of=...)`.

The servicing state of a loan is a function of its schedule and its event
history. After any change (a new, backdated or reversed event) the caller
replays every event and posts, as new ledger entries, the difference between
each event's effect now and what the ledger already holds. No Django, no
clock, stdlib only; money is Decimal in cents, dates are `datetime.date`.

Inputs (`events`): `LoanSetup(terms, schedule, allocation_order,
allocation_method, prepayment_mode)` and `PaymentEvent`, `FeeEvent`,
`WaiverEvent`, `RefundEvent`, `ModificationEvent`. Output (`results`):
`ServicingState` with per-event `effects`, `credit_applications`, the
current `installments`, `fees`, balances, a payoff quote and
`schedule_rows`. Refusals raise `ServicingError` (a TermsError: `errors` by
field, plus the `event_id` refused). The setup's schedule must be
`build_schedule(terms)`, without scheduled fees or negative amortisation
(TermsError). Rules:

Order and time
- Events are replayed in (effective_date, seq, id) order. Every event must
  be dated from the disbursement date to `as_of`, and ids must be unique
  (else ServicingError).
- An instalment falls due on its due date. Before each event every due date
  up to and including the event's date is reached, so an event on a due
  date sees that instalment due; after the last event, due dates up to
  `as_of` are reached.

Interest
- Interest due is the schedule's interest per instalment; arrears bear no
  extra interest. Interest for a part period (a payoff, prepayment or
  modification on date d) is `core.finance.accrue` on the principal not yet
  due, from the period start of the first instalment not yet due to d, plus
  any interest earned but not yet due (interest carried into that
  instalment by an earlier re-amortisation, or deferred under
  grace_interest_periods). Re-amortisation does not repeat grace periods,
  so interest deferred under grace and not yet due becomes due with the
  first re-amortised instalment.

Payments
- A payment pays what is due on its date by the waterfall of
  `core.finance.allocate` with the setup's order and method (instalments
  by due date, then number): every component of instalments already due,
  and assessed fees on any instalment. Never principal not yet due except as
  below.
- The excess: if no principal is left to fall due (the loan is repaid) it
  is an `overpayment`; with `excess=UNAPPLIED` it is unapplied credit; with
  PREPAYMENT:
  - payoff, if excess + credit balance >= principal not yet due + part-
    period interest: the instalments not yet due are replaced by one payoff
    instalment (next number, due on the payment date) of that interest and
    principal; the cash pays it (interest and principal in the setup's
    order), the credit balance completes it (`effect.credit`), and the rest
    of the cash is an overpayment;
  - otherwise a prepayment of min(excess, principal not yet due - 0.01)
    re-amortises the rows not yet due (`core.finance.reamortize` on the
    payment date, same next due date and number of remaining instalments,
    `prepayment_mode`: REDUCE_TERM keeps the instalment and shortens the
    schedule, REDUCE_INSTALLMENT keeps the term). Interest-only loans always
    reduce the instalment; a reduce-instalment whose new instalment would
    round to zero keeps the instalment instead. The part-period interest is
    due with the first new instalment. The rest of the excess (only when it
    falls within that interest) is unapplied credit.
- Conservation: sum(lines) + prepaid_principal + to_unapplied + overpayment
  == amount; credit used is reported separately in `credit`.

Credit balance (unapplied credit + overpayment)
- It is applied automatically, by the same waterfall and never as a
  prepayment, on every due date reached (a `CreditApplication` with
  `event_id` None in `state.credit_applications`, at most one per date, so
  ("credit", date) is a natural key) and right after every fee, waiver and
  modification event (that event's `effect.credit`). It is drawn from
  unapplied credit first, then overpayment. Unapplied credit keeps its
  label after the loan is repaid (no reclassification entry).
- A refund pays out overpayment first, then unapplied credit; more than the
  credit balance on its date is refused (ServicingError).

Fees
- A fee is due on its effective date. It is attached to `installment_number`
  (which must exist), or if None to the oldest instalment already due that
  still owes anything, else to the next instalment not yet due, else to the
  last instalment. penalty=True puts it in PENALTIES, else FEES. Payments to
  one component of one instalment pay its fees oldest first.
- A fee on an instalment not yet due is payable (it is in every payment's
  dues). Fees never count towards days past due (see Delinquency).
- When instalments are rebuilt (prepayment, modification, payoff) a fee on
  a rebuilt instalment moves to the same number if it still exists, else to
  the new last instalment; lines of earlier effects keep the numbers they
  had then.
- A waiver must name a fee assessed earlier in replay order and may not
  exceed its amount less earlier waivers (ServicingError). It cancels the
  unpaid part first (`waived_unpaid`); the rest, already paid, becomes
  unapplied credit (`to_unapplied`) and is applied at once to anything due.

Modifications
- A modification re-amortises the principal not yet due from its date with
  `core.finance.reamortize` (mode REDUCE_INSTALLMENT); instalments already
  due, paid or not, stay as they are (arrears stay due). With no principal
  left to fall due, or when reamortize refuses the request or the new
  schedule would amortise negatively, it is refused (ServicingError).
- annual_rate (None keeps the rate) applies from the effective date;
  interest accrued before it is at the old rate. remaining_term defaults to
  the number of instalments not yet due. next_due_date defaults to the next
  scheduled due date; a date off the current due-date rule re-anchors the
  rule as for a loan disbursed on the effective date with that first
  payment date (give a 31st for month ends). defer_installments = n pushes
  the first new due date n periods later (a payment holiday; the term is
  kept, so maturity moves out n periods).
- capitalise_interest: the part-period interest accrued to the effective
  date is added to principal (`capitalised_interest`); otherwise it is due
  with the first new instalment (`carried_interest`). Interest over a
  holiday accrues from the effective date and is due with the first
  instalment after it (reamortize's long-first-period rule); to capitalise
  it, post a capitalising modification at the end of the holiday.

State as of `as_of`
- installment status: "paid" (nothing owed), "not_due" (due date after
  as_of), else "partially_paid" (something paid), "due" (due today) or
  "past_due" (fees included). oldest_unpaid_due_date: the oldest due date
  of an instalment due by as_of that still owes anything, fees included.

Delinquency (Regulation X, 12 CFR 1024.31 "delinquency"; FTC Credit
Practices Rule, 16 CFR 444.4; Reg Z 1026.36(c))
- The periodic payment of an instalment is its principal and interest
  (and escrow, which this engine does not hold); fees and penalties are not
  part of it. For delinquency, payments are deemed applied to periodic
  payments before any fee: when some fee took cash (or credit), the
  periodic arrears are those of the same history replayed without its fee
  and waiver events (a refund there pays out at most the credit there is;
  an event that replay refuses is skipped), else the book's own. So a fee,
  whatever the allocation order and method, never makes a periodic payment
  look unpaid.
- periodic_arrears: the instalments due by as_of whose periodic payment is
  not paid in full, oldest first. days_past_due = as_of - the due date of
  the first of them (0 if none), counted from the due date, not delayed by
  any grace period. delinquent_days = max(0, days_past_due -
  setup.arrears_grace_days).
- late_payments: the periodic payments not paid in full by the end of
  their due date + setup.late_fee_grace_days, for those grace periods
  ended before as_of, with what they lacked then ("no fee until the
  payment is more than N days late": due on the 1st, N = 15, a payment
  made on the 16th is in time, one made on the 17th is not; on the 16th
  nothing is late yet). These are the only periodic payments a late fee
  may be charged on, and since a fee never makes a periodic payment look
  unpaid, a late fee never causes another one (no pyramiding).
- principal_outstanding = principal_due_unpaid + principal_not_due;
  interest_due_unpaid counts instalments due by as_of; fees and penalties
  count every assessed fee. paid_off: every instalment is paid.
- payoff: `core.finance.payoff` on the principal not yet due (per diem on
  it) plus everything due unpaid, less the credit balance: exactly the
  payment that, made on `as_of` with PREPAYMENT, pays the loan off.
- schedule_rows: the current schedule, instalments already due as first
  scheduled and rebuilt ones as re-amortised (display columns; fees 0).

Invariants (property-tested): every cent of a payment is accounted for;
principal paid + principal outstanding == loan amount + capitalised
interest; principal is never negative; a credit balance and an unpaid due
never coexist; replay is deterministic and ignores the order `events` are
given in; effects do not depend on `as_of` (only balances and statuses do);
removing an event (tested for payments: a reversal) changes no effect of
an event ordered before it, nor a due-date credit application up to its
date.
"""

from core.finance.servicing._engine import replay
from core.finance.servicing.events import (
    FEE_KINDS,
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
    FeeState,
    InstallmentState,
    Line,
    ModificationEffect,
    PaymentEffect,
    PeriodicArrear,
    RefundEffect,
    ServicingState,
    WaiverEffect,
)

__all__ = [
    "FEE_KINDS",
    "CreditApplication",
    "Event",
    "EventEffect",
    "FeeEffect",
    "FeeEvent",
    "FeeState",
    "InstallmentState",
    "Line",
    "LoanSetup",
    "ModificationEffect",
    "ModificationEvent",
    "PaymentEffect",
    "PaymentEvent",
    "PeriodicArrear",
    "RefundEffect",
    "RefundEvent",
    "ServicingError",
    "ServicingState",
    "WaiverEffect",
    "WaiverEvent",
    "replay",
]
