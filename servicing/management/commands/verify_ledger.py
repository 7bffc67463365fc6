"""`manage.py verify_ledger [--loan L-0000042]`: prove that every loan's
cached columns can be re-derived.

For each loan it derives the balances twice, independently:

- from the ledger: the sum of the loan's postings per GL account role
  (principal_balance = principal receivable, interest_balance = interest
  receivable, fees, penalties; unapplied_balance = -unapplied funds,
  overpayment_balance = -overpayment liability);
- from a fresh replay of the loan's events (core.finance.servicing.replay
  as of the business date), which also gives days past due and the next
  due date and amount;

and compares both with the cached columns on the loan. A charged-off or
closed loan must show zero receivables (they were written off) and no
arrears. It also checks that every journal entry balances.

The replay is as of today's business date, so run it after end-of-day has
brought the loans to that date (a loan nobody synced since the date moved
shows stale caches, which is what this command exists to catch).

Work is chunked by loan id (1,000 loans per chunk by default), four queries
per chunk whatever its size: the loans with their products (keyset
pagination), the postings summed per loan and account, the unbalanced
entries, and the live events of the chunk's id range. Schedules are built
once per distinct set of terms, and a loan without events shares the replay
of every other loan with the same terms.
Prints "N loans checked, M mismatches" and each mismatch; exits 1 on any.
"""

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.businessdate import get_business_date
from core.finance import (
    AllocationMethod,
    Component,
    PrepaymentMode,
    build_schedule,
)
from core.finance.servicing import (
    LoanSetup,
    ServicingError,
    replay,
)
from servicing.models import AccountRole, Loan, LoanState, ProductAccount
from servicing.services.sync import event_from_row, live_event_rows, loan_terms

ZERO = Decimal("0.00")
FROZEN = (LoanState.CHARGED_OFF, LoanState.CLOSED)
# cached column -> (role, sign): the ledger value is sign * (debits - credits)
LEDGER_FIELDS = {
    "principal_balance": (AccountRole.PRINCIPAL, 1),
    "interest_balance": (AccountRole.INTEREST, 1),
    "fees_balance": (AccountRole.FEES, 1),
    "penalties_balance": (AccountRole.PENALTIES, 1),
    "unapplied_balance": (AccountRole.UNAPPLIED, -1),
    "overpayment_balance": (AccountRole.OVERPAYMENT, -1),
}
RECEIVABLE_FIELDS = ("principal_balance", "interest_balance", "fees_balance", "penalties_balance")


@dataclass(frozen=True)
class Mismatch:
    loan_number: str
    field: str
    cached: object
    derived: object
    source: str  # "ledger", "replay" or "entry"

    def __str__(self) -> str:
        if self.source == "entry":
            return f"{self.loan_number} {self.field}: {self.derived}"
        return (
            f"{self.loan_number} {self.field}: cached {self.cached}, {self.source} {self.derived}"
        )


