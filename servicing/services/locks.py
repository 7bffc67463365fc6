"""The row locks every write to a loan takes, and the catch-up a write does
first.

`lock_loan` and `lock_loans` lock the loan rows FOR UPDATE (in id order, so
concurrent batches and single writes cannot deadlock; sync.lock_rows) and
then catch up any of them that end of day left behind: an active loan
closed through a date before yesterday's business date (it missed days,
say because the run of those days skipped it after an error) is closed for
each missed day in order, from the oldest: instalments falling due and
ageing, then the day's accrual (servicing.services.daily), as end of day
would have done. So a payment, a fee or a modification never lands on a
loan that skipped a day. Late fees of missed days are charged by the next
end of day (its late-fee step finds every instalment past its grace that
has none).

Inside end of day (`closing_day()`) nothing is caught up: the run closes
the loans itself, one date at a time.
"""

import contextlib
from contextvars import ContextVar
from datetime import date, timedelta

from core.businessdate import get_business_date
from servicing.models import Loan, LoanState
from servicing.services import daily
from servicing.services.sync import lock_rows

_closing: ContextVar[bool] = ContextVar("servicing_closing_day", default=False)


@contextlib.contextmanager
def closing_day():
    """End of day is closing loans in this block: locks do not catch up."""
    token = _closing.set(True)
    try:
        yield
    finally:
        _closing.reset(token)


def lock_loan(loan_id: int) -> Loan:
    """The loan row (with its product), locked FOR UPDATE until the
    transaction ends, caught up first if end of day left it behind."""
    return lock_loans([loan_id])[loan_id]


def lock_loans(loan_ids) -> dict[int, Loan]:
    """The loans locked FOR UPDATE in id order (with their products), each
    caught up first if end of day left it behind."""
    loans = lock_rows(loan_ids)
    behind = catch_up(list(loans.values()))
    if behind:
        loans.update(lock_rows(behind))  # their figures as the catch-up left them
    return loans


def catch_up(loans: list[Loan], *, through: date | None = None) -> list[int]:
    """Close each missed day, in order, for those of `loans` (locked by the
    caller) closed through a date before `through` (default: yesterday's
    business date). Returns the ids of the loans caught up."""
    if _closing.get():
        return []
    closed = [
        loan for loan in loans if loan.state == LoanState.ACTIVE and loan.closed_through is not None
    ]
    if not closed:  # (a loan end of day never closed costs no query)
        return []
    through = through or get_business_date() - timedelta(days=1)
    behind = [loan for loan in closed if loan.closed_through < through]
    if not behind:
        return []
    with closing_day():
        day = min(loan.closed_through for loan in behind) + timedelta(days=1)
        while day <= through:
            ids = [loan.pk for loan in behind if loan.closed_through < day]
            daily.fall_due(ids, day)
            daily.accrue_daily(ids, day)
            day += timedelta(days=1)
    return [loan.pk for loan in behind]
