"""Reads of servicing: loan search, one loan, its transactions with their
allocations, its ledger, balances as of a date, and the portal's access
function. Nothing here writes.

Allocations are read from the postings, not from the replay: the entries
whose source is "event:<id>" sum to that event's current effect (the
original posting plus any re-applications after a backdated change or a
reversal), so netting their postings per component and instalment says
exactly where each cent of the event is now.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from core.exceptions import NotFound
from core.money import ZERO
from servicing.models import (
    BORROWER_ROLES,
    AccountRole,
    Component,
    JournalEntry,
    Loan,
    LoanEvent,
    LoanParty,
    LoanState,
    Payment,
    Posting,
    ServiceRequest,
)
from servicing.selectors.ledger import balances_by_role, gl_trial_balance

_LOAN_NUMBER_RE = re.compile(r"^l-?0*(\d{1,12})$", re.IGNORECASE)
_CUSTOMER_NUMBER_RE = re.compile(r"^c-?0*(\d{1,12})$", re.IGNORECASE)

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


# --- search and access -------------------------------------------------------------


def _loan_queryset() -> QuerySet[Loan]:
    return Loan.objects.select_related("customer", "product")


def search_loans(
    query: str = "",
    *,
    state: str = "",
    dpd_min: int | None = None,
    dpd_max: int | None = None,
    customer_id: int | None = None,
) -> QuerySet[Loan]:
    """Staff loan search, newest first. `query` is read as:

    - a loan number ("L-0000042", "l42"): that loan;
    - a customer number ("C-000007", "c7"): the loans that customer is a
      party to (borrower, co-borrower or guarantor);
    - otherwise: the exact origination reference, or a loan number
      containing it, or every word in a party's legal or d/b/a name.

    `state` narrows to one LoanState; `dpd_min` / `dpd_max` bound days past
    due (inclusive); `customer_id` narrows to the loans of one party."""
    loans = _loan_queryset()
    if state in LoanState.values:
        loans = loans.filter(state=state)
    if dpd_min is not None:
        loans = loans.filter(days_past_due__gte=dpd_min)
    if dpd_max is not None:
        loans = loans.filter(days_past_due__lte=dpd_max)
    if customer_id is not None:
        loans = loans.filter(
            pk__in=LoanParty.objects.filter(customer_id=customer_id).values("loan")
        )
    query = " ".join((query or "").split())
    if query:
        loan_number = _LOAN_NUMBER_RE.match(query)
        customer_number = _CUSTOMER_NUMBER_RE.match(query)
        if loan_number:
            loans = loans.filter(loan_number=f"L-{int(loan_number.group(1)):07d}")
        elif customer_number:
            number = f"C-{int(customer_number.group(1)):06d}"
            parties = LoanParty.objects.filter(customer__customer_number=number)
            loans = loans.filter(pk__in=parties.values("loan"))
        else:
            names = Q()
            for word in query.split():
                names &= Q(customer__legal_name__icontains=word) | Q(
                    customer__dba_name__icontains=word
                )
            # Any party's name, as a subquery: a loan with two matching
            # parties is listed once.
            named = LoanParty.objects.filter(names).values("loan")
            loans = loans.filter(
                Q(origination_reference__iexact=query)
                | Q(loan_number__icontains=query)
                | Q(pk__in=named)
            )
    return loans.order_by("-id")


def get_loan(pk: int) -> Loan:
    """One loan with its customer, product and boarding user; NotFound if none."""
    loan = _loan_queryset().select_related("boarded_by").filter(pk=pk).first()
    if loan is None:
        raise NotFound(f"No loan {pk}.")
    return loan


def get_loan_by_number(loan_number: str) -> Loan:
    loan = _loan_queryset().filter(loan_number=loan_number).first()
    if loan is None:
        raise NotFound(f"No loan {loan_number}.")
    return loan


def _party_loan_ids(customer) -> QuerySet:
    """Ids of the loans `customer` is a party to (any role)."""
    return LoanParty.objects.filter(customer=customer).values("loan_id")


def get_loans_for_customer(customer) -> QuerySet[Loan]:
    """The portal's access function: the loans this customer is a party to
    (primary borrower, co-borrower or guarantor), newest first. A borrower
    reaches a loan only through this queryset, so a loan they are no party
    to is simply not found (404)."""
    return _loan_queryset().filter(pk__in=_party_loan_ids(customer)).order_by("-id")


def loan_parties(loan: Loan) -> list[LoanParty]:
    """The loan's parties with their customers, the primary borrower first."""
    return list(LoanParty.objects.filter(loan=loan).select_related("customer").order_by("ordering"))


def loan_borrowers(loan: Loan) -> list:
    """The customers who owe the loan (borrower, then co-borrowers in order):
    whom statements, payoff letters and notices address."""
    return [p.customer for p in loan_parties(loan) if p.role in BORROWER_ROLES]


def installments(loan: Loan) -> QuerySet:
    """The loan's schedule with what was paid, annotated with charges_due
    (fees + penalties), total_due_amount, total_paid_amount and outstanding."""
    due = F("principal_due") + F("interest_due") + F("fees_due") + F("penalties_due")
    paid = F("principal_paid") + F("interest_paid") + F("fees_paid") + F("penalties_paid")
    return loan.installments.annotate(
        charges_due=F("fees_due") + F("penalties_due"),
        total_due_amount=due,
        total_paid_amount=paid,
        outstanding=due - paid,
    ).order_by("number")


