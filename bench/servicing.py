"""Throughput of the servicing service layer on PostgreSQL.

`python -m bench servicing [--n 10000]` (run by `make bench` with N=10,000)
creates a throwaway database "bench_lending" on the DATABASE_URL server,
migrates it, and measures, through the real services:

- loans boarded per second: one at a time through servicing.boarding.board_loan
  (origination's path) on a sample of 500, and the rest of N in batches of
  1,000 through board_loans (migrations, bulk funding);
- loans boarded per second through the boarding CSV import
  (servicing.services.imports.import_boarding_csv) with a cut-over history
  (the first instalment paid), on a separate sample of min(N, 5,000) loans
  of their own product (the other measurements never see them);
- payments posted per second through post_payment (the API's and staff's
  path), one at a time on the same sample (the other loans' first payments
  go through the batch path);
- payments posted per second through the batch CSV import
  (servicing.services.imports.import_payments_csv): one file of N rows with
  each loan's second instalment in one process, and one with each loan's
  third instalment (paid early) in two worker processes;
- loans verified per second by `manage.py verify_ledger`.

The database is dropped at the end (also on failure); the dev and test
databases are never touched. Figures are printed, never asserted; they vary
with the machine. `--n 100000` takes about a quarter of an hour.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

BENCH_DB = "bench_lending"
SAMPLE = 500  # loans boarded and payments posted one at a time
BOARD_BATCH = 1000
API_SAMPLE = 500  # payments posted through the HTTP API
MIGRATION_SAMPLE = 5000  # loans boarded through the boarding CSV import


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "bench.servicing needs DATABASE_URL pointing at a PostgreSQL server "
            "(e.g. postgres://postgres@127.0.0.1:5432/lending); `make bench` sets it."
        )
    return url


def _admin(url: str, sql: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    with psycopg.connect(
        dbname="postgres",
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def _setup(url: str, db: str = BENCH_DB) -> None:
    """A new database `db` on the server of `url`, Django set up on it, migrated."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")
    _admin(url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{db}"')
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = db
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rate(label: str, count: int, seconds: float) -> None:
    rate = count / seconds if seconds else float("inf")
    sys.stdout.write(f"  {label:<42} {count:>8,} in {seconds:8.2f} s  {rate:>10,.1f}/s\n")


def run(n: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from core.businessdate import get_business_date
    from customers import services as customer_services
    from servicing.boarding import BoardingTerms, board_loan, board_loans
    from servicing.models import Installment, Loan
    from servicing.services.imports import import_payments_csv
    from servicing.services.payments import post_payment
    from servicing.services.products import create_product

    today = get_business_date()
    product = create_product(
        code="bench",
        name="Benchmark personal loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
        nsf_fee_amount=Decimal("30.00"),
    )
    customer = customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Bench",
            "last_name": "Mark",
            "date_of_birth": date(1980, 1, 1),
            "email": "bench@example.com",
        }
    )
    disbursed = today - timedelta(days=75)  # two instalments due by today

    def loan_terms(i: int) -> BoardingTerms:
        return BoardingTerms(
            origination_reference=f"BENCH-{i}",
            customer_id=customer.pk,
            product_id=product.pk,
            principal=Decimal(5000 + (i % 50) * 100),
            annual_rate=Decimal("0.12"),
            term=24,
            disbursement_date=disbursed,
        )

    # One at a time (origination's path) on a sample, then the rest in
    # batches of BOARD_BATCH through board_loans (migrations, bulk funding).
    sample = min(n, SAMPLE)
    start = time.perf_counter()
    for i in range(sample):
        board_loan(terms=loan_terms(i))
    _rate("loans boarded (board_loan, one by one)", sample, time.perf_counter() - start)
    start = time.perf_counter()
    for first in range(sample, n, BOARD_BATCH):
        with transaction.atomic():
            board_loans(terms=[loan_terms(i) for i in range(first, min(n, first + BOARD_BATCH))])
    if n > sample:
        _rate(
            "loans boarded (board_loans, batches of 1,000)", n - sample, time.perf_counter() - start
        )
    migration_import(n, customer, disbursed)

    loans = list(Loan.objects.filter(product=product).order_by("pk"))
    firsts, seconds, thirds = {}, {}, {}
    for inst in Installment.objects.filter(loan__product=product, number__lte=3):
        (firsts, seconds, thirds)[inst.number - 1][inst.loan_id] = inst

    # The first instalment: post_payment (the API's and staff's path) on a
    # sample, the rest through the batch path a lockbox file takes.
    start = time.perf_counter()
    for loan in loans[:sample]:
        inst = firsts[loan.pk]
        post_payment(
            loan=loan,
            amount=inst.principal_due + inst.interest_due,
            received_on=inst.due_date,
            method="ach",
            channel="api",
        )
    _rate("payments posted (post_payment, one by one)", sample, time.perf_counter() - start)
    if n > sample:
        rest = {loan.pk: firsts[loan.pk] for loan in loans[sample:]}
        lines = ["loan_number,amount,received_on,method,reference"] + [
            f"{loan.loan_number},{rest[loan.pk].principal_due + rest[loan.pk].interest_due},"
            f"{rest[loan.pk].due_date},ach,A{rest[loan.pk].pk}"
            for loan in loans[sample:]
        ]
        import_payments_csv(text="\n".join(lines) + "\n", filename="first.csv")

    def batch_file(installments, received_on=None) -> str:
        lines = ["loan_number,amount,received_on,method,reference"]
        for loan in loans:
            inst = installments[loan.pk]
            amount = inst.principal_due + inst.interest_due
            when = received_on or inst.due_date
            lines.append(f"{loan.loan_number},{amount},{when},ach,B{inst.pk}")
        return "\n".join(lines) + "\n"

    # The second instalment by one process, then the third (paid early, on
    # the business date) by two worker processes, as `manage.py
    # import_payments --workers 2` runs a lockbox file.
    for label, text, workers in (
        ("import_payments_csv, 1 process", batch_file(seconds), 1),
        ("import_payments_csv, 2 processes", batch_file(thirds, today), 2),
    ):
        start = time.perf_counter()
        result = import_payments_csv(text=text, filename="bench.csv", workers=workers)
        elapsed = time.perf_counter() - start
        accepted = len(result.accepted)
        _rate(f"payments posted ({label})", accepted, elapsed)
        if accepted != n:
            sys.stdout.write(
                f"  (batch import accepted {accepted} of {n} rows; "
                f"{len(result.rejected)} rejected, {len(result.duplicates)} duplicates: "
                f"{(result.rejected or result.duplicates)[:1]})\n"
            )
        target = "met" if elapsed and accepted / elapsed >= 1000 else "NOT met"
        sys.stdout.write(f"  batch import target of 1,000 payments/s ({label}): {target}\n")

    api_latency(loans[sample : sample + min(n - sample, API_SAMPLE)] or loans[:API_SAMPLE])

    out = StringIO()
    start = time.perf_counter()
    call_command("verify_ledger", stdout=out)
    # every loan is verified, the migration sample's too
    _rate("loans verified (verify_ledger)", Loan.objects.count(), time.perf_counter() - start)
    sys.stdout.write(f"  verify_ledger: {out.getvalue().strip().splitlines()[-1]}\n")


