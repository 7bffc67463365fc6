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


# --- set-based posting (end of day) ------------------------------------------------

# The columns a `post_lines_sql` query yields, one row per posting line.
LINE_COLUMNS = (
    "loan_id, product_id, entry_type, effective_date, source, seq, memo, "
    "role, component, installment_number, amount"
)


def post_lines_sql(cursor, lines_sql: str, params: dict) -> int:
    """Post, in one statement, the entries described by `lines_sql`: a SELECT
    yielding LINE_COLUMNS, one row per line, `amount` > 0 a debit and < 0 a
    credit of the product's account for `role`. Lines of one (loan, source)
    make one entry keyed "<source>#<seq>" (seq from its lines; the unique key
    refuses a second posting of the same key); zero lines are dropped and a
    source whose lines are all zero posts nothing. The balance trigger checks
    every entry when the statement ends. Returns the number of entries.

    The batch twin of `post_entries`, for work on thousands of loans at a
    time without a round trip per loan (the caller holds their row locks)."""
    cursor.execute(
        f"""
        WITH lines AS MATERIALIZED ({lines_sql}),
        grouped AS (
            SELECT loan_id, source, min(entry_type) AS entry_type,
                   min(effective_date) AS effective_date, min(seq) AS seq, min(memo) AS memo,
                   nextval(%(entry_sequence)s::regclass) AS entry_id
            FROM lines WHERE amount <> 0 GROUP BY loan_id, source
        ),
        entries AS (
            INSERT INTO servicing_journalentry
                (id, loan_id, entry_type, effective_date, booked_at, source, key, memo)
            SELECT entry_id, loan_id, entry_type, effective_date, now(), source,
                   source || '#' || seq, memo
            FROM grouped
            RETURNING id
        ),
        postings AS (
            INSERT INTO servicing_posting
                (entry_id, loan_id, account_id, component, installment_number, debit, credit,
                 effective_date)
            SELECT g.entry_id, l.loan_id, pa.account_id, l.component, l.installment_number,
                   GREATEST(l.amount, 0), GREATEST(-l.amount, 0), g.effective_date
            FROM lines l
            JOIN grouped g ON g.loan_id = l.loan_id AND g.source = l.source
            JOIN servicing_productaccount pa
              ON pa.product_id = l.product_id AND pa.role = l.role
            WHERE l.amount <> 0
            RETURNING entry_id
        )
        SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM postings)
        """,  # noqa: S608 - fixed SQL fragments; values are parameters
        {**params, "entry_sequence": _entry_sequence(cursor)},
    )
    entries, _postings = cursor.fetchone()
    return entries


_SEQUENCE: list[str] = []


def _entry_sequence(cursor) -> str:
    """The journal entry id sequence's name (looked up once per process)."""
    if not _SEQUENCE:
        cursor.execute("SELECT pg_get_serial_sequence('servicing_journalentry', 'id')")
        _SEQUENCE.append(cursor.fetchone()[0])
    return _SEQUENCE[0]