# --- transactions and their allocations -------------------------------------------


@dataclass(frozen=True)
class AllocationLine:
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
    lines: list[AllocationLine] = field(default_factory=list)
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
    """source -> [AllocationLine], netted over all the source's entries
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
                AllocationLine(row["component"], row["installment_number"], row["net"])
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


def event_allocation(event: LoanEvent) -> list[AllocationLine]:
    """Where `event`'s money is now (see `AllocationLine`)."""
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


# --- ledger ------------------------------------------------------------------------


def loan_postings(loan: Loan) -> QuerySet[JournalEntry]:
    """The loan's journal entries in effective-date order with their postings
    (account code and name, component, instalment, debit, credit) prefetched:
    two queries."""
    return (
        JournalEntry.objects.filter(loan=loan)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "postings",
                queryset=Posting.objects.select_related("account").order_by("-debit", "id"),
            )
        )
        .order_by("effective_date", "id")
    )


@dataclass(frozen=True)
class Balances:
    """A loan's balances by component, derived from postings. Credits
    (unapplied, overpayment) are positive amounts held for the borrower."""

    as_of: date | None
    principal: Decimal
    interest: Decimal
    fees: Decimal
    penalties: Decimal
    unapplied: Decimal
    overpayment: Decimal

    @property
    def receivable(self) -> Decimal:
        return self.principal + self.interest + self.fees + self.penalties

    @property
    def credit(self) -> Decimal:
        return self.unapplied + self.overpayment

    @property
    def net_owed(self) -> Decimal:
        """What the borrower owes net of credit held (negative: we owe them)."""
        return self.receivable - self.credit


def balances_from_roles(roles: dict[str, Decimal], as_of: date | None = None) -> Balances:
    return Balances(
        as_of=as_of,
        principal=roles.get(AccountRole.PRINCIPAL, ZERO),
        interest=roles.get(AccountRole.INTEREST, ZERO),
        fees=roles.get(AccountRole.FEES, ZERO),
        penalties=roles.get(AccountRole.PENALTIES, ZERO),
        unapplied=-roles.get(AccountRole.UNAPPLIED, ZERO),
        overpayment=-roles.get(AccountRole.OVERPAYMENT, ZERO),
    )


def balances_as_of(loan: Loan, as_of: date | None = None) -> Balances:
    """The loan's balances from its postings effective on or before `as_of`
    (None: all postings)."""
    return balances_from_roles(balances_by_role(loan, as_of=as_of), as_of)


def gl_summary(*, as_of: date | None = None) -> list[dict]:
    """The trial balance: per GL account its debits, credits and balance
    (debits minus credits; None sums read as zero)."""
    rows = gl_trial_balance(as_of=as_of)
    for row in rows:
        row["debits"] = row["debits"] or ZERO
        row["credits"] = row["credits"] or ZERO
        row["balance"] = row["debits"] - row["credits"]
    return rows


# --- service requests ------------------------------------------------------------

OPEN_REQUEST_STATUSES = (ServiceRequest.Status.OPEN, ServiceRequest.Status.IN_PROGRESS)


def _request_queryset() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related(
        "loan", "customer", "assigned_to", "created_by", "resolved_by"
    )


def service_request_queue(
    *,
    today: date,
    status: str = "",
    kind: str = "",
    assignee_id: int | None = None,
    unassigned: bool = False,
    overdue: bool = False,
) -> QuerySet[ServiceRequest]:
    """The staff queue, oldest due first. `status` "" means still to do
    (open or in progress), "all" every status, else that one status.
    `overdue` keeps requests still to do whose due_by is before `today`
    (the business date)."""
    rows = _request_queryset()
    if status == "all":
        pass
    elif status:
        rows = rows.filter(status=status)
    else:
        rows = rows.filter(status__in=OPEN_REQUEST_STATUSES)
    if kind:
        rows = rows.filter(kind=kind)
    if unassigned:
        rows = rows.filter(assigned_to__isnull=True)
    elif assignee_id is not None:
        rows = rows.filter(assigned_to_id=assignee_id)
    if overdue:
        rows = rows.filter(status__in=OPEN_REQUEST_STATUSES, due_by__lt=today)
    return rows.order_by("due_by", "id")


def service_request_counts(*, today: date) -> dict[str, int]:
    """Requests per status, plus "overdue" (still to do, due before `today`)."""
    counts = dict.fromkeys(ServiceRequest.Status.values, 0)
    for row in ServiceRequest.objects.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["overdue"] = ServiceRequest.objects.filter(
        status__in=OPEN_REQUEST_STATUSES, due_by__lt=today
    ).count()
    return counts


def get_service_request(pk: int) -> ServiceRequest:
    """One request with its loan, customer and people; NotFound if none."""
    req = _request_queryset().filter(pk=pk).first()
    if req is None:
        raise NotFound(f"No service request {pk}.")
    return req


def service_requests_for_loan(loan: Loan) -> QuerySet[ServiceRequest]:
    """A loan's requests, newest first."""
    return _request_queryset().filter(loan=loan).order_by("-created_at", "-id")


def get_service_requests_for_customer(customer) -> QuerySet[ServiceRequest]:
    """The portal's access function for requests: the requests on the loans
    this customer is a party to (whoever of them asked), newest first; a request
    on a loan they are no party to is simply not found (404)."""
    return (
        _request_queryset()
        .filter(loan_id__in=_party_loan_ids(customer))
        .order_by("-created_at", "-id")
    )
