"""Set-based servicing for many loans at once: batch payment posting and
the sync behind it.

`sync_loans` does for a list of locked loans exactly what `sync_loan` does
for one (replay, post the differences, refresh the caches) with a fixed
number of queries per call instead of ~20 per loan: one read of the events,
one of the posted sums, one of the entry counts, one of the instalments,
then bulk inserts and `UPDATE ... FROM`-style bulk updates. The ledger it
writes is the one `sync_loan` would reach (the replay decides every cent);
a loan with several new payments gets one entry per payment rather than a
chain of re-applications.

`post_payments` is the batch twin of `payments.post_payment`: for a chunk of
payment rows it locks the loans (in id order, so two batches cannot
deadlock), writes the events and payments with bulk inserts, syncs each
loan once and audits every payment. Rows are checked first and a row that
cannot be posted (a loan that no longer takes payments) is returned as
rejected, never half-written.
"""

import operator
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.utils import timezone

from core import audit
from core import bulk as core_bulk
from core.audit import actor_of
from core.bulk import gc_paused, insert_all, update_rows
from core.businessdate import get_business_date
from core.finance.servicing import ServicingState, replay
from core.models import AuditCategory
from servicing.models import (
    Installment,
    JournalEntry,
    Loan,
    LoanEvent,
    Payment,
    Posting,
    ServicingProduct,
)
from servicing.selectors.ledger import accounts_for_product
from servicing.services.ledger import EntrySpec, post_entries
from servicing.services.payments import PAYABLE_STATES
from servicing.services.sync import (
    _SKIP,
    CACHE_FIELDS,
    FROZEN_STATES,
    INSTALLMENT_FIELDS,
    audit_move,
    event_from_row,
    installment_changes,
    loan_setup,
    move_state,
    plan_entries,
    set_cached_figures,
)

_EVENT_VALUES = ("id", "loan_id", "kind", "effective_date", "amount", "details", "reversed_by")
_NOT_REPLAYED = {LoanEvent.Kind.REVERSAL, LoanEvent.Kind.CHARGE_OFF, LoanEvent.Kind.RECOVERY}


# The tables batch servicing reads by loan (`loan_id IN (...)`).
BATCH_MODELS = (Loan, Installment, LoanEvent, Payment, JournalEntry, Posting)


def refresh_statistics() -> list[str]:
    """Planner statistics of the batch tables, refreshed where stale
    (core.bulk.refresh_statistics); batch entry points call it first."""
    return core_bulk.refresh_statistics(*BATCH_MODELS)


def lock_loans(loan_ids) -> dict[int, Loan]:
    """The loans, locked FOR UPDATE in id order (so concurrent batches and
    single postings cannot deadlock), with their products."""
    loans = list(Loan.objects.select_for_update().filter(pk__in=set(loan_ids)).order_by("pk"))
    # Products apart: a handful of rows instead of one copy per loan.
    products = ServicingProduct.objects.in_bulk({loan.product_id for loan in loans})
    cache = Loan.product.field.set_cached_value
    for loan in loans:
        cache(loan, products[loan.product_id])
    return {loan.pk: loan for loan in loans}


@gc_paused()
def sync_loans(loans: list[Loan], *, user=None, as_of: date | None = None) -> dict[int, object]:
    """`sync_loan` for every loan in `loans` (locked by the caller), set-based.
    Returns {loan id: ServicingState}."""
    if not loans:
        return {}
    ids = [loan.pk for loan in loans]
    today = as_of or get_business_date()
    events: dict[int, list] = defaultdict(list)
    event_dates: dict[int, date] = {}
    for event_id, loan_id, kind, when, amount, details, reversed_by in (
        LoanEvent.objects.filter(loan_id__in=ids)
        .order_by("effective_date", "id")
        .values_list(*_EVENT_VALUES)
    ):
        event_dates[event_id] = when
        if reversed_by is None and kind not in _NOT_REPLAYED:
            event = event_from_row(event_id, kind, when, amount, details)
            if event is not None:
                events[loan_id].append(event)
    states: dict[int, ServicingState] = {}
    for loan in loans:
        loan_events = events.get(loan.pk, [])
        latest = max((e.effective_date for e in loan_events), default=loan.disbursement_date)
        states[loan.pk] = replay(
            loan_setup(loan), loan_events, as_of=max(today, latest, loan.disbursement_date)
        )

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
            event_dates.__getitem__,
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
    _refresh(loans, states)
    return states


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


