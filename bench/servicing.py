"""Throughput of the servicing service layer on PostgreSQL.

`python -m bench servicing [--n 10000]` (run by `make bench` with N=10,000)
creates a throwaway database "bench_lending" on the DATABASE_URL server,
migrates it, and measures, through the real services:

- loans boarded per second (servicing.boarding.board_loan, one at a time);
- payments posted per second through the service layer (post_payment, one
  payment on each loan: its first instalment);
- payments posted per second through the batch CSV import
  (servicing.services.imports.import_payments_csv, one file of N rows: each
  loan's second instalment);
- loans verified per second by `manage.py verify_ledger`.

The database is dropped at the end (also on failure); the dev and test
databases are never touched. Figures are printed, never asserted; they vary
with the machine. --n 100000 works but takes long (boarding and posting are
each several minutes at these rates, plus the migrations).
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


def _setup(url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")
    _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{BENCH_DB}"')
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = BENCH_DB
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rate(label: str, count: int, seconds: float) -> None:
    rate = count / seconds if seconds else float("inf")
    sys.stdout.write(f"  {label:<42} {count:>8,} in {seconds:8.2f} s  {rate:>10,.1f}/s\n")


def run(n: int) -> None:
    from django.core.management import call_command

    from core.businessdate import get_business_date
    from customers import services as customer_services
    from servicing.boarding import BoardingTerms, board_loan
    from servicing.models import Loan
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

    start = time.perf_counter()
    for i in range(n):
        board_loan(
            terms=BoardingTerms(
                origination_reference=f"BENCH-{i}",
                customer_id=customer.pk,
                product_id=product.pk,
                principal=Decimal(5000 + (i % 50) * 100),
                annual_rate=Decimal("0.12"),
                term=24,
                disbursement_date=disbursed,
            )
        )
    _rate("loans boarded (board_loan)", n, time.perf_counter() - start)

    loans = list(Loan.objects.filter(product=product).order_by("pk"))
    firsts, seconds, thirds = {}, {}, {}
    for loan in loans:
        rows = list(loan.installments.order_by("number")[:3])
        firsts[loan.pk], seconds[loan.pk], thirds[loan.pk] = rows

    start = time.perf_counter()
    for loan in loans:
        inst = firsts[loan.pk]
        post_payment(
            loan=loan,
            amount=inst.principal_due + inst.interest_due,
            received_on=inst.due_date,
            method="ach",
            channel="api",
        )
    _rate("payments posted (post_payment)", n, time.perf_counter() - start)

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

    out = StringIO()
    start = time.perf_counter()
    call_command("verify_ledger", stdout=out)
    _rate("loans verified (verify_ledger)", n, time.perf_counter() - start)
    sys.stdout.write(f"  verify_ledger: {out.getvalue().strip().splitlines()[-1]}\n")


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
