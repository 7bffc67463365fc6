"""File imports: payments (CSV) and loans migrated from another system (CSV).

Every row is validated; a bad row is reported with its line number and
reason and the good rows are processed. Re-importing a file does nothing
twice: payments carry an idempotency key, boarding is idempotent on the
origination reference. Each import is recorded as an ImportRun with its
per-row report.

Boarding a migrated loan ("cut-over")
-------------------------------------
A loan that was serviced elsewhere is boarded with its original terms
(`board_loan`, so its schedule and disbursement are exactly as if it had
been originated here), then its paid history as of the cut-over date is
recorded as ONE payment event dated the cut-over date, equal to
principal_paid + interest_paid. The replay allocates that payment through
the product's waterfall; if the other system's split agrees with ours, the
principal balance afterwards is exactly principal - principal_paid. If it
is not (the other system accrued interest differently, or the history has
late fees we do not know of), the row is rejected and rolled back whole:
nothing of that loan is boarded, and the report says which balance we got,
so the data can be corrected before re-importing. Per-payment history is
not migrated; the single event keeps the ledger balanced and the schedule
status true as of the cut-over.
"""

import csv
import hashlib
import io
import multiprocessing
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from core import audit
from core.audit import actor_of
from core.bulk import gc_paused
from core.businessdate import get_business_date
from core.exceptions import DomainError, ValidationFailed
from core.finance.enums import ExcessHandling
from core.models import AuditCategory
from core.money import CENT, format_money
from customers.models import Customer
from servicing.boarding import BoardingTerms, board_loan, board_loans, engine_terms
from servicing.models import ImportRun, Loan, Payment, ServicingProduct
from servicing.services.payments import PaymentRow, fingerprint, post_payment, post_payments
from servicing.services.sync import refresh_statistics

PAYMENT_COLUMNS = ("loan_number", "amount", "received_on", "method", "reference")
# Optional: "prepayment" or "unapplied" (what to do with anything beyond what
# is due); a blank cell or a file without the column takes the product default.
PAYMENT_OPTIONAL_COLUMNS = ("excess",)
EXCESS_CHOICES = tuple(choice.value for choice in ExcessHandling)
BOARDING_COLUMNS = (
    "origination_reference",
    "customer_number",
    "product_code",
    "principal",
    "annual_rate",
    "term",
    "disbursement_date",
    "first_payment_date",
    "cutover_date",
    "principal_paid",
    "interest_paid",
)
CHUNK = 500  # rows per transaction: a crash loses at most one chunk, a re-run redoes it


@dataclass
class ImportResult:
    run: ImportRun
    accepted: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


class _RowError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _rows(text: str, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(line number, row) for each data row; ValidationFailed if the header
    lacks a required column or the file is empty."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(
            "The file's header is not as expected.",
            code="bad_header",
            fields={"file": [f"Missing column(s): {', '.join(missing)}."]},
        )
    reader.fieldnames = header
    out = []
    for row in reader:
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        out.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}))
    if not out:
        raise ValidationFailed(
            "The file has no rows.", code="empty_file", fields={"file": ["No data rows."]}
        )
    return out


