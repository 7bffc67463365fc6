"""Speed of the loan math engine against PyPI peers, side by side in one run.

Figures (operations per second on one core, each measured for at least
MIN_SECONDS, best of REPEATS) and ratios ours / theirs:

- 360-instalment annuity schedules: core.finance.build_schedule with every
  row object built (`Schedule.rows`, exact Decimal) -- the headline figure,
  as a peer's schedule is its rows -- and, on a secondary line, the columns
  alone (rows are materialised lazily), vs `amortization` (pure Python,
  float), `pyloan` (pure Python, Decimal) and numpy-financial
  pmt/ipmt/ppmt (vectorised C, float, unrounded). Peers get the ratio of
  both core.finance figures.
- APR solves of a 360-payment stream: core.finance.apr (Appendix J,
  Decimal-verified) vs pyxirr.xirr (Rust, float; XIRR's Act/365 compounding,
  the nearest peer) and numpy-financial irr / rate.
- Accrual days: core.finance.accrue one day at a time (what end-of-day does
  per loan) and over 30-day ranges, vs a float loop and a numpy vector.

The figures of a section are measured in turn, REPEATS rounds over all of
them, so a change in the machine's load during the run weighs on ours and
the peers' alike. Peers that are not installed print "not available".
Numbers vary with the machine's load; the ratios, measured in the same run,
are what to compare.
"""

from __future__ import annotations

import os

# One core: keep numpy's BLAS (used by numpy-financial's irr) single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from core.finance import LoanTerms, accrue, apr, build_schedule  # noqa: E402

MIN_SECONDS = 1.0
REPEATS = 2
PRINCIPAL, RATE, TERM = 200_000, "0.065", 360
START = date(2024, 1, 15)


Operation = tuple[Callable[[], object], float]  # (call, units per call)


def op(fn: Callable[[], object], per_call: float = 1.0) -> Operation:
    return fn, per_call


def rate_of(fn: Callable[[], object], per_call: float = 1.0) -> float:
    """Calls per second (x per_call) over one run of >= MIN_SECONDS."""
    calls = 0
    batch = 1
    began = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - began
        if elapsed >= MIN_SECONDS:
            break
        batch = min(batch * 2, 10_000)
    return calls / elapsed * per_call


def report(
    title: str,
    unit: str,
    rows: list[tuple[str, Callable[[], Operation] | None]],
    secondary: str | None = None,
) -> None:
    """Print one figure per row, each the best of REPEATS rounds in which
    every row is measured in turn. Peers (rows not from core.finance) also
    get the speed ratio of the first row to theirs (> 1: core.finance is
    faster) and, given `secondary` (a label), of the second row."""
    out = sys.stdout.write
    out(f"\n{title}\n")
    operations: list[Operation | None] = []
    for _, make in rows:
        try:
            operation = None if make is None else make()
            if operation is not None:
                operation[0]()  # warm up (imports, caches)
        except ImportError:
            operation = None
        operations.append(operation)
    best = [0.0] * len(rows)
    for _ in range(REPEATS):
        for k, operation in enumerate(operations):
            if operation is not None:
                best[k] = max(best[k], rate_of(*operation))
    ours = [
        value
        for (name, _), value in zip(rows, best, strict=True)
        if name.startswith("core.finance")
    ]
    for (name, _), operation, value in zip(rows, operations, best, strict=True):
        if operation is None:
            out(f"  {name:<50} not available\n")
            continue
        ratio = ""
        if not name.startswith("core.finance"):
            ratio = f"   ours/theirs {ours[0] / value:7.2f}x"
            if secondary is not None:
                ratio += f" ({secondary} {ours[1] / value:.2f}x)"
        out(f"  {name:<50} {value:>12,.0f} {unit}/s{ratio}\n")


