"""Posting money: the one place that writes journal entries and postings.

A journal entry is written with all its postings in one bulk insert; the
database checks at commit that debits equal credits and refuses any later
UPDATE or DELETE. Entries are idempotent on (loan, key): posting the same
key twice is refused by a unique constraint, which callers use as "already
done".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import Q, Sum

from core.bulk import insert_all, insert_rows
from core.exceptions import DomainError
from core.money import ZERO
from servicing.models import AccountRole, GLAccount, JournalEntry, Loan, Posting, ProductAccount


@dataclass(frozen=True)
class Line:
    """One posting to be made: `amount` > 0 is a debit, < 0 a credit."""

    role: str
    amount: Decimal
    component: str = ""
    installment_number: int | None = None


@lru_cache(maxsize=256)
def _accounts_for_product(product_id: int) -> dict[str, int]:
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
    _accounts_for_product.cache_clear()


def _netted(lines: Iterable[Line], key: str) -> dict[tuple, Decimal]:
    """Lines summed per (role, component, instalment), zeros dropped; raises
    DomainError if they do not balance (the database would refuse it at
    commit anyway)."""
    netted: dict[tuple, Decimal] = {}
    for line in lines:
        k = (line.role, line.component, line.installment_number)
        netted[k] = netted.get(k, ZERO) + line.amount
    netted = {k: v for k, v in netted.items() if v}
    if netted and sum(netted.values(), ZERO) != ZERO:
        raise DomainError(f"Unbalanced entry {key}: {netted}", code="unbalanced_entry")
    return netted


_POSTING_FIELDS = [
    "entry_id",
    "loan_id",
    "account_id",
    "component",
    "installment_number",
    "debit",
    "credit",
    "effective_date",
]


def _posting_rows(entry: JournalEntry, product_id: int, netted: dict[tuple, Decimal]):
    """The entry's postings as plain rows in `_POSTING_FIELDS` order."""
    accounts = _accounts_for_product(product_id)
    return [
        (
            entry.pk,
            entry.loan_id,
            accounts[role],
            component,
            installment,
            amount if amount > 0 else ZERO,
            -amount if amount < 0 else ZERO,
            entry.effective_date,
        )
        for (role, component, installment), amount in netted.items()
    ]


def post_entry(
    *,
    loan: Loan,
    entry_type: str,
    effective_date: date,
    key: str,
    lines: Iterable[Line],
    source: str = "",
    event=None,
    event_id: int | None = None,
    memo: str = "",
    user=None,
) -> JournalEntry | None:
    """Write one balanced entry; returns None when every line nets to zero.

    Lines with the same (role, component, instalment) are netted first, so
    callers can describe a movement naturally. Raises DomainError if the
    lines do not balance."""
    return post_entries(
        [
            EntrySpec(
                loan=loan,
                entry_type=entry_type,
                effective_date=effective_date,
                key=key,
                lines=tuple(lines),
                source=source,
                event_id=event.pk if event is not None else event_id,
                memo=memo,
                user=user,
            )
        ]
    )[0]


@dataclass(frozen=True)
class EntrySpec:
    """The arguments of one `post_entry`, for `post_entries`."""

    loan: Loan
    entry_type: str
    effective_date: date
    key: str
    lines: tuple[Line, ...]
    source: str = ""
    event_id: int | None = None
    memo: str = ""
    user: object = None


def post_entries(specs: list[EntrySpec]) -> list[JournalEntry | None]:
    """Write many balanced entries with two bulk inserts (entries, then all
    their postings). Returns one item per spec: the entry, or None where the
    lines net to zero. All-or-nothing: an unbalanced spec raises before
    anything is written."""
    prepared = [(spec, _netted(spec.lines, spec.key)) for spec in specs]
    entries = [
        JournalEntry(
            loan=spec.loan,
            entry_type=spec.entry_type,
            effective_date=spec.effective_date,
            key=spec.key,
            source=spec.source or spec.key,
            event_id=spec.event_id,
            memo=spec.memo[:200],
            created_by=spec.user if getattr(spec.user, "pk", None) else None,
        )
        if netted
        else None
        for spec, netted in prepared
    ]
    insert_all([e for e in entries if e is not None])
    rows = [
        row
        for entry, (spec, netted) in zip(entries, prepared, strict=True)
        if entry is not None
        for row in _posting_rows(entry, spec.loan.product_id, netted)
    ]
    insert_rows(Posting, _POSTING_FIELDS, rows, count=len(rows))
    return entries


def balances_by_role(loan: Loan, *, as_of: date | None = None) -> dict[str, Decimal]:
    """Debit-minus-credit per account role from the postings (as of a date)."""
    accounts = {v: k for k, v in _accounts_for_product(loan.product_id).items()}
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
