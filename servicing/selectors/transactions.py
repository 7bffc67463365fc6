"""Transaction reads: a loan's events with their payments and where each
event's money is now (its allocation), payments, and re-application counts.
Nothing here writes.

Allocations are read from the postings, not from the replay: the entries
whose source is "event:<id>" sum to that event's current effect (the
original posting plus any re-applications after a backdated change or a
reversal), so netting their postings per component and instalment says
exactly where each cent of the event is now. Staff pages, the staff API and
the borrower API read them through the same `_allocation_sums`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum

from core.exceptions import NotFound
from core.money import ZERO
from servicing.models import Component, JournalEntry, Loan, LoanEvent, Payment, Posting

# The order allocation lines are shown in: what a payment pays first.
_COMPONENT_ORDER = {
    c: i
    for i, c in enumerate(
        (
            Component.PENALTIES,
            Component.FEES,
            Component.INTEREST,
            Component.PRINCIPAL,
            Component.UNAPPLIED,
            Component.OVERPAYMENT,
        )
    )
}


@dataclass(frozen=True)
class AllocationRow:
    """Where part of an event's money is now: `amount` moved off (credit) the
    component of instalment `installment_number` (None: not instalment-bound).
    For a payment every line is positive and they sum to the payment; for a
    fee the receivable line is negative (the fee was added)."""

    component: str
    installment_number: int | None
    amount: Decimal

    @property
    def component_label(self) -> str:
        return Component(self.component).label


@dataclass
class TransactionRow:
    """One loan event as the Transactions tab shows it."""

    event: LoanEvent
    payment: Payment | None
    status: str  # "posted" or "reversed"
    lines: list[AllocationRow] = field(default_factory=list)
    entries: int = 0  # journal entries realising it (2+ means re-applied)

    @property
    def reapplied(self) -> bool:
        return self.entries > 1

    @property
    def allocated(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def reason_label(self) -> str:
        """A reversal's reason as staff read it ("Posting error")."""
        reason = self.event.details.get("reason", "")
        if reason in Payment.ReversalReason.values:
            return Payment.ReversalReason(reason).label
        return reason

    @property
    def is_reversible_payment(self) -> bool:
        return self.payment is not None and self.payment.status == Payment.Status.POSTED


def _allocation_sums(loan_id: int, sources: list[str] | None = None) -> dict[str, list]:
    """source -> [AllocationRow], netted over all the source's entries
    (credit minus debit per component and instalment; cash and income
    postings, which carry no component, are left out)."""
    # entry__loan_id: entries through their (loan, source) index (see bulk._posted).
    postings = Posting.objects.filter(loan_id=loan_id, entry__loan_id=loan_id).exclude(component="")
    if sources is None:
        postings = postings.filter(entry__source__startswith="event:")
    else:
        postings = postings.filter(entry__source__in=sources)
    rows = postings.values("entry__source", "component", "installment_number").annotate(
        net=Sum(F("credit") - F("debit"))
    )
    out: dict[str, list] = defaultdict(list)
    for row in rows:
        if row["net"]:
            out[row["entry__source"]].append(
                AllocationRow(row["component"], row["installment_number"], row["net"])
            )
    for lines in out.values():
        lines.sort(
            key=lambda line: (
                line.installment_number is None,
                line.installment_number or 0,
                _COMPONENT_ORDER.get(line.component, 99),
            )
        )
    return out


def event_allocation(event: LoanEvent) -> list[AllocationRow]:
    """Where `event`'s money is now (see `AllocationRow`)."""
    source = f"event:{event.pk}"
    return _allocation_sums(event.loan_id, [source]).get(source, [])


