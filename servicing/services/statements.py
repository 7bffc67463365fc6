"""Billing statements.

A statement covers the cycle ending on `statement_date` (a day of month
equal to the product's `statement_cycle_day`), from the day after the
previous statement (or one cycle back, not before disbursement). Its
figures come from replaying only the events dated up to the statement
date, as of that date:

- past due: what instalments due on or before the statement date still owe;
- current: what the next instalment due after it owes;
- amount due = past due + current - credit balance (not below zero), due on
  that next instalment's due date (or at once if none is left);
- activity: payments, fees, waivers, refunds, reversals and modifications
  dated within the period.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from core import audit
from core.businessdate import get_business_date
from core.documents import render_pdf
from core.exceptions import ValidationFailed
from core.finance.servicing import replay
from core.models import AuditCategory
from core.money import format_money
from servicing.models import Loan, LoanEvent, ServicingProduct, Statement
from servicing.selectors import loan_borrowers
from servicing.services.life import plain
from servicing.services.sync import engine_events, loan_setup, lock_loan

ZERO = Decimal("0.00")
SIGN = {
    LoanEvent.Kind.PAYMENT: -1,
    LoanEvent.Kind.REFUND: 1,
    LoanEvent.Kind.FEE: 1,
    LoanEvent.Kind.WAIVER: -1,
    LoanEvent.Kind.REVERSAL: 1,
    LoanEvent.Kind.RECOVERY: -1,
    LoanEvent.Kind.MODIFICATION: 0,
    LoanEvent.Kind.CHARGE_OFF: 0,
}


def _month_back(d: date) -> date:
    year, month = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    return date(year, month, min(d.day, 28))


def last_cycle_date(*, cycle_day: int, on: date) -> date:
    """The latest date on or before `on` whose day of month is `cycle_day`
    (1-28, so every month has it): the date of the most recent statement
    cycle."""
    if on.day >= cycle_day:
        return on.replace(day=cycle_day)
    return _month_back(on).replace(day=cycle_day)


def next_cycle_date(*, cycle_day: int, after: date) -> date:
    """The earliest date strictly after `after` whose day of month is `cycle_day`."""
    if after.day < cycle_day:
        return after.replace(day=cycle_day)
    year, month = (after.year, after.month + 1) if after.month < 12 else (after.year + 1, 1)
    return date(year, month, cycle_day)


def proposed_statement_date(loan: Loan, today: date) -> tuple[date, bool]:
    """The statement date a person would mean (pure: reads `loan.product` and
    `loan.disbursement_date` only): the last cycle date on or before `today`,
    and True; or, while the loan has not lived through a cycle yet, its first
    cycle date after disbursement, and False (it cannot be generated before
    then)."""
    cycle_day = loan.product.statement_cycle_day
    last = last_cycle_date(cycle_day=cycle_day, on=today)
    if last > loan.disbursement_date:
        return last, True
    return next_cycle_date(cycle_day=cycle_day, after=loan.disbursement_date), False


def late_fee_warning(product: ServicingProduct) -> str:
    grace = product.late_fee_grace_days
    if product.late_fee_type == ServicingProduct.LateFeeType.FLAT and product.late_fee_amount > 0:
        fee = f"a late fee of ${format_money(product.late_fee_amount, product.currency)}"
    elif (
        product.late_fee_type == ServicingProduct.LateFeeType.PERCENT
        and product.late_fee_percent > 0
    ):
        pct = (product.late_fee_percent * 100).normalize()
        fee = f"a late fee of {pct:f}% of the unpaid instalment"
        if product.late_fee_cap is not None:
            fee += f" (at most ${format_money(product.late_fee_cap, product.currency)})"
    else:
        return ""
    return (
        f"If we have not received your payment {grace} days after the due date, "
        f"{fee} will be charged."
    )


def _activity(loan: Loan, start: date, end: date) -> list[dict]:
    rows = []
    events = LoanEvent.objects.filter(loan=loan, effective_date__range=(start, end)).order_by(
        "effective_date", "id"
    )
    for e in events:
        label = e.get_kind_display()
        if e.kind == LoanEvent.Kind.FEE:
            label = {"late": "Late fee", "nsf": "Returned payment fee"}.get(
                e.details.get("fee_kind"), "Fee"
            )
        elif e.kind == LoanEvent.Kind.REVERSAL:
            label = "Payment reversed"
        rows.append(
            {
                "date": e.effective_date,
                "description": label,
                "amount": e.amount * SIGN.get(e.kind, 1),
                "kind": e.kind,
            }
        )
    return rows


def statement_figures(loan: Loan, statement_date: date, period_start: date) -> dict:
    """The statement's figures (pure read)."""
    events = [e for e in engine_events(loan) if e.effective_date <= statement_date]
    state = replay(loan_setup(loan), events, as_of=statement_date)
    past = [i for i in state.installments if i.due_date <= statement_date and i.outstanding > 0]
    upcoming = [i for i in state.installments if i.due_date > statement_date and i.outstanding > 0]
    current = upcoming[0] if upcoming else None
    past_due = sum((i.outstanding for i in past), ZERO)
    current_due = current.outstanding if current else ZERO
    credit = state.credit_balance
    amount_due = max(past_due + current_due - credit, ZERO)

    def part(name):
        return sum(
            (
                getattr(i, f"{name}_due") - getattr(i, f"{name}_paid")
                for i in [*past, *([current] if current else [])]
            ),
            ZERO,
        )

    return {
        "amount_due": amount_due,
        "due_date": current.due_date if current else (statement_date if amount_due else None),
        "past_due": past_due,
        "current_due": current_due,
        "credit": credit,
        "breakdown": {
            "principal": part("principal"),
            "interest": part("interest"),
            "fees": part("fees"),
            "penalties": part("penalties"),
        },
        "principal_balance": state.principal_outstanding,
        "days_past_due": state.days_past_due,
        "activity": _activity(loan, period_start, statement_date),
        "late_fee_warning": late_fee_warning(loan.product),
    }


