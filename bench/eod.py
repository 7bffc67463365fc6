"""End of day at portfolio scale.

`python -m bench eod --n 100000` (run by `make bench` for each size in
EOD_SIZES) creates a throwaway database "bench_eod" on the DATABASE_URL
server, migrates it and generates a book of N active loans directly in
PostgreSQL, not through the services:

- a realistic mix: 20 loan shapes (12 to 60 monthly instalments, 3,000 to
  25,000 at 7.9% or 19.9%), disbursed one to six months ago on every day of
  the month from the 1st to the 28th (so about 1 loan in 28 falls due on
  any date), 90% paid on time, 10% delinquent by one to four instalments
  (days past due in the 1-30, 31-60, 61-90 and 91-120 buckets, with their
  late fees), and half of the loans falling due today paid today;
- each distinct loan (shape, disbursement date, behaviour) is worked out
  once with the pure engine and servicing's own posting rules (the same
  functions sync uses: its replay, its expected postings, its cached
  figures), so the generated ledger is exactly what the services would
  have written, closed through yesterday with its daily accrual; those
  profiles are COPYed into staging tables and the N loans, their
  instalments, events, payments, journal entries and postings are expanded
  from them in SQL.

It then times, on the business date (the 28th of a month):

- baseline: plain set-based SQL over the whole book in one transaction
  (rolled back): the day's accrual postings (one entry and two postings per
  accruing loan), days past due for the loans owing an instalment, and the
  late-fee candidates. It is the database's own floor for this work;
- a full end of day (core.eod.run_end_of_day), per step and in total;
- the same date again (it must post nothing);
- the next day, the 29th, on which nothing falls due.

The last line for each size is the summary, in exactly this form:

    eod n=<N> seconds=<total> baseline_seconds=<b> ratio=<total/b> rerun_seconds=<s>

The database is dropped at the end (also on failure). Figures are printed,
never asserted; they vary with the machine.
"""

from __future__ import annotations

import argparse
import calendar
import sys
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bench.servicing import _admin, _server_url, _setup

BENCH_DB = "bench_eod"
TODAY = date(2026, 10, 28)  # a Wednesday; the 29th has no due date in the book
SHAPES = [
    (Decimal(p), Decimal(r), t)
    for t in (12, 24, 36, 48, 60)
    for p in ("3000", "25000")
    for r in ("0.079", "0.199")
]
AGES = range(1, 7)  # months since disbursement
DAYS = range(1, 29)  # day of the month of disbursement (and of every due date)
BEHAVIOURS = ("current", "late1", "late2", "late3", "late4", "paid_today")
CUSTOMERS = 200
# id blocks per loan, so generated rows get fixed ids: loan i's instalments,
# events and entries are i * BLOCK + k
BLOCK = 64