class Command(BaseCommand):
    help = "Re-derive every loan's cached balances from postings and a replay; report mismatches."

    def add_arguments(self, parser):
        parser.add_argument("--loan", help="Check only this loan number (e.g. L-0000042).")
        parser.add_argument("--chunk-size", type=int, default=1000, help="Loans per query.")

    def handle(self, *args, **options):
        chunk_size = max(1, options["chunk_size"])
        started = time.perf_counter()
        as_of = get_business_date()
        roles = _product_roles()
        self._setups: dict = {}
        self._expected: dict = {}
        mismatches: list[Mismatch] = []
        checked = 0
        loans = Loan.objects.select_related("product").order_by("id")
        if options["loan"]:
            one = list(loans.filter(loan_number=options["loan"]))
            if not one:
                raise CommandError(f"No loan {options['loan']}.")
            chunks = [one]
        else:
            chunks = _chunks(loans, chunk_size)
        for chunk in chunks:
            checked += len(chunk)
            mismatches += self._check_chunk(chunk, roles, as_of)
        elapsed = time.perf_counter() - started
        for mismatch in mismatches:
            self.stdout.write(str(mismatch))
        rate = checked / elapsed if elapsed > 0 else 0
        self.stdout.write(
            f"{checked} loans checked, {len(mismatches)} mismatches "
            f"({elapsed:.2f}s, {rate:,.0f} loans/s, as of {as_of.isoformat()})"
        )
        if mismatches:
            loans = len({m.loan_number for m in mismatches})
            raise CommandError(
                f"{len(mismatches)} mismatches on {loans} loan{'s' if loans != 1 else ''}.",
                returncode=1,
            )

    # --- one chunk ------------------------------------------------------------------

    def _check_chunk(self, loans: list[Loan], roles: dict, as_of: date) -> list[Mismatch]:
        # Chunks are id ranges: range predicates use the loan_id indexes and
        # cost nothing to build, unlike a 1,000-item IN list.
        lo, hi = loans[0].id, loans[-1].id
        ledger = _ledger_sums(lo, hi)
        unbalanced = _unbalanced_entries(lo, hi)
        events = chunk_engine_events(lo, hi)
        out: list[Mismatch] = []
        for loan in loans:
            for entry_id, debits, credits in unbalanced.get(loan.id, ()):
                out.append(
                    Mismatch(
                        loan.loan_number,
                        f"entry {entry_id}",
                        None,
                        f"unbalanced: debits {debits}, credits {credits}",
                        "entry",
                    )
                )
            out += _compare_ledger(loan, ledger.get(loan.id, {}), roles.get(loan.product_id, {}))
            out += self._compare_replay(loan, events.get(loan.id, []), as_of)
        return out

    def _setup(self, loan: Loan) -> LoanSetup:
        """The loan's LoanSetup (as sync.loan_setup builds it), memoised on
        everything it depends on: many loans share the same terms."""
        product = loan.product
        key = (
            json.dumps(loan.terms, sort_keys=True),
            tuple(product.allocation_order),
            product.allocation_method,
            loan.prepayment_mode,
        )
        setup = self._setups.get(key)
        if setup is None:
            terms = loan_terms(loan)
            setup = LoanSetup(
                terms=terms,
                schedule=build_schedule(terms),
                allocation_order=tuple(Component(c) for c in product.allocation_order),
                allocation_method=AllocationMethod(product.allocation_method),
                prepayment_mode=PrepaymentMode(loan.prepayment_mode),
            )
            if len(self._setups) > 20000:
                self._setups.clear()
                self._expected.clear()
            self._setups[key] = setup
        return setup

    def _compare_replay(self, loan: Loan, events: list, as_of: date) -> list[Mismatch]:
        # Mirrors sync.replay_loan: as of the business date or the latest event.
        latest = max((e.effective_date for e in events), default=loan.disbursement_date)
        when = max(as_of, latest, loan.disbursement_date)
        frozen = loan.state in FROZEN
        setup = self._setup(loan)
        # Without events the result depends only on the setup and the date.
        memo_key = None if events else (id(setup), when, frozen)
        expected = self._expected.get(memo_key) if memo_key else None
        if expected is None:
            try:
                state = replay(setup, events, as_of=when)
            except (ServicingError, ValueError) as exc:
                return [
                    Mismatch(loan.loan_number, "replay", None, f"replay failed: {exc}", "entry")
                ]
            expected = _expected_caches(state, frozen)
            if memo_key:
                self._expected[memo_key] = expected
        return [
            Mismatch(loan.loan_number, name, getattr(loan, name), value, "replay")
            for name, value in expected.items()
            if getattr(loan, name) != value
        ]