def loan_transactions(loan: Loan) -> list[TransactionRow]:
    """Every event of the loan, newest first (by effective date, then id),
    each with its payment (if any), status and current allocation. Three
    queries whatever the number of events."""
    events = list(
        LoanEvent.objects.filter(loan=loan)
        .select_related("payment", "reversed_by", "reverses", "created_by")
        .order_by("-effective_date", "-id")
    )
    sums = _allocation_sums(loan.pk)
    counts = dict(
        JournalEntry.objects.filter(loan=loan, source__startswith="event:")
        .values("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    rows = []
    for event in events:
        payment = getattr(event, "payment", None)
        reversed_ = getattr(event, "reversed_by", None) is not None
        if payment is not None:
            reversed_ = payment.status == Payment.Status.REVERSED
        source = f"event:{event.pk}"
        rows.append(
            TransactionRow(
                event=event,
                payment=payment,
                status="reversed" if reversed_ else "posted",
                lines=sums.get(source, []),
                entries=counts.get(source, 0),
            )
        )
    return rows


def fee_events(loan: Loan) -> QuerySet[LoanEvent]:
    """The loan's fee events, oldest first."""
    return LoanEvent.objects.filter(loan=loan, kind=LoanEvent.Kind.FEE).order_by(
        "effective_date", "id"
    )


def last_entry_id(loan: Loan) -> int:
    """The id of the loan's latest journal entry (0 if none): a bookmark for
    `reapplied_since`."""
    last = JournalEntry.objects.filter(loan=loan).order_by("-id").values_list("id", flat=True)
    return last.first() or 0


def reapplied_since(loan: Loan, entry_id: int, *, exclude_event=None) -> int:
    """How many of the loan's events got a re-application entry after entry
    `entry_id` (e.g. later payments moved by a backdated one)."""
    entries = JournalEntry.objects.filter(
        loan=loan,
        id__gt=entry_id,
        entry_type=JournalEntry.Type.REAPPLICATION,
        source__startswith="event:",
    )
    if exclude_event is not None:
        entries = entries.exclude(source=f"event:{exclude_event.pk}")
    return entries.values("source").distinct().count()


def get_payment(loan: Loan, payment_pk: int) -> Payment:
    """A payment of this loan; NotFound for another loan's payment."""
    payment = (
        Payment.objects.select_related("event", "loan").filter(loan=loan, pk=payment_pk).first()
    )
    if payment is None:
        raise NotFound(f"No payment {payment_pk} on loan {loan.loan_number}.")
    return payment


def allocations_by_event(loan_id: int, event_ids) -> dict[int, list[AllocationRow]]:
    """event id -> where its money is now (see `AllocationRow`), for the given
    events of one loan: one query (none for no events)."""
    sources = {f"event:{event_id}": event_id for event_id in event_ids}
    if not sources:
        return {}
    return {
        sources[source]: lines for source, lines in _allocation_sums(loan_id, list(sources)).items()
    }


PAYMENT_FIELDS = (
    "id",
    "loan_id",
    "event_id",
    "amount",
    "received_on",
    "method",
    "channel",
    "reference",
    "excess",
    "status",
    "reversal_reason",
    "reversal_event_id",
    "created_at",
)


def payment_row(payment_id: int) -> dict:
    """A payment as a plain row (`PAYMENT_FIELDS`) with its current
    `allocation`: two queries."""
    row = Payment.objects.filter(pk=payment_id).values(*PAYMENT_FIELDS).get()
    row["allocation"] = allocations_by_event(row["loan_id"], [row["event_id"]]).get(
        row["event_id"], []
    )
    return row


def loan_event_rows(loan: Loan) -> QuerySet:
    """The loan's events newest first as plain rows, each with the id of the
    reversal that cancelled it and its payment's columns (null for events
    that are no payment): one query a page, for paginated lists."""
    return (
        LoanEvent.objects.filter(loan=loan)
        .order_by("-effective_date", "-id")
        .values(
            "id",
            "kind",
            "effective_date",
            "amount",
            "details",
            "reverses_id",
            "created_at",
            reversed_by_event_id=F("reversed_by__id"),
            payment_id=F("payment__id"),
            payment_method=F("payment__method"),
            payment_channel=F("payment__channel"),
            payment_reference=F("payment__reference"),
            payment_status=F("payment__status"),
            payment_reversal_reason=F("payment__reversal_reason"),
        )
    )