def generate_statement(*, loan: Loan, statement_date: date, user=None) -> Statement:
    """The statement of the cycle ending `statement_date`, made once (a repeat
    returns the stored one)."""
    existing = Statement.objects.filter(loan=loan, statement_date=statement_date).first()
    if existing is not None:
        return existing
    product = loan.product
    today = get_business_date()
    errors = []
    if statement_date.day != product.statement_cycle_day:
        errors.append(f"Statements are dated on day {product.statement_cycle_day} of the month.")
    if statement_date > today:
        errors.append(f"A statement cannot be dated after today's business date {today}.")
    if statement_date <= loan.disbursement_date:
        errors.append(f"The loan was disbursed on {loan.disbursement_date}.")
    if errors:
        raise ValidationFailed(
            "The statement date is not valid.", fields={"statement_date": errors}
        )
    try:
        with transaction.atomic():
            loan = lock_loan(loan.pk)
            previous = (
                Statement.objects.filter(loan=loan, statement_date__lt=statement_date)
                .order_by("-statement_date")
                .first()
            )
            start = (
                previous.statement_date + timedelta(days=1)
                if previous
                else max(loan.disbursement_date, _month_back(statement_date) + timedelta(days=1))
            )
            figures = statement_figures(loan, statement_date, start)
            document = render_pdf(
                "documents/statement.html",
                {
                    "loan": loan,
                    "customer": loan.customer,
                    "borrowers": loan_borrowers(loan),
                    "f": figures,
                    "period_start": start,
                    "statement_date": statement_date,
                },
            )
            statement = Statement.objects.create(
                loan=loan,
                statement_date=statement_date,
                period_start=start,
                period_end=statement_date,
                due_date=figures["due_date"],
                amount_due=figures["amount_due"],
                past_due_amount=figures["past_due"],
                amounts=plain(figures),
                pdf=document.pdf,
                sha256=document.sha256,
            )
            audit.record(
                action="statement.generated",
                category=AuditCategory.CREATE,
                obj=loan,
                metadata={
                    "statement_id": statement.pk,
                    "statement_date": statement_date.isoformat(),
                    "sha256": statement.sha256,
                },
                actor=user if getattr(user, "pk", None) else None,
            )
    except IntegrityError:
        existing = Statement.objects.filter(loan=loan, statement_date=statement_date).first()
        if existing is None:
            raise
        return existing
    return statement


def list_statements(loan: Loan):
    return Statement.objects.filter(loan=loan).defer("pdf").order_by("-statement_date")
