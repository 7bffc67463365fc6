"""Ledger reads: the GL account each role of a product posts to, a loan's
journal entries and postings, its balances (per account role and per
component, as of a date), and the trial balance across all loans. Nothing
here writes; `servicing.services.ledger` writes the entries these read."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import F, Prefetch, Q, QuerySet, Sum

from core.exceptions import DomainError
from core.money import ZERO
from servicing.models import AccountRole, GLAccount, JournalEntry, Loan, Posting, ProductAccount


@lru_cache(maxsize=256)
def accounts_for_product(product_id: int) -> dict[str, int]:
    """role -> GL account id for a product (cached); DomainError if the
    product's chart lacks a role."""
    mapping = dict(
        ProductAccount.objects.filter(product_id=product_id).values_list("role", "account_id")
    )
    missing = set(AccountRole.values) - set(mapping)
    if missing:
        raise DomainError(
            f"Product {product_id} has no GL account for {', '.join(sorted(missing))}.",
            code="chart_incomplete",
        )
    return mapping


def clear_account_cache() -> None:
    accounts_for_product.cache_clear()


def balances_by_role(loan: Loan, *, as_of: date | None = None) -> dict[str, Decimal]:
    """Debit-minus-credit per account role from the postings (as of a date)."""
    accounts = {v: k for k, v in accounts_for_product(loan.product_id).items()}
    postings = Posting.objects.filter(loan=loan)
    if as_of is not None:
        postings = postings.filter(effective_date__lte=as_of)
    rows = postings.values("account_id").annotate(d=Sum("debit"), c=Sum("credit"))
    out = dict.fromkeys(AccountRole.values, ZERO)
    for row in rows:
        out[accounts[row["account_id"]]] = row["d"] - row["c"]
    return out


def gl_trial_balance(*, as_of: date | None = None) -> list[dict]:
    """Every GL account's debits, credits and balance across all loans."""
    filt = Q() if as_of is None else Q(postings__effective_date__lte=as_of)
    return list(
        GLAccount.objects.annotate(
            debits=Sum("postings__debit", filter=filt), credits=Sum("postings__credit", filter=filt)
        )
        .values("code", "name", "kind", "debits", "credits")
        .order_by("code")
    )


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


def loan_entry_rows(loan: Loan) -> QuerySet:
    """The loan's journal entries in booking order as plain rows (no
    postings; see `entry_posting_rows`): one query a page."""
    return (
        JournalEntry.objects.filter(loan=loan)
        .order_by("id")
        .values(
            "id", "entry_type", "effective_date", "booked_at", "source", "key", "memo", "event_id"
        )
    )


def entry_posting_rows(loan: Loan, entry_ids) -> dict[int, list[dict]]:
    """entry id -> its postings as plain rows (account code, name and role in
    the loan's product chart, component, instalment, debit, credit), in id
    order: two queries (the chart, the postings)."""
    roles = dict(
        ProductAccount.objects.filter(product_id=loan.product_id).values_list("account_id", "role")
    )
    postings = defaultdict(list)
    rows = (
        Posting.objects.filter(entry_id__in=list(entry_ids))
        .order_by("entry_id", "id")
        .values(
            "id",
            "entry_id",
            "account_id",
            "component",
            "installment_number",
            "debit",
            "credit",
            account_code=F("account__code"),
            account_name=F("account__name"),
        )
    )
    for row in rows:
        row["role"] = roles.get(row["account_id"], "")
        postings[row["entry_id"]].append(row)
    return postings
