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

from core.bulk import insert_all, insert_rows
from core.exceptions import DomainError
from core.money import ZERO
from servicing.models import JournalEntry, Loan, Posting
from servicing.selectors.ledger import accounts_for_product


@dataclass(frozen=True)
class Line:
    """One posting to be made: `amount` > 0 is a debit, < 0 a credit."""

    role: str
    amount: Decimal
    component: str = ""
    installment_number: int | None = None


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
    accounts = accounts_for_product(product_id)
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