def _months_back(day: date, months: int, dom: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(y, m + 1, min(dom, calendar.monthrange(y, m + 1)[1]))


class Profiles:
    """Every distinct loan of the book worked out once with the engine."""

    def __init__(self, product):
        self.product = product
        self.loans: list[tuple] = []
        self.installments: list[tuple] = []
        self.events: list[tuple] = []
        self.entries: list[tuple] = []
        self.postings: list[tuple] = []
        self.keys: dict[tuple, int] = {}

    def build(self) -> None:
        for shape in SHAPES:
            for age in AGES:
                for dom in DAYS:
                    for behaviour in BEHAVIOURS:
                        if behaviour == "paid_today" and dom != TODAY.day:
                            continue
                        if behaviour.startswith("late") and int(behaviour[-1]) > age:
                            continue
                        self._profile(shape, age, dom, behaviour)

    def _profile(self, shape, age: int, dom: int, behaviour: str) -> None:
        from core.finance import build_schedule
        from core.finance.servicing import FeeEvent, PaymentEvent
        from servicing.boarding import (
            BoardingTerms,
            _disbursement_lines,
            engine_terms,
            terms_json,
        )
        from servicing.models import Loan
        from servicing.services.sync import (
            INSTALLMENT_FIELDS,
            _set_cached_figures,
            accrued_not_due,
            expected_postings,
            replay_events,
        )

        principal, rate, term = shape
        disbursed = _months_back(TODAY, age, dom)
        lt = engine_terms(
            BoardingTerms(
                origination_reference="x",
                customer_id=1,
                product_id=self.product.pk,
                principal=principal,
                annual_rate=rate,
                term=term,
                disbursement_date=disbursed,
            ),
            self.product,
        )
        schedule = build_schedule(lt)
        loan = Loan(
            product=self.product,
            terms=terms_json(lt),
            prepayment_mode=self.product.prepayment_mode,
            disbursement_date=disbursed,
            state="active",
        )
        yesterday = TODAY - timedelta(days=1)
        missed = int(behaviour[-1]) if behaviour.startswith("late") else 0
        due = [d for d in schedule.due_dates if d <= yesterday]
        paid = due[: len(due) - missed] if missed else due
        events, kinds = [], []
        for k, (day, amount) in enumerate(zip(paid, schedule.payments, strict=False), start=1):
            events.append(PaymentEvent(id=k, effective_date=day, amount=amount, seq=k))
            kinds.append(("payment", day, amount, {}))
        grace = self.product.late_fee_grace_days
        for n, day in enumerate(due[len(paid) :], start=len(paid) + 1):
            fee_day = day + timedelta(days=grace + 1)
            if fee_day <= yesterday:
                k = len(events) + 1
                details = {"fee_kind": "late", "installment_number": n, "penalty": False}
                events.append(
                    FeeEvent(
                        id=k,
                        effective_date=fee_day,
                        amount=self.product.late_fee_amount,
                        kind="late",
                        installment_number=n,
                        seq=k,
                    )
                )
                kinds.append(("fee", fee_day, self.product.late_fee_amount, details))
        as_of = yesterday
        if behaviour == "paid_today":
            k = len(events) + 1
            amount = schedule.payments[len(due)]
            events.append(PaymentEvent(id=k, effective_date=TODAY, amount=amount, seq=k))
            kinds.append(("payment", TODAY, amount, {}))
            as_of = TODAY
        events.sort(key=lambda e: (e.effective_date, e.id))
        state = replay_events(loan, events, as_of=as_of)
        # the daily accrual through yesterday on the period then current
        current = next(i for i in state.installments if i.due_date > yesterday)
        start = next(
            (i.due_date for i in state.installments if i.number == current.number - 1), disbursed
        )
        target = (
            current.interest_due
            * Decimal((min(TODAY, current.due_date) - start).days)
            / Decimal((current.due_date - start).days)
        ).quantize(Decimal("0.01"), ROUND_HALF_UP)
        accrued = {current.number: target} if target else {}
        _set_cached_figures(loan, state)
        pid = len(self.loans) + 1
        self.keys[(shape, age, dom, behaviour)] = pid
        self.loans.append(
            (
                pid,
                disbursed,
                schedule.due_dates[0],
                lt.principal,
                lt.annual_rate,
                lt.term,
                schedule.disbursed_amount,
                _json(loan.terms),
                loan.principal_balance,
                loan.interest_balance,
                loan.fees_balance,
                loan.penalties_balance,
                loan.unapplied_balance,
                loan.overpayment_balance,
                loan.days_past_due,
                loan.delinquent_days,
                loan.arrears_since,
                loan.next_due_date,
                loan.next_due_amount,
                accrued_not_due(state, accrued),
            )
        )
        for i in state.installments:
            self.installments.append((pid, i.number, *(getattr(i, f) for f in INSTALLMENT_FIELDS)))
        for k, (kind, day, amount, details) in enumerate(kinds, start=1):
            self.events.append((pid, k, kind, day, amount, _json(details)))
        entries = [
            (
                "disbursement",
                "disbursement",
                disbursed,
                None,
                _lines_of(_disbursement_lines(lt, schedule.loan_amount, schedule.disbursed_amount)),
            )
        ]
        for source, (when, entry_type, lines) in expected_postings(state, accrued).items():
            k = int(source.split(":")[1]) if source.startswith("event:") else None
            entries.append((source, entry_type, when, k, dict(lines)))
        if target:
            lines = {
                ("accrued_interest", "interest", current.number): target,
                ("interest_income", "", None): -target,
            }
            entries.append((f"daily:{yesterday.isoformat()}", "accrual", yesterday, None, lines))
        for e, (source, entry_type, when, k, lines) in enumerate(entries, start=1):
            self.entries.append((pid, e, source, entry_type, when, k))
            for (role, component, number), amount in lines.items():
                if amount:
                    self.postings.append(
                        (pid, e, role, component, number, max(amount, 0), max(-amount, 0), when)
                    )


def _lines_of(lines) -> dict:
    out: dict = {}
    for line in lines:
        key = (line.role, line.component, line.installment_number)
        out[key] = out.get(key, Decimal("0")) + line.amount
    return out


def _json(value) -> str:
    import json

    return json.dumps(value)


def _copy(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


STAGING = """
CREATE TEMP TABLE bp_loan (pid int PRIMARY KEY, disbursement_date date, first_payment_date date,
  principal numeric, annual_rate numeric, term int, disbursed_amount numeric, terms jsonb,
  principal_balance numeric, interest_balance numeric, fees_balance numeric,
  penalties_balance numeric, unapplied_balance numeric, overpayment_balance numeric,
  days_past_due int, delinquent_days int, arrears_since date, next_due_date date,
  next_due_amount numeric, accrued_interest numeric);
CREATE TEMP TABLE bp_installment (pid int, number int, due_date date, principal_due numeric,
  interest_due numeric, fees_due numeric, penalties_due numeric, principal_paid numeric,
  interest_paid numeric, fees_paid numeric, penalties_paid numeric, status text);
CREATE TEMP TABLE bp_event (pid int, k int, kind text, effective_date date, amount numeric,
  details jsonb);
CREATE TEMP TABLE bp_entry (pid int, e int, source text, entry_type text, effective_date date,
  k int);
CREATE TEMP TABLE bp_posting (pid int, e int, role text, component text, installment_number int,
  debit numeric, credit numeric, effective_date date);
CREATE TEMP TABLE bp_assign (loan_id bigint PRIMARY KEY, pid int, customer_id bigint);
"""


def generate(n: int, product, customers: list[int]) -> None:
    from django.db import connection

    started = time.perf_counter()
    profiles = Profiles(product)
    profiles.build()
    built = time.perf_counter()
    # assign: loan i -> a profile, 10% delinquent in four buckets, half of the
    # loans due today paid today
    by_key = profiles.keys
    assign = []
    for i in range(1, n + 1):
        shape = SHAPES[i % len(SHAPES)]
        age = AGES[(i // len(SHAPES)) % len(AGES)]
        dom = DAYS[(i * 11) % len(DAYS)]
        roll = (i * 2654435761) % 1000
        behaviour = "current"
        if roll < 100 and age >= 1 + roll // 25:
            behaviour = f"late{1 + roll // 25}"
        elif dom == TODAY.day and roll >= 500:
            behaviour = "paid_today"
        assign.append((i, by_key[(shape, age, dom, behaviour)], customers[i % len(customers)]))
    with connection.cursor() as cursor:
        cursor.execute(STAGING)
        _copy(
            cursor,
            "bp_loan",
            "pid, disbursement_date, first_payment_date, principal, "
            "annual_rate, term, disbursed_amount, terms, principal_balance, interest_balance, "
            "fees_balance, penalties_balance, unapplied_balance, overpayment_balance, "
            "days_past_due, delinquent_days, arrears_since, next_due_date, next_due_amount, "
            "accrued_interest",
            profiles.loans,
        )
        _copy(
            cursor,
            "bp_installment",
            "pid, number, due_date, principal_due, interest_due, "
            "fees_due, penalties_due, principal_paid, interest_paid, fees_paid, "
            "penalties_paid, status",
            profiles.installments,
        )
        _copy(cursor, "bp_event", "pid, k, kind, effective_date, amount, details", profiles.events)
        _copy(cursor, "bp_entry", "pid, e, source, entry_type, effective_date, k", profiles.entries)
        _copy(
            cursor,
            "bp_posting",
            "pid, e, role, component, installment_number, debit, credit, effective_date",
            profiles.postings,
        )
        _copy(cursor, "bp_assign", "loan_id, pid, customer_id", assign)
        cursor.execute("ANALYZE bp_loan, bp_installment, bp_event, bp_entry, bp_posting, bp_assign")
        copied = time.perf_counter()
        # bulk load: no per-row triggers (the ledger's balance and append-only
        # triggers, foreign key checks); the rows are consistent by construction
        cursor.execute("SET session_replication_role = replica")
        params = {"product": product.pk, "block": BLOCK, "yesterday": TODAY - timedelta(days=1)}
        cursor.execute(
            """
            INSERT INTO servicing_loan (id, created_at, updated_at, loan_number,
              origination_reference, state, currency, principal, annual_rate, term,
              disbursement_date, first_payment_date, disbursed_amount, terms, prepayment_mode,
              principal_balance, interest_balance, fees_balance, penalties_balance,
              unapplied_balance, overpayment_balance, days_past_due, delinquent_days,
              arrears_since, next_due_date,
              next_due_amount, underwriting_notes, documents, conditions, customer_id,
              product_id, accrued_interest, closed_through)
            SELECT a.loan_id, now(), now(), 'B-' || lpad(a.loan_id::text, 7, '0'),
              'BENCH-' || a.loan_id, 'active', 'USD', p.principal, p.annual_rate, p.term,
              p.disbursement_date, p.first_payment_date, p.disbursed_amount, p.terms,
              'reduce_term', p.principal_balance, p.interest_balance, p.fees_balance,
              p.penalties_balance, p.unapplied_balance, p.overpayment_balance,
              p.days_past_due, p.delinquent_days, p.arrears_since, p.next_due_date,
              p.next_due_amount, '', '[]', '[]',
              a.customer_id, %(product)s, p.accrued_interest, %(yesterday)s
            FROM bp_assign a JOIN bp_loan p ON p.pid = a.pid
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO servicing_installment (id, loan_id, number, due_date, principal_due,
              interest_due, fees_due, penalties_due, principal_paid, interest_paid, fees_paid,
              penalties_paid, status)
            SELECT a.loan_id * %(block)s + i.number, a.loan_id, i.number, i.due_date,
              i.principal_due, i.interest_due, i.fees_due, i.penalties_due, i.principal_paid,
              i.interest_paid, i.fees_paid, i.penalties_paid, i.status
            FROM bp_assign a JOIN bp_installment i ON i.pid = a.pid
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO servicing_loanevent (id, loan_id, kind, effective_date, amount, details,
              created_at)
            SELECT a.loan_id * %(block)s + e.k, a.loan_id, e.kind, e.effective_date, e.amount,
              e.details, now()
            FROM bp_assign a JOIN bp_event e ON e.pid = a.pid
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO servicing_payment (created_at, updated_at, amount, received_on, method,
              channel, reference, excess, status, reversal_reason, request_fingerprint,
              event_id, loan_id)
            SELECT now(), now(), e.amount, e.effective_date, 'ach', 'batch', '', 'prepayment',
              'posted', '', '', a.loan_id * %(block)s + e.k, a.loan_id
            FROM bp_assign a JOIN bp_event e ON e.pid = a.pid WHERE e.kind = 'payment'
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO servicing_journalentry (id, loan_id, entry_type, effective_date,
              booked_at, source, key, memo, event_id)
            SELECT a.loan_id * %(block)s + e.e, a.loan_id, e.entry_type, e.effective_date,
              now(), s.source, s.source || '#1', '',
              CASE WHEN e.k IS NULL THEN NULL ELSE a.loan_id * %(block)s + e.k END
            FROM bp_assign a JOIN bp_entry e ON e.pid = a.pid
            CROSS JOIN LATERAL (SELECT CASE WHEN e.k IS NULL THEN e.source
                                ELSE 'event:' || (a.loan_id * %(block)s + e.k) END AS source) s
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO servicing_posting (entry_id, loan_id, account_id, component,
              installment_number, debit, credit, effective_date)
            SELECT a.loan_id * %(block)s + p.e, a.loan_id, pa.account_id, p.component,
              p.installment_number, p.debit, p.credit, p.effective_date
            FROM bp_assign a JOIN bp_posting p ON p.pid = a.pid
            JOIN servicing_productaccount pa ON pa.product_id = %(product)s AND pa.role = p.role
            """,
            params,
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("loan", "installment", "loanevent", "journalentry"):
            sql = "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {}))"
            cursor.execute(sql.format(f"servicing_{table}"), [f"servicing_{table}"])
        cursor.execute(
            "ANALYZE servicing_loan, servicing_installment, servicing_loanevent, "
            "servicing_payment, servicing_journalentry, servicing_posting"
        )
    done = time.perf_counter()
    sys.stdout.write(
        f"  book: {n:,} loans from {len(profiles.loans):,} profiles "
        f"({built - started:.1f} s to work them out, {copied - built:.1f} s to copy, "
        f"{done - copied:.1f} s to expand)\n"
    )


BASELINE = [
    # the day's accrual postings on every accruing loan
    """
    CREATE TEMP TABLE bl AS
    SELECT l.id AS loan_id, l.product_id, i.number,
           round(i.interest_due * (LEAST(%(d)s + 1, i.due_date) - s.start)
                 / (i.due_date - s.start), 2) - l.accrued_interest AS amount,
           nextval(pg_get_serial_sequence('servicing_journalentry', 'id')) AS entry_id
    FROM servicing_loan l
    CROSS JOIN LATERAL (
        SELECT c.number, c.interest_due, c.due_date,
               COALESCE((SELECT q.due_date FROM servicing_installment q
                         WHERE q.loan_id = l.id AND q.number = c.number - 1),
                        l.disbursement_date) AS start
        FROM servicing_installment c WHERE c.loan_id = l.id AND c.due_date > %(d)s
        ORDER BY c.due_date, c.number LIMIT 1) i
    CROSS JOIN LATERAL (SELECT i.start) s
    WHERE l.state = 'active'
    """,
    """
    INSERT INTO servicing_journalentry (id, loan_id, entry_type, effective_date, booked_at,
      source, key, memo)
    SELECT entry_id, loan_id, 'accrual', %(d)s, now(), 'daily:baseline', 'daily:baseline#1', ''
    FROM bl WHERE amount <> 0
    """,
    """
    INSERT INTO servicing_posting (entry_id, loan_id, account_id, component, installment_number,
      debit, credit, effective_date)
    SELECT b.entry_id, b.loan_id, pa.account_id,
           CASE WHEN pa.role = 'accrued_interest' THEN 'interest' ELSE '' END,
           CASE WHEN pa.role = 'accrued_interest' THEN b.number END,
           CASE WHEN pa.role = 'accrued_interest' THEN b.amount ELSE 0 END,
           CASE WHEN pa.role = 'accrued_interest' THEN 0 ELSE b.amount END, %(d)s
    FROM bl b JOIN servicing_productaccount pa
      ON pa.product_id = b.product_id AND pa.role IN ('accrued_interest', 'interest_income')
    WHERE b.amount > 0
    """,
    "UPDATE servicing_loan l SET accrued_interest = l.accrued_interest + b.amount "
    "FROM bl b WHERE l.id = b.loan_id AND b.amount <> 0",
    # ageing: days past due of the loans owing an instalment due by today
    """
    UPDATE servicing_loan l SET days_past_due = s.days FROM (
      SELECT i.loan_id, %(d)s - MIN(i.due_date) AS days FROM servicing_installment i
      JOIN servicing_loan x ON x.id = i.loan_id AND x.state = 'active' AND x.next_due_date <= %(d)s
      WHERE i.due_date <= %(d)s AND i.status <> 'paid' GROUP BY i.loan_id) s
    WHERE l.id = s.loan_id AND l.days_past_due <> s.days
    """,
    # late-fee selection
    """
    SELECT count(DISTINCT l.id) FROM servicing_loan l
    JOIN servicing_servicingproduct p ON p.id = l.product_id
    JOIN servicing_installment i ON i.loan_id = l.id
    WHERE l.state = 'active' AND l.days_past_due > p.late_fee_grace_days
      AND %(d)s - i.due_date > p.late_fee_grace_days
      AND i.principal_paid + i.interest_paid < i.principal_due + i.interest_due
      AND NOT EXISTS (SELECT 1 FROM servicing_loanevent e WHERE e.loan_id = l.id
        AND e.kind = 'fee' AND e.details->>'fee_kind' = 'late'
        AND e.details->>'installment_number' = i.number::text)
    """,
]


def baseline(day: date) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in BASELINE:
                cursor.execute(sql, {"d": day})
            raise _Rollback
    except _Rollback:
        pass
    return time.perf_counter() - started


class _Rollback(Exception):
    pass


class Workers:
    """N real Celery workers (solo pool) on the bench database and broker."""

    def __init__(self, n: int):
        import os
        import subprocess
        import threading

        from django.conf import settings

        db = settings.DATABASES["default"]
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{BENCH_DB}"
        env = {**os.environ, "DATABASE_URL": url}
        celery = os.path.join(os.path.dirname(sys.executable), "celery")
        self.processes, self.ready = [], []
        for i in range(n):
            process = subprocess.Popen(  # noqa: S603 - our own celery, fixed arguments
                [
                    celery,
                    "-A",
                    "lending",
                    "worker",
                    "--pool",
                    "solo",
                    "-n",
                    f"bench{i}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            event = threading.Event()
            threading.Thread(target=self._drain, args=(process, event), daemon=True).start()
            self.processes.append(process)
            self.ready.append(event)
        for event in self.ready:
            if not event.wait(120):
                raise SystemExit("a Celery worker did not start within 2 minutes")

    @staticmethod
    def _drain(process, event) -> None:
        for line in process.stdout:
            if "ready" in line:
                event.set()
            elif "ERROR" in line or "Traceback" in line:
                sys.stdout.write(f"    worker: {line}")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


def close_day(day: date, label: str, *, workers: int) -> tuple[float, int]:
    """End of day for `day`, in this process (workers=0) or queued to the
    Celery workers (the driver task and its helpers); returns (seconds,
    entries posted)."""
    from core.businessdate import get_business_date
    from core.eod import run_end_of_day
    from core.models import BusinessDate, EodRun, EodStep
    from core.tasks import run_end_of_day_task
    from servicing.models import JournalEntry

    if get_business_date() != day:
        BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
    entries = JournalEntry.objects.count()
    started = time.perf_counter()
    if workers:
        run_end_of_day_task.delay(business_date_iso=day.isoformat())
        while True:
            run = EodRun.objects.filter(business_date=day).first()
            if run and run.finished:
                break
            time.sleep(0.2)
    else:
        run = run_end_of_day(day, advance=False)
    seconds = time.perf_counter() - started
    posted = JournalEntry.objects.count() - entries
    sys.stdout.write(f"  {label}: {run.status} in {seconds:.2f} s, {posted:,} entries posted\n")
    if run.error:
        sys.stdout.write(f"    error: {run.error}\n")
    for step in EodStep.objects.filter(run=run).order_by("position", "name"):
        if not step.chunks_total:
            sys.stdout.write(f"    {step.name:<28}      — (nothing to do)\n")
        elif step.started_at and step.finished_at:
            took = (step.finished_at - step.started_at).total_seconds()
            items = step.items_total or 0
            rate = f"{items / took:,.0f} loans/s" if items and took > 0 else ""
            sys.stdout.write(f"    {step.name:<28} {took:8.2f} s  {items:>10,} loans  {rate}\n")
    return seconds, posted


def run(n: int, *, book_only: bool = False, workers: int = 2) -> None:
    from core.models import BusinessDate, EodRun
    from customers import services as customer_services
    from servicing.services.products import create_product

    BusinessDate.objects.update_or_create(pk=1, defaults={"date": TODAY})
    product = create_product(
        code="bench-eod",
        name="Benchmark instalment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
        late_fee_grace_days=15,
        statement_cycle_day=1,
    )
    customers = [
        customer_services.create_customer(
            data={
                "kind": "person",
                "first_name": "Bench",
                "last_name": f"Borrower {i}",
                "date_of_birth": date(1980, 1, 1),
                "email": f"bench{i}@example.com",
            }
        ).pk
        for i in range(CUSTOMERS)
    ]
    generate(n, product, customers)
    if book_only:
        return
    b = baseline(TODAY)
    sys.stdout.write(f"  baseline (plain set-based SQL, rolled back): {b:.2f} s\n")
    pool = Workers(workers) if workers else None
    how = f"{workers} Celery workers" if workers else "in this process"
    sys.stdout.write(f"  end of day run by {how}\n")
    try:
        total, _ = close_day(TODAY, f"end of day {TODAY}", workers=workers)
        # the same date again, the work redone (not the no-op of a completed run)
        EodRun.objects.filter(business_date__gte=TODAY).delete()
        rerun, posted = close_day(TODAY, "same date again", workers=workers)
        quiet_day = TODAY + timedelta(days=1)
        quiet, _ = close_day(quiet_day, f"{quiet_day}: nothing falls due", workers=workers)
    finally:
        if pool:
            pool.stop()
    sys.stdout.write(
        f"  loans/s: full day {n / total:,.0f}, nothing-due day {n / quiet:,.0f}; "
        f"the rerun posted {posted} entries\n"
    )
    sys.stdout.write(
        f"eod n={n} seconds={total:.2f} baseline_seconds={b:.2f} ratio={total / b:.2f} "
        f"rerun_seconds={rerun:.2f}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench eod")
    parser.add_argument("--n", type=int, default=100_000, help="loans in the book")
    parser.add_argument("--keep", action="store_true", help="keep the database (to look at it)")
    parser.add_argument("--book-only", action="store_true", help="generate the book and stop")
    parser.add_argument(
        "--workers", type=int, default=2, help="Celery workers (0: run in this process)"
    )
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    url = _server_url()
    sys.stdout.write(f"N = {args.n:,} on a throwaway database {BENCH_DB!r}\n")
    try:
        _setup(url, BENCH_DB)
        run(args.n, book_only=args.book_only, workers=args.workers)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