def _expected_caches(state, frozen: bool) -> dict:
    """The cached columns as sync_loan would write them from `state`."""
    upcoming = [i for i in state.installments if i.outstanding > 0]
    return {
        "principal_balance": ZERO if frozen else state.principal_outstanding,
        "interest_balance": ZERO if frozen else state.interest_due_unpaid,
        "fees_balance": ZERO if frozen else state.fees_due_unpaid,
        "penalties_balance": ZERO if frozen else state.penalties_due_unpaid,
        "unapplied_balance": state.unapplied_credit,
        "overpayment_balance": state.overpayment,
        "days_past_due": 0 if frozen else state.days_past_due,
        "next_due_date": upcoming[0].due_date if upcoming and not frozen else None,
        "next_due_amount": sum(
            (i.outstanding for i in upcoming if i.due_date <= upcoming[0].due_date), ZERO
        )
        if upcoming and not frozen
        else ZERO,
    }


def chunk_engine_events(lo: int, hi: int) -> dict[int, list]:
    """loan id -> its live events as engine events, for the loans with ids
    lo..hi in one query (sync.engine_events does one loan per query)."""
    out: dict[int, list] = defaultdict(list)
    for event_id, loan_id, kind, when, amount, details in live_event_rows(
        loan_id__gte=lo, loan_id__lte=hi
    ):
        event = event_from_row(event_id, kind, when, amount, details)
        if event is not None:
            out[loan_id].append(event)
    return out


def _product_roles() -> dict[int, dict[int, str]]:
    """product id -> {account id: role}."""
    out: dict[int, dict[int, str]] = defaultdict(dict)
    for product_id, role, account_id in ProductAccount.objects.values_list(
        "product_id", "role", "account_id"
    ):
        out[product_id][account_id] = role
    return out


def _chunks(loans, size: int):
    """Lists of up to `size` loans in ascending id order (keyset pagination)."""
    last = 0
    while True:
        chunk = list(loans.filter(id__gt=last)[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].id


def _ledger_sums(lo: int, hi: int) -> dict[int, dict[int, Decimal]]:
    """loan id -> {account id: debits - credits}: one grouped query."""
    out: dict[int, dict[int, Decimal]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT loan_id, account_id, SUM(debit) - SUM(credit) FROM servicing_posting "
            "WHERE loan_id BETWEEN %s AND %s GROUP BY loan_id, account_id",
            [lo, hi],
        )
        for loan_id, account_id, net in cursor.fetchall():
            out[loan_id][account_id] = _cents(net)
    return out


def _cents(value) -> Decimal:
    """A SQL sum as Decimal cents (PostgreSQL gives Decimal, SQLite a float)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _unbalanced_entries(lo: int, hi: int) -> dict[int, list[tuple]]:
    """loan id -> [(entry id, debits, credits)] for entries that do not balance."""
    out: dict[int, list[tuple]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT loan_id, entry_id, SUM(debit), SUM(credit) FROM servicing_posting "
            "WHERE loan_id BETWEEN %s AND %s GROUP BY loan_id, entry_id "
            # SQLite sums NUMERIC as floating point: compare to half a cent.
            "HAVING ABS(SUM(debit) - SUM(credit)) >= 0.005",
            [lo, hi],
        )
        for loan_id, entry_id, debits, credits in cursor.fetchall():
            out[loan_id].append((entry_id, _cents(debits), _cents(credits)))
    return out


def _compare_ledger(loan: Loan, sums: dict[int, Decimal], roles: dict[int, str]) -> list[Mismatch]:
    by_role: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account_id, net in sums.items():
        by_role[roles.get(account_id, f"account {account_id}")] += net
    frozen = loan.state in FROZEN
    out = []
    for name, (role, sign) in LEDGER_FIELDS.items():
        derived = sign * by_role[role] + ZERO
        cached = getattr(loan, name)
        # A frozen loan's receivables must be zero on both sides (written
        # off); the replay check holds the cache to zero, this the ledger.
        if cached != derived or (frozen and name in RECEIVABLE_FIELDS and derived != ZERO):
            out.append(Mismatch(loan.loan_number, name, cached, derived, "ledger"))
    return out