def schedules() -> None:
    terms = LoanTerms(
        principal=str(PRINCIPAL), annual_rate=RATE, term=TERM, disbursement_date=START
    )

    def amortization_lib() -> Operation:
        from amortization import amortization_schedule

        return op(lambda: list(amortization_schedule(PRINCIPAL, float(RATE), TERM)))

    def pyloan_lib() -> Operation:
        from pyloan import pyloan

        def run():
            pyloan.Loan(
                loan_amount=PRINCIPAL,
                interest_rate=float(RATE) * 100,
                loan_term=TERM // 12,
                start_date=START.isoformat(),
            ).get_payment_schedule()

        return op(run)

    def numpy_financial() -> Operation:
        import numpy as np
        import numpy_financial as npf

        periods = np.arange(1, TERM + 1)
        r = float(RATE) / 12

        def run():
            npf.pmt(r, TERM, -PRINCIPAL)
            npf.ipmt(r, periods, TERM, -PRINCIPAL)
            npf.ppmt(r, periods, TERM, -PRINCIPAL)

        return op(run)

    report(
        f"{TERM}-instalment annuity schedules ({PRINCIPAL:,} at {RATE}, monthly)",
        "schedules",
        [
            (
                f"core.finance.build_schedule + all {TERM} rows",
                lambda: op(lambda: build_schedule(terms).rows),
            ),
            (
                "core.finance.build_schedule, columns only",
                lambda: op(lambda: build_schedule(terms)),
            ),
            ("amortization (pure Python, float)", amortization_lib),
            ("pyloan (pure Python, Decimal)", pyloan_lib),
            ("numpy-financial pmt+ipmt+ppmt (C, float)", numpy_financial),
        ],
        secondary="columns only",
    )


def apr_solves() -> None:
    schedule = build_schedule(
        LoanTerms(principal=str(PRINCIPAL), annual_rate=RATE, term=TERM, disbursement_date=START)
    )
    payments = list(zip(schedule.due_dates, schedule.payments, strict=True))
    advances = [(START, Decimal(PRINCIPAL) - Decimal("2500.00"))]  # 2,500 of prepaid charges
    dates = [START, *schedule.due_dates]
    floats = [-float(advances[0][1]), *(float(p) for p in schedule.payments)]

    def pyxirr_xirr() -> Operation:
        from pyxirr import xirr

        return op(lambda: xirr(dates, floats))

    def numpy_irr() -> Operation:
        import numpy_financial as npf

        return op(lambda: npf.irr(floats))

    def numpy_rate() -> Operation:
        import numpy_financial as npf

        level = float(schedule.installment)
        return op(lambda: npf.rate(TERM, level, floats[0], 0))

    report(
        f"APR solves, {TERM}-payment stream",
        "solves",
        [
            (
                "core.finance.apr (Appendix J, Decimal-refined)",
                lambda: op(lambda: apr(advances, payments)),
            ),
            ("pyxirr.xirr (Rust, float)", pyxirr_xirr),
            ("numpy-financial irr (float, polynomial roots)", numpy_irr),
            ("numpy-financial rate (level stream only)", numpy_rate),
        ],
    )


def accrual() -> None:
    balance, rate = Decimal("123456.78"), Decimal("0.0725")
    day = date(2024, 3, 1)
    next_day = day + timedelta(days=1)
    month_end = day + timedelta(days=30)

    def float_loop() -> Operation:
        b, r = float(balance), float(rate)
        return op(lambda: [round(b * r / 365, 2) for _ in range(30)], per_call=30)

    def numpy_vector() -> Operation:
        import numpy as np

        days = np.ones(30)
        b, r = float(balance), float(rate)
        return op(lambda: np.round(b * r * days / 365, 2).sum(), per_call=30)

    report(
        "Accrual (actual/365)",
        "days",
        [
            (
                "core.finance.accrue, one day per call",
                lambda: op(lambda: accrue(balance, rate, day, next_day, "actual/365")),
            ),
            (
                "core.finance.accrue, 30-day range per call",
                lambda: op(lambda: accrue(balance, rate, day, month_end, "actual/365"), 30),
            ),
            ("float loop, one day at a time", float_loop),
            ("numpy vector of 30 days", numpy_vector),
        ],
    )


def main() -> None:
    sys.stdout.write(
        f"Python {sys.version.split()[0]}, {MIN_SECONDS:.0f} s per figure, best of {REPEATS}"
        " rounds\n"
    )
    schedules()
    apr_solves()
    accrual()
