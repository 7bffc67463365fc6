"""Build the `ServicingState` from a finished replay (internal; the rules
are in the `core.finance.servicing` docstring)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from core.finance.accrual import AccrualPosition, payoff
from core.finance.schedule import ScheduleRow
from core.finance.servicing._book import FEES, PENALTIES, Book, _Fee
from core.finance.servicing.results import (
    EventEffect,
    FeeState,
    InstallmentState,
    ServicingState,
)
from core.money import ZERO

_new = object.__new__
_set = object.__setattr__


def snapshot(
    book: Book,
    as_of: date,
    effects: dict[int, EventEffect],
) -> ServicingState:
    """The state of `book` (a finished replay) as of `as_of`."""
    arrears = book.periodic_arrears()
    dpd = (as_of - arrears[0].due_date).days if arrears else 0
    n, reached = len(book.due), book.due_ptr
    due, prin, intr, ppaid, ipaid = book.due, book.prin, book.intr, book.ppaid, book.ipaid
    fee_cols = {row: _fee_columns(recs) for row, recs in book.recs.items()}
    none = (ZERO, ZERO, ZERO, ZERO)
    installments = []
    oldest = None
    for i in range(n):
        fees_due, fees_paid, pen_due, pen_paid = fee_cols.get(i, none)
        owed = prin[i] + intr[i] + fees_due + pen_due
        paid = ppaid[i] + ipaid[i] + fees_paid + pen_paid
        day = due[i]
        if paid == owed:
            status = "paid"
        elif day > as_of:
            status = "not_due"
        else:
            if oldest is None:
                oldest = day
            status = "partially_paid" if paid else ("due" if day == as_of else "past_due")
        row = _new(InstallmentState)
        _set(row, "__dict__", {
            "number": i + 1, "due_date": day, "principal_due": prin[i],
            "interest_due": intr[i], "fees_due": fees_due, "penalties_due": pen_due,
            "principal_paid": ppaid[i], "interest_paid": ipaid[i], "fees_paid": fees_paid,
            "penalties_paid": pen_paid, "status": status,
        })  # fmt: skip
        installments.append(row)
    principal_due = sum(prin[:reached], ZERO) - sum(ppaid[:reached], ZERO)
    principal_not_due = sum(prin[reached:], ZERO) - sum(ppaid[reached:], ZERO)
    interest_due = sum(intr[:reached], ZERO) - sum(ipaid[:reached], ZERO)
    fees_unpaid = sum((r.outstanding for r in book.fees.values() if not r.penalty), ZERO)
    pens_unpaid = sum((r.outstanding for r in book.fees.values() if r.penalty), ZERO)
    paid_off = all(row.status == "paid" for row in installments[book.first_open :])
    quote = None
    if not paid_off:
        _, principal, earned, start = book._future()
        quote = payoff(
            AccrualPosition(
                principal=principal,
                annual_rate=book.rate,
                interest_from=as_of if start is None else start,
                day_count=book.day_count,
                interest_outstanding=interest_due + earned,
                fees_outstanding=fees_unpaid,
                penalties_outstanding=pens_unpaid,
                unapplied_credit=book.unapplied + book.overpaid,
            ),
            as_of,
        )
        quote = replace(
            quote,
            principal=quote.principal + principal_due,
            total=quote.total + principal_due,
        )
    return ServicingState(
        as_of=as_of,
        effects=effects,
        credit_applications=tuple(book.credit_apps),
        installments=tuple(installments),
        fees={event_id: _fee_state(rec) for event_id, rec in book.fees.items()},
        schedule_rows=_rows(book),
        principal_outstanding=principal_due + principal_not_due,
        principal_due_unpaid=principal_due,
        principal_not_due=principal_not_due,
        interest_due_unpaid=interest_due,
        fees_due_unpaid=fees_unpaid,
        penalties_due_unpaid=pens_unpaid,
        unapplied_credit=book.unapplied,
        overpayment=book.overpaid,
        days_past_due=dpd,
        delinquent_days=max(0, dpd - book.setup.arrears_grace_days),
        periodic_arrears=arrears,
        late_payments=tuple(book.late),
        oldest_unpaid_due_date=oldest,
        paid_off=paid_off,
        annual_rate=book.rate,
        installment=book.installment,
        capitalised_interest=book.capitalised,
        payoff=quote,
    )


def _rows(book: Book) -> tuple[ScheduleRow, ...]:
    """The current schedule as `ScheduleRow`s (through its public constructor:
    the schedule module is free to change how a row is stored)."""
    columns = zip(book.due, book.start, book.days, book.opening, book.prin, book.intr,
                  book.closing, book.chg, strict=True)  # fmt: skip
    return tuple(
        ScheduleRow(
            number=i + 1,
            due_date=day,
            period_start=start,
            days=days,
            opening_balance=opening,
            principal=part,
            interest=interest,
            fees=ZERO,
            payment=part + interest,
            closing_balance=closing,
            interest_charged=charged,
        )
        for i, (day, start, days, opening, part, interest, closing, charged) in enumerate(columns)
    )


def _fee_columns(recs: list[_Fee]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    fees_due = fees_paid = pen_due = pen_paid = ZERO
    for rec in recs:
        if rec.penalty:
            pen_due += rec.amount - rec.waived
            pen_paid += rec.paid
        else:
            fees_due += rec.amount - rec.waived
            fees_paid += rec.paid
    return fees_due, fees_paid, pen_due, pen_paid


def _fee_state(rec: _Fee) -> FeeState:
    return FeeState(
        event_id=rec.event_id,
        kind=rec.kind,
        component=PENALTIES if rec.penalty else FEES,
        installment_number=rec.row + 1,
        assessed_on=rec.assessed_on,
        amount=rec.amount,
        waived=rec.waived,
        paid=rec.paid,
    )
