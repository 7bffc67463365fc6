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

`generate_statement` makes one statement and renders its PDF at once (the
staff page, end of day). `generate_statements` makes many in one go
(the demo book's history) with a fixed number of queries and no PDF
rendering (~0.2 s each): `statement_pdf` renders such a statement from its
stored figures on first download, stores the PDF and records its SHA-256.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from core import audit
from core.audit import actor_of
from core.bulk import insert_all
from core.businessdate import get_business_date
from core.documents import render_pdf
from core.exceptions import ValidationFailed
from core.finance.servicing import replay
from core.models import AuditCategory
from core.money import ZERO, format_money
from servicing.models import Loan, LoanEvent, ServicingProduct, Statement
from servicing.selectors.loans import loan_borrowers
from servicing.services.life import plain
from servicing.services.locks import lock_loan, lock_loans
from servicing.services.sync import engine_events, loan_setup, read_events

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
    cycle_day = loan.statement_cycle_day
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
    # The rule in the words regulations and disclosures use (see services.fees).
    day = "day" if grace == 1 else "days"
    return f"If your payment is more than {grace} {day} late, {fee} will be charged."


def _activity(loan: Loan, start: date, end: date, events=None) -> list[dict]:
    """The period's activity rows; `events` (the loan's LoanEvents in date
    order) saves the query when the caller has them."""
    rows = []
    if events is None:
        events = LoanEvent.objects.filter(loan=loan, effective_date__range=(start, end)).order_by(
            "effective_date", "id"
        )
    else:
        events = [e for e in events if start <= e.effective_date <= end]
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


def statement_figures(
    loan: Loan,
    statement_date: date,
    period_start: date,
    *,
    engine: list | None = None,
    recorded: list | None = None,
) -> dict:
    """The statement's figures (pure read). `engine` (the loan's live engine
    events) and `recorded` (its LoanEvents in date order) save the queries
    when the caller has them."""
    if engine is None:
        engine = engine_events(loan)
    events = [e for e in engine if e.effective_date <= statement_date]
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
        "activity": _activity(loan, period_start, statement_date, recorded),
        "late_fee_warning": late_fee_warning(loan.product),
    }


def _check_date(loan: Loan, statement_date: date, today: date) -> None:
    """Refuse a statement date that is off the product's cycle, after today
    or not after the disbursement."""
    errors = []
    if statement_date.day != loan.statement_cycle_day:
        errors.append(f"Statements are dated on day {loan.statement_cycle_day} of the month.")
    if statement_date > today:
        errors.append(f"A statement cannot be dated after today's business date {today}.")
    if statement_date <= loan.disbursement_date:
        errors.append(f"The loan was disbursed on {loan.disbursement_date}.")
    if errors:
        raise ValidationFailed(
            "The statement date is not valid.", fields={"statement_date": errors}
        )


def _render(loan: Loan, figures: dict, period_start: date, statement_date: date):
    return render_pdf(
        "documents/statement.html",
        {
            "loan": loan,
            "customer": loan.customer,
            "borrowers": loan_borrowers(loan),
            "f": figures,
            "period_start": period_start,
            "statement_date": statement_date,
        },
    )


def generate_statement(*, loan: Loan, statement_date: date, user=None) -> Statement:
    """The statement of the cycle ending `statement_date`, made once (a repeat
    returns the stored one)."""
    existing = Statement.objects.filter(loan=loan, statement_date=statement_date).first()
    if existing is not None:
        return existing
    _check_date(loan, statement_date, get_business_date())
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
            document = _render(loan, figures, start, statement_date)
            statement = Statement.objects.create(
                **_statement_fields(loan, statement_date, start, figures),
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
                actor=actor_of(user),
            )
    except IntegrityError:
        existing = Statement.objects.filter(loan=loan, statement_date=statement_date).first()
        if existing is None:
            raise
        return existing
    return statement