def _money(value: str, name: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(value.replace(",", "").replace("$", ""))
    except InvalidOperation:
        raise _RowError(f"{name} {value!r} is not a number.") from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise _RowError(
            f"{name} must be greater than zero."
            if not allow_zero
            else f"{name} cannot be negative."
        )
    if amount != amount.quantize(CENT):
        raise _RowError(f"{name} {value} has fractions of a cent.")
    return amount.quantize(CENT)


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _RowError(f"{name} {value!r} is not a date (YYYY-MM-DD).") from None


def report_rows(rows: list[dict]) -> list[dict]:
    """Rows for the report, each with `item` (what the row names) and
    `detail` (its amount or resulting balance) for display."""
    for row in rows:
        row.setdefault(
            "item",
            row.get("loan_number")
            or row.get("origination_reference")
            or row.get("trace_number", ""),
        )
        row.setdefault("detail", row.get("amount") or row.get("principal_balance") or "")
    return rows


def _record_run(kind, filename, sha, rows, result: ImportResult, user) -> ImportRun:
    for part in (result.accepted, result.duplicates, result.rejected):
        report_rows(part)
    run = ImportRun.objects.create(
        kind=kind,
        filename=filename[:200],
        sha256=sha,
        rows=rows,
        accepted=len(result.accepted),
        duplicates=len(result.duplicates),
        rejected=len(result.rejected),
        report={
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
        },
        created_by=actor_of(user),
    )
    audit.record(
        action=f"import.{kind}",
        category=AuditCategory.MONEY,
        obj=run,
        metadata={
            "filename": filename[:200],
            "sha256": sha,
            "rows": rows,
            "accepted": run.accepted,
            "duplicates": run.duplicates,
            "rejected": run.rejected,
        },
        actor=user,
    )
    return run


# --- payments --------------------------------------------------------------


def payment_key(*, loan_number: str, reference: str, received_on: date, amount: Decimal) -> str:
    """The idempotency key of an imported payment with a reference: its
    natural key (loan, reference, date, amount), hashed to fit the column."""
    natural = f"{loan_number}|{reference}|{received_on.isoformat()}|{amount}"
    return "csv:" + hashlib.sha256(natural.encode()).hexdigest()[:60]


class _LoanKey(NamedTuple):
    """What validating a payment row needs of its loan."""

    loan_number: str
    pk: int
    disbursement_date: date


@gc_paused()  # a file's rows are batch work (core.bulk)
def import_payments_csv(
    *, text: str, filename: str = "", acting_user=None, workers: int = 1
) -> ImportResult:
    """Post the payments of a CSV file (loan_number, amount, received_on,
    method, reference, and optionally excess), channel "batch".

    Rows are validated first (unknown loan, bad amount, date after the
    business date or before the loan's disbursement, unknown method, an
    excess other than prepayment or unapplied); the good rows are posted
    through post_payments, CHUNK rows (grouped by loan) per transaction, and
    a chunk that meets a key another import posted meanwhile is redone row
    by row through post_payment. `excess` says what becomes of anything beyond what is due; a
    blank cell, or a file without the column, takes the product's default.
    The idempotency key is the natural key
    (payment_key) when a reference is given, else "csv:<file sha>:<line>",
    so re-importing a file (or a corrected copy holding the same
    referenced rows) posts nothing twice. Raises ValidationFailed (writing
    nothing) for a file without the required header."""
    sha = hashlib.sha256(text.encode()).hexdigest()
    rows = _rows(text, PAYMENT_COLUMNS)
    refresh_statistics()
    today = get_business_date()
    loans = {
        row[0]: _LoanKey(*row)
        for row in Loan.objects.filter(
            loan_number__in={r["loan_number"] for _, r in rows}
        ).values_list("loan_number", "pk", "disbursement_date")
    }
    result = ImportResult(run=None)
    good: list[tuple[int, dict, _LoanKey, Decimal, date, str, str | None, str]] = []
    seen_keys: set[str] = set()
    for line, row in rows:
        try:
            loan = loans.get(row["loan_number"])
            if loan is None:
                raise _RowError(f"Unknown loan {row['loan_number']!r}.")
            amount = _money(row["amount"], "Amount")
            received_on = _date(row["received_on"], "received_on")
            if received_on > today:
                raise _RowError(f"received_on {received_on} is after the business date {today}.")
            if received_on < loan.disbursement_date:
                raise _RowError(f"The loan was disbursed on {loan.disbursement_date}.")
            method = row["method"].lower()
            if method not in Payment.Method.values:
                raise _RowError(
                    f"Method {row['method']!r} is not one of {', '.join(Payment.Method.values)}."
                )
            if len(row["reference"]) > 100:
                raise _RowError("The reference is longer than 100 characters.")
            excess = (row.get("excess") or "").lower() or None
            if excess is not None and excess not in EXCESS_CHOICES:
                raise _RowError(
                    f"Excess {row['excess']!r} is not one of {', '.join(EXCESS_CHOICES)} "
                    "(or blank for the product default)."
                )
        except _RowError as exc:
            result.rejected.append(
                {"line": line, "loan_number": row["loan_number"], "reason": exc.reason}
            )
            continue
        key = (
            payment_key(
                loan_number=loan.loan_number,
                reference=row["reference"],
                received_on=received_on,
                amount=amount,
            )
            if row["reference"]
            else f"csv:{sha[:32]}:{line}"
        )
        if key in seen_keys:
            result.duplicates.append(
                {"line": line, "loan_number": loan.loan_number, "reason": "Repeated in this file."}
            )
            continue
        seen_keys.add(key)
        good.append((line, row, loan, amount, received_on, method, excess, key))
    existing = set(
        Payment.objects.filter(idempotency_key__in=seen_keys).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = []
    for line, row, loan, amount, received_on, method, excess, key in good:
        base = {"line": line, "loan_number": loan.loan_number, "amount": str(amount)}
        if key in existing:
            result.duplicates.append({**base, "reason": "Already imported."})
            continue
        payment = PaymentRow(
            loan_id=loan.pk,
            amount=amount,
            received_on=received_on,
            method=method,
            channel=Payment.Channel.BATCH,
            reference=row["reference"],
            excess=excess,
            idempotency_key=key,
            request_fingerprint=fingerprint(
                {"loan": loan.loan_number, "amount": str(amount), "on": str(received_on)}
                # Only an explicit instruction is fingerprinted, so files
                # without the column keep their earlier fingerprints.
                | ({"excess": excess} if excess else {})
            ),
        )
        fresh.append((base, payment))
    chunks = _chunks_by_loan(fresh)
    payload = [[p for _, p in chunk] for chunk in chunks]
    if workers > 1 and len(chunks) > 1 and _can_fork():
        outcomes_by_chunk = _post_in_processes(payload, acting_user, workers)
    else:
        outcomes_by_chunk = (_post_chunk(rows, acting_user) for rows in payload)
    for chunk, outcomes in zip(chunks, outcomes_by_chunk, strict=True):
        for (base, _), (status, value) in zip(chunk, outcomes, strict=True):
            if status == "posted":
                result.accepted.append({**base, "payment_id": value})
            elif status == "duplicate":
                result.duplicates.append({**base, "reason": "Already imported."})
            else:
                result.rejected.append({**base, "reason": value})
    result.accepted.sort(key=lambda r: r["line"])
    result.duplicates.sort(key=lambda r: r["line"])
    result.rejected.sort(key=lambda r: r["line"])
    with transaction.atomic():
        result.run = _record_run(
            ImportRun.Kind.PAYMENTS, filename, sha, len(rows), result, acting_user
        )
    return result


def _chunks_by_loan(fresh: list) -> list[list]:
    """Rows grouped by loan (file order kept within a loan) and cut into
    chunks of about CHUNK rows at loan boundaries, so no two chunks touch
    the same loan and chunks can run in parallel without waiting on locks."""
    by_loan: dict[int, list] = {}
    for item in fresh:
        by_loan.setdefault(item[1].loan_id, []).append(item)
    chunks: list[list] = [[]]
    for loan_id in sorted(by_loan):
        if len(chunks[-1]) >= CHUNK:
            chunks.append([])
        chunks[-1].extend(by_loan[loan_id])
    return [chunk for chunk in chunks if chunk]


def _post_chunk(rows: list, acting_user) -> list[tuple[str, object]]:
    """Post one chunk in one transaction: per row ("posted", payment id),
    ("duplicate", None) or ("rejected", reason)."""
    try:
        with transaction.atomic():
            outcomes = post_payments(rows, acting_user=acting_user)
    except IntegrityError:
        # Another import posted some of these keys meanwhile: post the
        # chunk row by row, where each duplicate is recognised.
        outcomes = [_post_one(row, acting_user) for row in rows]
    return [
        ("posted", o.pk)
        if isinstance(o, Payment)
        else ("duplicate", None)
        if o is None
        else ("rejected", o)
        for o in outcomes
    ]


def _can_fork() -> bool:
    """Worker processes need their own database sessions: only where the
    process can fork, and outside any transaction (a forked child cannot see
    uncommitted rows)."""
    return os.name == "posix" and not connection.in_atomic_block


def _child_post(args) -> list[tuple[str, object]]:
    rows, user_id = args
    user = get_user_model().objects.get(pk=user_id) if user_id else None
    return _post_chunk(rows, user)


def _post_in_processes(payload: list[list], acting_user, workers: int):
    """Chunks posted by `workers` forked processes (each with its own
    database session), results in chunk order. Chunks never share a loan,
    so the processes never wait on each other's row locks."""
    connections.close_all()  # children must not share the parent's socket
    user_id = acting_user.pk if actor_of(acting_user) else None
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=workers, initializer=connections.close_all) as pool:
        return pool.map(_child_post, [(rows, user_id) for rows in payload], chunksize=1)


def _post_one(row, acting_user):
    """One batch row through post_payment: the Payment, None if its key was
    already used, or the refusal message."""
    try:
        paid = post_payment(
            loan=Loan.objects.get(pk=row.loan_id),
            amount=row.amount,
            received_on=row.received_on,
            method=row.method,
            channel=row.channel,
            reference=row.reference,
            excess=row.excess,
            idempotency_key=row.idempotency_key,
            request_fingerprint=row.request_fingerprint,
            acting_user=acting_user,
        )
    except DomainError as exc:
        return exc.message
    return paid.payment if paid.created else None


# --- boarding --------------------------------------------------------------


class _Boarding(NamedTuple):
    """A validated boarding row."""

    base: dict
    terms: BoardingTerms
    paid_principal: Decimal
    paid_interest: Decimal
    cutover: date


@gc_paused()
def import_boarding_csv(*, text: str, filename: str = "", acting_user=None) -> ImportResult:
    """Board loans migrated from another system, with their paid history as
    of the cut-over (see the module docstring for the approach).

    Every row is validated first (including the terms the engine would
    refuse). The good rows are then boarded set-based, CHUNK rows per
    transaction: board_loans for the chunk, one cut-over payment per loan
    that paid anything (dated cut_over_date, for principal_paid +
    interest_paid) through post_payments, then the check that each
    principal balance is principal - principal_paid. A row failing that
    check (or whose loan refuses the payment) is rejected and the chunk is
    redone without it, so nothing of that loan is boarded. A chunk that
    fails on a database or domain error is boarded row by row instead
    (board_loan + post_payment, each row in its own savepoint), so each bad
    row is reported with its reason. A reference that is already boarded is
    reported as a duplicate and left alone."""
    sha = hashlib.sha256(text.encode()).hexdigest()
    rows = _rows(text, BOARDING_COLUMNS)
    refresh_statistics()
    today = get_business_date()
    customers = dict(
        Customer.objects.filter(
            customer_number__in={r["customer_number"] for _, r in rows}
        ).values_list("customer_number", "pk")
    )
    products = {}
    for product in ServicingProduct.objects.filter(
        code__in={r["product_code"] for _, r in rows}
    ).order_by("code", "-version"):
        products.setdefault(product.code, product)
    boarded = set(
        Loan.objects.filter(
            origination_reference__in={r["origination_reference"] for _, r in rows}
        ).values_list("origination_reference", flat=True)
    )
    result = ImportResult(run=None)
    seen: set[str] = set()
    good: list[_Boarding] = []
    for line, row in rows:
        ref = row["origination_reference"]
        base = {"line": line, "origination_reference": ref}
        if ref in boarded or ref in seen:
            result.duplicates.append({**base, "reason": "Already boarded."})
            continue
        try:
            terms, paid_principal, paid_interest, cutover = _boarding_terms(
                row, customers, products, today
            )
        except _RowError as exc:
            result.rejected.append({**base, "reason": exc.reason})
            continue
        seen.add(ref)
        try:
            # The terms the engine refuses, as board_loan would report them.
            engine_terms(terms, products[row["product_code"]])
        except DomainError as exc:
            result.rejected.append({**base, "reason": _domain_reason(exc)})
            continue
        good.append(_Boarding(base, terms, paid_principal, paid_interest, cutover))
    for start in range(0, len(good), CHUNK):
        chunk = good[start : start + CHUNK]
        outcomes = _board_chunk(chunk, acting_user)
        for item in chunk:
            status, value = outcomes[item.terms.origination_reference]
            if status == "accepted":
                result.accepted.append({**item.base, **value})
            elif status == "duplicate":
                result.duplicates.append({**item.base, "reason": "Already boarded."})
            else:
                result.rejected.append({**item.base, "reason": value})
    result.accepted.sort(key=lambda r: r["line"])
    result.duplicates.sort(key=lambda r: r["line"])
    result.rejected.sort(key=lambda r: r["line"])
    with transaction.atomic():
        result.run = _record_run(
            ImportRun.Kind.BOARDING, filename, sha, len(rows), result, acting_user
        )
    return result


def _domain_reason(exc: DomainError) -> str:
    detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
    return exc.message + (f" ({detail})" if detail else "")


def _mismatch(balance: Decimal, expected: Decimal) -> str:
    return (
        f"After the cut-over payment the principal balance is {format_money(balance)}, "
        f"not {format_money(expected)}: the paid split does not match this product's schedule."
    )


def _cutover_key(terms: BoardingTerms) -> str:
    return f"cutover:{terms.origination_reference}"[:100]


class _Refused(Exception):
    """Rows of a chunk the replay refused: the chunk is rolled back and redone without them."""

    def __init__(self, refused: dict[str, tuple[str, object]]):
        super().__init__(f"{len(refused)} row(s) refused")
        self.refused = refused


def _board_chunk(chunk: list[_Boarding], user) -> dict[str, tuple[str, object]]:
    """Board one chunk set-based in one transaction: per origination
    reference ("accepted", report fields), ("duplicate", None) or
    ("rejected", reason). Rows the cut-over check refuses are dropped and
    the rest redone; a database or domain error sends the chunk row by row."""
    outcomes: dict[str, tuple[str, object]] = {}
    pending = list(chunk)
    for _ in range(3):  # a redo only drops refused rows: one redo is the norm
        if not pending:
            return outcomes
        try:
            with transaction.atomic():
                outcomes_now = _board_set(pending, user)
        except _Refused as exc:
            outcomes.update(exc.refused)
            pending = [i for i in pending if i.terms.origination_reference not in exc.refused]
            continue
        except (DomainError, DatabaseError):
            break
        outcomes.update(outcomes_now)
        return outcomes
    for item in pending:
        outcomes[item.terms.origination_reference] = _board_row(item, user)
    return outcomes


def _board_set(items: list[_Boarding], user) -> dict[str, tuple[str, object]]:
    """board_loans + post_payments + the cut-over check for `items`, in
    the caller's transaction; raises _Refused if any row fails the check."""
    refs = [i.terms.origination_reference for i in items]
    already = set(
        Loan.objects.filter(origination_reference__in=refs).values_list(
            "origination_reference", flat=True
        )
    )
    outcomes: dict[str, tuple[str, object]] = dict.fromkeys(already, ("duplicate", None))
    todo = [i for i in items if i.terms.origination_reference not in already]
    if not todo:
        return outcomes
    loans = board_loans(terms=[i.terms for i in todo], acting_user=user)
    paying = [(i, loan) for i, loan in zip(todo, loans, strict=True) if _total(i) > 0]
    posted = post_payments(
        [
            PaymentRow(
                loan_id=loan.pk,
                amount=_total(item),
                received_on=item.cutover,
                method=Payment.Method.ACH,
                channel=Payment.Channel.BATCH,
                reference="cut-over paid history",
                excess="prepayment",
                idempotency_key=_cutover_key(item.terms),
            )
            for item, loan in paying
        ],
        acting_user=user,
    )
    refused: dict[str, tuple[str, object]] = {
        item.terms.origination_reference: ("rejected", outcome)
        for (item, _), outcome in zip(paying, posted, strict=True)
        if not isinstance(outcome, Payment)
    }
    balances = dict(
        Loan.objects.filter(pk__in=[loan.pk for loan in loans]).values_list(
            "pk", "principal_balance"
        )
    )
    for item, loan in zip(todo, loans, strict=True):
        ref = item.terms.origination_reference
        if ref in refused:
            continue
        balance = balances[loan.pk]
        expected = item.terms.principal - item.paid_principal
        if balance != expected:
            refused[ref] = ("rejected", _mismatch(balance, expected))
        else:
            outcomes[ref] = (
                "accepted",
                {"loan_number": loan.loan_number, "principal_balance": str(balance)},
            )
    if refused:
        raise _Refused(refused)
    audit.record_many(
        [
            audit.build(
                action="loan.migrated",
                category=AuditCategory.MONEY,
                obj=loan,
                metadata=_migrated_metadata(item),
                actor=user,
            )
            for item, loan in zip(todo, loans, strict=True)
        ]
    )
    return outcomes


def _board_row(item: _Boarding, user) -> tuple[str, object]:
    """One row the one-by-one way (board_loan + post_payment) in its own savepoint."""
    if Loan.objects.filter(origination_reference=item.terms.origination_reference).exists():
        return ("duplicate", None)
    try:
        with transaction.atomic():
            loan = _board_one(
                item.terms, item.paid_principal, item.paid_interest, item.cutover, user
            )
    except _RowError as exc:
        return ("rejected", exc.reason)
    except DomainError as exc:
        return ("rejected", _domain_reason(exc))
    except DatabaseError as exc:
        return ("rejected", f"Database error: {str(exc).strip().splitlines()[0]}")
    return (
        "accepted",
        {"loan_number": loan.loan_number, "principal_balance": str(loan.principal_balance)},
    )


def _total(item: _Boarding) -> Decimal:
    return item.paid_principal + item.paid_interest


def _migrated_metadata(item: _Boarding) -> dict:
    return {
        "cutover_date": item.cutover.isoformat(),
        "principal_paid": str(item.paid_principal),
        "interest_paid": str(item.paid_interest),
    }


def _boarding_terms(row, customers, products, today):
    ref = row["origination_reference"]
    if not ref or len(ref) > 64:
        raise _RowError("origination_reference must be 1 to 64 characters.")
    customer_id = customers.get(row["customer_number"])
    if customer_id is None:
        raise _RowError(f"Unknown customer {row['customer_number']!r}.")
    product = products.get(row["product_code"])
    if product is None:
        raise _RowError(f"Unknown product {row['product_code']!r}.")
    principal = _money(row["principal"], "principal")
    try:
        rate_percent = Decimal(row["annual_rate"])
    except InvalidOperation:
        raise _RowError(f"annual_rate {row['annual_rate']!r} is not a number.") from None
    if not rate_percent.is_finite() or not 0 <= rate_percent < 100:
        raise _RowError("annual_rate is a percent from 0 to under 100.")
    try:
        term = int(row["term"])
    except ValueError:
        raise _RowError(f"term {row['term']!r} is not a whole number.") from None
    if term <= 0:
        raise _RowError("term must be at least 1.")
    disbursed = _date(row["disbursement_date"], "disbursement_date")
    first = (
        _date(row["first_payment_date"], "first_payment_date")
        if row["first_payment_date"]
        else None
    )
    cutover = _date(row["cutover_date"], "cutover_date")
    if cutover < disbursed:
        raise _RowError("cutover_date is before the disbursement date.")
    if cutover > today:
        raise _RowError(f"cutover_date {cutover} is after the business date {today}.")
    paid_principal = _money(row["principal_paid"] or "0", "principal_paid", allow_zero=True)
    paid_interest = _money(row["interest_paid"] or "0", "interest_paid", allow_zero=True)
    if paid_principal > principal:
        raise _RowError("principal_paid is more than the principal.")
    terms = BoardingTerms(
        origination_reference=ref,
        customer_id=customer_id,
        product_id=product.pk,
        principal=principal,
        annual_rate=(rate_percent / 100).quantize(Decimal("0.000001")),
        term=term,
        disbursement_date=disbursed,
        first_payment_date=first,
        underwriting_notes="Migrated from another servicing system.",
    )
    return terms, paid_principal, paid_interest, cutover


def _board_one(terms, paid_principal, paid_interest, cutover, user) -> Loan:
    loan = board_loan(terms=terms, acting_user=user)
    total = paid_principal + paid_interest
    if total > 0:
        post_payment(
            loan=loan,
            amount=total,
            received_on=cutover,
            method=Payment.Method.ACH,
            channel=Payment.Channel.BATCH,
            reference="cut-over paid history",
            excess="prepayment",
            idempotency_key=_cutover_key(terms),
            acting_user=user,
        )
        loan.refresh_from_db()
    expected = terms.principal - paid_principal
    if loan.principal_balance != expected:
        raise _RowError(_mismatch(loan.principal_balance, expected))
    audit.record(
        action="loan.migrated",
        category=AuditCategory.MONEY,
        obj=loan,
        metadata=_migrated_metadata(_Boarding({}, terms, paid_principal, paid_interest, cutover)),
        actor=user,
    )
    return loan
