"""`manage.py verify_ledger [--loan L-0000042]`: prove that every loan's
cached columns can be re-derived.

For each loan it derives the balances twice, independently:

- from the ledger: the sum of the loan's postings per GL account role
  (principal_balance = principal receivable, interest_balance = interest
  receivable, accrued_interest = accrued interest receivable (the daily
  accruals not yet due), fees, penalties; unapplied_balance = -unapplied funds,
  overpayment_balance = -overpayment liability);
- from a fresh replay of the loan's events (core.finance.servicing.replay
  as of the business date), which also gives days past due and the next
  due date and amount;

and compares both with the cached columns on the loan. A charged-off or
closed loan must show zero receivables (they were written off) and no
arrears. It also checks that every journal entry balances.

The cached Installment rows are checked the same two ways:

- against the replay: every column sync writes (sync.INSTALLMENT_FIELDS:
  due date, the four amounts due and paid, and status), and the set of
  instalment numbers. Status depends on the as-of date and on what is owed
  after fees moved between rebuilt instalments, so only the replay can
  derive it exactly; the ledger check below covers the paid amounts only.
- against the postings, per instalment and component (postings of the
  receivable accounts carry installment_number and component):
  principal_paid = credits - debits on that instalment's principal lines;
  interest_paid = the same on its interest lines, leaving out the
  "accrual:<n>" entries that recognised the interest; fees_paid and
  penalties_paid = the replay's fees (penalties) due on the instalment
  less what the ledger still shows owed on it (an entry of a fee or waiver
  event nets the fee with any credit applied to it in the same posting, so
  the paid part of those lines cannot be told apart from the postings
  alone). Known limit: a fee moved to another instalment by a rebuild
  (modification, prepayment, payoff) keeps its postings on the old number,
  and is reported.

The replay is as of today's business date, so run it after end-of-day has
brought the loans to that date (a loan nobody synced since the date moved
shows stale caches, which is what this command exists to catch).

Work is chunked by loan id (1,000 loans per chunk by default), six queries
per chunk whatever its size: the loans with their products (keyset
pagination), the postings summed per loan and account, the unbalanced
entries, the live events of the chunk's id range, the receivable postings
summed per loan, instalment and component, and the cached Installment rows. Schedules are built
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
from core.finance.servicing import (
    LoanSetup,
    ServicingError,
    replay,
)
from core.money import ZERO
from servicing.models import AccountRole, Installment, Loan, LoanState, ProductAccount
from servicing.services.sync import INSTALLMENT_FIELDS, loan_terms, read_events, setup_of

FROZEN = (LoanState.CHARGED_OFF, LoanState.CLOSED)
# cached column -> (role, sign): the ledger value is sign * (debits - credits)
LEDGER_FIELDS = {
    "principal_balance": (AccountRole.PRINCIPAL, 1),
    "interest_balance": (AccountRole.INTEREST, 1),
    "fees_balance": (AccountRole.FEES, 1),
    "penalties_balance": (AccountRole.PENALTIES, 1),
    "unapplied_balance": (AccountRole.UNAPPLIED, -1),
    "overpayment_balance": (AccountRole.OVERPAYMENT, -1),
    "accrued_interest": (AccountRole.ACCRUED_INTEREST, 1),
}
RECEIVABLE_FIELDS = (
    "principal_balance",
    "interest_balance",
    "fees_balance",
    "penalties_balance",
    "accrued_interest",
)
PAID_FIELDS = ("principal_paid", "interest_paid", "fees_paid", "penalties_paid")
# Installment column -> posting component
PAID_COMPONENTS = {f: f.removesuffix("_paid") for f in PAID_FIELDS}


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
        paid = _installment_ledger(lo, hi)
        cached = _cached_installments(lo, hi)
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
            out += self._compare_replay(
                loan, events.get(loan.id, []), as_of, cached.get(loan.id, {}), paid.get(loan.id, {})
            )
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
            product.arrears_grace_days,
            product.late_fee_grace_days,
        )
        setup = self._setups.get(key)
        if setup is None:
            setup = setup_of(loan_terms(loan), product, loan.prepayment_mode)
            if len(self._setups) > 20000:
                self._setups.clear()
                self._expected.clear()
            self._setups[key] = setup
        return setup

    def _compare_replay(
        self, loan: Loan, events: list, as_of: date, rows: dict, paid: dict
    ) -> list[Mismatch]:
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
            expected = (_expected_caches(state, frozen), _expected_rows(state))
            if memo_key:
                self._expected[memo_key] = expected
        caches, wanted = expected
        out = [
            Mismatch(loan.loan_number, name, getattr(loan, name), value, "replay")
            for name, value in caches.items()
            if getattr(loan, name) != value
        ]
        return out + _compare_installments(loan.loan_number, rows, wanted, paid)


def _expected_rows(state) -> dict[int, tuple]:
    """instalment number -> its INSTALLMENT_FIELDS values as sync writes them."""
    return {i.number: tuple(getattr(i, f) for f in INSTALLMENT_FIELDS) for i in state.installments}


_INDEX = {f: n for n, f in enumerate(INSTALLMENT_FIELDS)}
_PAID_AT = slice(_INDEX["principal_paid"], _INDEX["penalties_paid"] + 1)


def _compare_installments(
    loan_number: str, rows: dict[int, tuple], wanted: dict[int, tuple], paid: dict
) -> list[Mismatch]:
    """Cached Installment rows against the replay (every column) and their
    paid amounts against the postings (see the module docstring)."""
    out = []
    if not paid and rows == wanted and not any(any(v[_PAID_AT]) for v in wanted.values()):
        return out  # nothing posted to an instalment, nothing paid: an untouched loan
    for number in sorted(set(rows) | set(wanted)):
        row, want = rows.get(number), wanted.get(number)
        label = f"installment {number}"
        if row is None or want is None:
            out.append(
                Mismatch(
                    loan_number,
                    label,
                    "missing" if row is None else "present",
                    "missing" if want is None else "present",
                    "replay",
                )
            )
            continue
        if row != want:
            out += [
                Mismatch(loan_number, f"{label} {name}", row[n], want[n], "replay")
                for name, n in _INDEX.items()
                if row[n] != want[n]
            ]
        sums = paid.get(number, {})
        for name in PAID_FIELDS:
            component = PAID_COMPONENTS[name]
            net, accrued = sums.get(component, (ZERO, ZERO))
            if component in ("fees", "penalties"):
                derived = want[_INDEX[component + "_due"]] + net
            else:
                derived = net + accrued  # credits less debits, accruals left out
            if row[_INDEX[name]] != derived:
                out.append(
                    Mismatch(loan_number, f"{label} {name}", row[_INDEX[name]], derived, "ledger")
                )
    for number in sorted(set(paid) - set(rows) - set(wanted)):
        for component, (net, accrued) in sorted(paid[number].items()):
            if net + accrued:
                out.append(
                    Mismatch(
                        loan_number,
                        f"installment {number} {component}_paid",
                        None,
                        f"postings on an instalment that does not exist: {net + accrued}",
                        "entry",
                    )
                )
    return out


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
        "delinquent_days": 0 if frozen else state.delinquent_days,
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
    return read_events(loan_id__gte=lo, loan_id__lte=hi).live


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


def _installment_ledger(lo: int, hi: int) -> dict[int, dict[int, dict[str, tuple]]]:
    """loan id -> {instalment: {component: (credits - debits, accrued)}} over
    the instalment-bound receivable postings, where `accrued` is the debits
    less credits of the "accrual:<n>" entries among them: one grouped query."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.loan_id, p.installment_number, p.component, "
            "SUM(p.credit) - SUM(p.debit), "
            "SUM(CASE WHEN e.source LIKE 'accrual:%%' THEN p.debit - p.credit ELSE 0 END) "
            "FROM servicing_posting p JOIN servicing_journalentry e ON e.id = p.entry_id "
            "WHERE p.loan_id BETWEEN %s AND %s AND p.installment_number IS NOT NULL "
            "AND p.component <> '' "
            # accrued interest is not yet a receivable of the instalment
            "AND p.account_id NOT IN (SELECT account_id FROM servicing_productaccount "
            "WHERE role = 'accrued_interest') "
            "GROUP BY p.loan_id, p.installment_number, p.component",
            [lo, hi],
        )
        for loan_id, number, component, net, accrued in cursor.fetchall():
            out[loan_id][number][component] = (_cents(net), _cents(accrued))
    return out


def _cached_installments(lo: int, hi: int) -> dict[int, dict[int, tuple]]:
    """loan id -> {instalment number: its INSTALLMENT_FIELDS values}: one query."""
    out: dict[int, dict[int, tuple]] = defaultdict(dict)
    rows = Installment.objects.filter(loan_id__gte=lo, loan_id__lte=hi).values_list(
        "loan_id", "number", *INSTALLMENT_FIELDS
    )
    for loan_id, number, *values in rows.order_by():
        out[loan_id][number] = tuple(values)
    return out


def _cents(value) -> Decimal:
    """A SQL sum of NUMERIC amounts (a Decimal) to exactly two places."""
    return Decimal(value).quantize(Decimal("0.01"))


def _unbalanced_entries(lo: int, hi: int) -> dict[int, list[tuple]]:
    """loan id -> [(entry id, debits, credits)] for entries that do not balance."""
    out: dict[int, list[tuple]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT loan_id, entry_id, SUM(debit), SUM(credit) FROM servicing_posting "
            "WHERE loan_id BETWEEN %s AND %s GROUP BY loan_id, entry_id "
            "HAVING SUM(debit) <> SUM(credit)",  # NUMERIC sums are exact
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