def generate_statements(*, dates: dict[int, list[date]], user=None) -> int:
    """The statements of many loans and cycle dates ({loan id: [dates]}),
    set-based, in the caller's transaction: the same rows and figures as
    `generate_statement` for each date in order, without rendering their
    PDFs (see `statement_pdf`). Dates that already have a statement are
    skipped; an invalid date raises ValidationFailed and writes nothing.
    Returns how many statements were made."""
    today = get_business_date()
    with transaction.atomic():
        loans = lock_loans(loan_id for loan_id, wanted in dates.items() if wanted)
        made: dict[int, set[date]] = {}
        for loan_id, statement_date in Statement.objects.filter(
            loan_id__in=list(loans)
        ).values_list("loan_id", "statement_date"):
            made.setdefault(loan_id, set()).add(statement_date)
        todo: dict[int, list[date]] = {}
        for loan_id, loan in loans.items():
            wanted = sorted(set(dates[loan_id]) - made.get(loan_id, set()))
            for statement_date in wanted:
                _check_date(loan, statement_date, today)
            if wanted:
                todo[loan_id] = wanted
        if not todo:
            return 0
        engine = read_events(loan_id__in=list(todo)).live
        recorded: dict[int, list] = {loan_id: [] for loan_id in todo}
        for event in LoanEvent.objects.filter(loan_id__in=list(todo)).order_by(
            "effective_date", "id"
        ):
            recorded[event.loan_id].append(event)
        rows = []
        for loan_id, wanted in todo.items():
            loan = loans[loan_id]
            earlier = [d for d in made.get(loan_id, ()) if d < wanted[0]]
            previous = max(earlier, default=None)
            for statement_date in wanted:
                start = (
                    previous + timedelta(days=1)
                    if previous
                    else max(
                        loan.disbursement_date, _month_back(statement_date) + timedelta(days=1)
                    )
                )
                figures = statement_figures(
                    loan,
                    statement_date,
                    start,
                    engine=engine[loan_id],
                    recorded=recorded[loan_id],
                )
                rows.append(
                    Statement(
                        **_statement_fields(loan, statement_date, start, figures),
                        pdf=b"",
                        sha256="",  # set when the PDF is rendered (statement_pdf)
                    )
                )
                previous = statement_date
        insert_all(rows)
        actor = actor_of(user)
        audit.record_many(
            [
                audit.build(
                    action="statement.generated",
                    category=AuditCategory.CREATE,
                    obj=statement.loan,
                    metadata={
                        "statement_id": statement.pk,
                        "statement_date": statement.statement_date.isoformat(),
                        "pdf": "rendered on first download",
                        "batch": True,
                    },
                    actor=actor,
                )
                for statement in rows
            ]
        )
    return len(rows)


def _stored_figures(amounts: dict) -> dict:
    """A statement's stored figures (`amounts`, strings) as the values the
    PDF template was given when it was generated."""

    def day(value):
        return date.fromisoformat(value) if value else None

    figures = dict(amounts)
    for name in ("amount_due", "past_due", "current_due", "credit", "principal_balance"):
        figures[name] = Decimal(amounts[name])
    figures["due_date"] = day(amounts.get("due_date"))
    figures["breakdown"] = {k: Decimal(v) for k, v in amounts["breakdown"].items()}
    figures["activity"] = [
        {**row, "date": day(row["date"]), "amount": Decimal(row["amount"])}
        for row in amounts["activity"]
    ]
    return figures


def statement_pdf(statement: Statement) -> bytes:
    """The statement's PDF. One generated without it (generate_statements)
    is rendered from its stored figures now, stored, and its SHA-256
    recorded, so every later download gets the same bytes."""
    if statement.sha256:
        return bytes(statement.pdf)
    with transaction.atomic():
        statement = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("loan__customer", "loan__product")
            .get(pk=statement.pk)
        )
        if statement.sha256:  # rendered by a concurrent download
            return bytes(statement.pdf)
        document = _render(
            statement.loan,
            _stored_figures(statement.amounts),
            statement.period_start,
            statement.statement_date,
        )
        statement.pdf = document.pdf
        statement.sha256 = document.sha256
        statement.save(update_fields=["pdf", "sha256"])
        audit.record(
            action="statement.rendered",
            category=AuditCategory.UPDATE,
            obj=statement.loan,
            metadata={
                "statement_id": statement.pk,
                "statement_date": statement.statement_date.isoformat(),
                "sha256": statement.sha256,
            },
        )
    return bytes(statement.pdf)


def _statement_fields(loan, statement_date: date, start: date, figures: dict) -> dict:
    """The columns of a statement row, from its cycle and its figures (the PDF
    columns are the caller's: rendered now, or on first download)."""
    return {
        "loan": loan,
        "statement_date": statement_date,
        "period_start": start,
        "period_end": statement_date,
        "due_date": figures["due_date"],
        "amount_due": figures["amount_due"],
        "past_due_amount": figures["past_due"],
        "amounts": plain(figures),
    }