def migration_import(n: int, customer, disbursed: date) -> None:
    """Loans boarded per second through import_boarding_csv: min(n, 5,000)
    loans of a product of their own, each with its first instalment paid
    before the cut-over (one cut-over payment per loan)."""
    from core.finance import build_schedule
    from servicing.boarding import BoardingTerms, engine_terms
    from servicing.services.imports import import_boarding_csv
    from servicing.services.products import create_product

    product = create_product(
        code="bench-migrated",
        name="Benchmark migrated loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
        nsf_fee_amount=Decimal("30.00"),
    )
    count = min(n, MIGRATION_SAMPLE)
    lines = [
        "origination_reference,customer_number,product_code,principal,annual_rate,term,"
        "disbursement_date,first_payment_date,cutover_date,principal_paid,interest_paid"
    ]
    schedules = {}  # one schedule per distinct principal
    for i in range(count):
        principal = Decimal(5000 + (i % 50) * 100)
        if principal not in schedules:
            terms = BoardingTerms(
                origination_reference="bench",
                customer_id=customer.pk,
                product_id=product.pk,
                principal=principal,
                annual_rate=Decimal("0.12"),
                term=24,
                disbursement_date=disbursed,
            )
            schedules[principal] = build_schedule(engine_terms(terms, product)).rows[0]
        first = schedules[principal]
        lines.append(
            f"MIGRATED-{i},{customer.customer_number},{product.code},{principal},12,24,"
            f"{disbursed},,{first.due_date},{first.principal},{first.interest}"
        )
    start = time.perf_counter()
    result = import_boarding_csv(text="\n".join(lines) + "\n", filename="migration.csv")
    elapsed = time.perf_counter() - start
    accepted = len(result.accepted)
    _rate("loans boarded (import_boarding_csv)", accepted, elapsed)
    if accepted != count:
        sys.stdout.write(
            f"  (boarding import accepted {accepted} of {count} rows; "
            f"{len(result.rejected)} rejected, {len(result.duplicates)} duplicates: "
            f"{(result.rejected or result.duplicates)[:1]})\n"
        )