def _refresh(loans: list[Loan], states: dict[int, ServicingState]) -> None:
    """Rewrite the loans' schedule projections and cached balances from their
    states: instalment rows compared as tuples (no model instances), only
    changed rows written."""
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
            recreate[loan.pk] = installment_changes(loan, state, [])[1]
        else:
            for inst in state.installments:
                pk, values = rows[inst.number]
                wanted = planned(inst)
                if wanted != values:
                    changed.append((pk, *wanted))
        set_cached_figures(loan, state)
        move = move_state(loan, state)
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
    for loan, move in moves:
        audit_move(loan, move)


@dataclass(frozen=True)
class PaymentRow:
    """One payment to post in a batch (already validated by the caller,
    except for what needs the lock: the loan's state)."""

    loan_id: int
    amount: Decimal
    received_on: date
    method: str
    channel: str
    reference: str = ""
    excess: str | None = None
    idempotency_key: str | None = None
    request_fingerprint: str = ""


@gc_paused()
def post_payments(rows: list[PaymentRow], *, acting_user=None) -> list[Payment | str]:
    """Post a chunk of payments in the caller's transaction. Returns, per
    row, the Payment or the reason it was refused (a loan that takes no
    payments). Idempotency keys must be new (the caller filters known keys;
    a concurrent duplicate makes the unique index raise IntegrityError, and
    the caller's transaction rolls back the whole chunk)."""
    loans = lock_loans(row.loan_id for row in rows)
    user = actor_of(acting_user)
    today = get_business_date()
    results: list[Payment | str] = []
    accepted = []
    for row in rows:
        loan = loans[row.loan_id]
        if loan.state not in PAYABLE_STATES:
            status = loan.get_state_display().lower()
            results.append(f"Loan {loan.loan_number} is {status}; it takes no payments.")
            continue
        excess = row.excess or loan.product.excess_default
        event = LoanEvent(
            loan=loan,
            kind=LoanEvent.Kind.PAYMENT,
            effective_date=row.received_on,
            amount=row.amount,
            details={"excess": excess, "method": row.method, "channel": row.channel},
            created_by=user,
        )
        results.append(None)
        accepted.append((len(results) - 1, row, loan, event, excess))
    insert_all([a[3] for a in accepted])
    payments = insert_all(
        [
            Payment(
                loan=loan,
                event=event,
                amount=row.amount,
                received_on=row.received_on,
                method=row.method,
                channel=row.channel,
                reference=row.reference[:100],
                excess=excess,
                idempotency_key=row.idempotency_key,
                request_fingerprint=row.request_fingerprint,
                created_by=user,
            )
            for _, row, loan, event, excess in accepted
        ]
    )
    touched = {loan.pk: loan for _, _, loan, _, _ in accepted}
    sync_loans(list(touched.values()), user=acting_user)
    audit.record_many(
        [
            audit.build(
                action="payment.posted",
                category=AuditCategory.MONEY,
                obj=loan,
                metadata={
                    "payment_id": payment.pk,
                    "amount": str(row.amount),
                    "received_on": row.received_on.isoformat(),
                    "method": row.method,
                    "channel": row.channel,
                    "backdated": row.received_on < today,
                    "batch": True,
                },
                actor=user,
            )
            for (_, row, loan, _, _), payment in zip(accepted, payments, strict=True)
        ]
    )
    for (index, *_), payment in zip(accepted, payments, strict=True):
        results[index] = payment
    return results