def api_latency(loans) -> None:
    """Median and 95th percentile of POST /api/v1/loans/{id}/payments/ against
    gunicorn with two workers (DEBUG off), one request at a time over one
    keep-alive connection, each with a fresh Idempotency-Key."""
    import http.client
    import json
    import statistics
    import subprocess
    import uuid

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from users.services.api_keys import create_api_key

    admin = get_user_model().objects.create_user(
        username="bench-admin", password=uuid.uuid4().hex, is_staff=True, is_superuser=True
    )
    _, key = create_api_key(name="bench", scopes=["loans:read", "loans:write"], created_by=admin)
    port = 8799
    env = {
        **os.environ,
        "DATABASE_URL": _bench_url(),
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "FIELD_HASH_KEY": settings.FIELD_HASH_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "gunicorn", "lending.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        conn = None
        for _ in range(100):  # wait for the workers
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        timings = []
        for loan in loans:
            body = json.dumps({"amount": "10.00", "method": "ach"})
            headers = {
                "Authorization": f"Api-Key {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            }
            start = time.perf_counter()
            conn.request("POST", f"/api/v1/loans/{loan.pk}/payments/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            timings.append(time.perf_counter() - start)
            if response.status != 201:
                raise SystemExit(f"payment API answered {response.status}")
        timings.sort()
        median = statistics.median(timings) * 1000
        p95 = timings[int(len(timings) * 0.95) - 1] * 1000
        sys.stdout.write(
            f"  API payment post, gunicorn 2 workers: {len(timings)} requests, "
            f"median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(target median < 50 ms: {'met' if median < 50 else 'NOT met'})\n"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def _bench_url() -> str:
    import dj_database_url

    cfg = dj_database_url.parse(_server_url())
    auth = cfg.get("USER") or ""
    if cfg.get("PASSWORD"):
        auth += f":{cfg['PASSWORD']}"
    host = f"{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{BENCH_DB}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench servicing")
    parser.add_argument("--n", type=int, default=10_000, help="loans and payments (default 10,000)")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    url = _server_url()
    sys.stdout.write(f"N = {args.n:,} on a throwaway database {BENCH_DB!r}\n")
    try:
        _setup(url)
        run(args.n)
    finally:
        from django.db import connections

        connections.close_all()
        _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
