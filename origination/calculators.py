"""Loan and APR calculators: the thin layer between people (API, staff and
portal pages) and the pure engine in core.finance.

It converts what a person types (rates in percent) into engine terms (rates
as fractions), runs the engine, and returns plain results that every
interface renders the same way, so the quote API, the calculator pages and
their CSV/PDF downloads show one set of numbers. Nothing here is stored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from core.exceptions import ValidationFailed
from core.finance import (
    FinanceError,
    LoanTerms,
    Schedule,
    TermsError,
    TilaDisclosure,
    add_months,
    apr,
    build_schedule,
    tila,
)
from core.money import format_money

HUNDRED = Decimal(100)

# The quote contract's request fields (ISSUE: integrators code against these).
TERM_FIELDS = (
    "principal",
    "annual_rate",
    "term",
    "repayment_every",
    "repayment_unit",
    "disbursement_date",
    "first_payment_date",
    "interest_method",
    "amortization",
    "day_count",
    "installment_multiple",
    "rounding",
    "installment_method",
    "equal_principal_rounding",
    "grace_principal_periods",
    "grace_interest_periods",
    "interest_free_periods",
    "balloon_amount",
    "fees",
)


@dataclass(frozen=True)
class Quote:
    """A schedule with its totals and Truth in Lending figures."""

    schedule: Schedule
    disclosure: TilaDisclosure

    @property
    def terms(self) -> LoanTerms:
        return self.schedule.terms

    @property
    def rows(self):
        return self.schedule.rows

    @property
    def apr_percent(self) -> Decimal:
        return self.disclosure.apr_percent

    @property
    def annual_rate_percent(self) -> Decimal:
        """The nominal rate in percent, without trailing zeros (7.25, not 7.250000)."""
        value = (self.terms.annual_rate * HUNDRED).normalize()
        return value.quantize(Decimal(1)) if value == value.to_integral() else value

    def chart_data(self) -> dict:
        """Per-instalment principal, interest and balance for the chart."""
        rows = self.schedule.rows
        return {
            "labels": [row.number for row in rows],
            "principal": [str(row.principal) for row in rows],
            "interest": [str(row.interest) for row in rows],
            "balance": [str(row.closing_balance) for row in rows],
        }


def percent_to_fraction(value: object, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(
            "The request has invalid fields.", fields={field: [f"{value!r} is not a number."]}
        ) from exc
    if not number.is_finite():
        raise ValidationFailed(
            "The request has invalid fields.", fields={field: ["Enter a finite number."]}
        )
    return number / HUNDRED


def _terms_error(exc: TermsError) -> ValidationFailed:
    fields = {name: [_sentence(message)] for name, message in exc.errors.items()}
    return ValidationFailed("The loan terms are not valid.", code="invalid_terms", fields=fields)


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[0].upper() + message[1:] if message else message
    return message if message.endswith(".") else message + "."


def build_terms(data: Mapping) -> LoanTerms:
    """LoanTerms from request/form values. `annual_rate` is in percent.

    Raises ValidationFailed whose `fields` name every bad field."""
    values = {name: data[name] for name in TERM_FIELDS if data.get(name) not in (None, "")}
    if "annual_rate" in values:
        values["annual_rate"] = percent_to_fraction(values["annual_rate"], "annual_rate")
    if "fees" in values:
        values["fees"] = tuple(dict(fee) for fee in values["fees"])
    required = ("principal", "annual_rate", "term", "disbursement_date")
    missing = [name for name in required if name not in values]
    if missing:
        raise ValidationFailed(
            "The loan terms are not valid.",
            code="invalid_terms",
            fields={name: ["This field is required."] for name in missing},
        )
    try:
        return LoanTerms(**values)
    except TermsError as exc:
        raise _terms_error(exc) from exc


def quote(terms: LoanTerms) -> Quote:
    """Schedule and disclosure of `terms` (ValidationFailed if the engine refuses)."""
    try:
        schedule = build_schedule(terms)
        return Quote(schedule=schedule, disclosure=tila(schedule))
    except TermsError as exc:
        raise _terms_error(exc) from exc
    except FinanceError as exc:
        raise ValidationFailed(str(exc), code="invalid_terms") from exc


def apr_percent(
    advances: Sequence[tuple[date, Decimal]], payments: Sequence[tuple[date, Decimal]]
) -> Decimal:
    """Appendix J APR in percent, 4 places, of a stream of advances and payments."""
    try:
        result = apr(advances, payments)
    except TermsError as exc:
        raise _terms_error(exc) from exc
    except FinanceError as exc:
        raise ValidationFailed(str(exc), code="apr_unsolvable") from exc
    return (result.rate * HUNDRED).quantize(Decimal("0.0001"))


SCHEDULE_COLUMNS = (
    "number",
    "due_date",
    "days",
    "opening_balance",
    "principal",
    "interest",
    "fees",
    "payment",
    "closing_balance",
)


MONEY_COLUMNS = frozenset(
    {"opening_balance", "principal", "interest", "fees", "payment", "closing_balance"}
)


def schedule_csv(result: Quote) -> str:
    """The schedule as CSV: one header row, one row per instalment, a totals row.

    Amounts are written as on the page, "1,234.56" (quoted, because of the
    comma); spreadsheets read them as numbers. Dates are ISO, days plain.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCHEDULE_COLUMNS)
    for row in result.rows:
        writer.writerow(
            [
                format_money(getattr(row, column))
                if column in MONEY_COLUMNS
                else getattr(row, column)
                for column in SCHEDULE_COLUMNS
            ]
        )
    schedule = result.schedule
    writer.writerow(
        [
            "total",
            "",
            sum(schedule.days),
            "",
            format_money(schedule.total_principal),
            format_money(schedule.total_interest),
            format_money(schedule.total_fees),
            format_money(schedule.total_payments),
            "",
        ]
    )
    return out.getvalue()


def quote_payload(result: Quote) -> dict:
    """The quote API's response body (amounts and rates as decimal strings)."""
    schedule, disclosure = result.schedule, result.disclosure
    return {
        "installments": [
            {
                "number": row.number,
                "due_date": row.due_date.isoformat(),
                "days": row.days,
                "opening_balance": str(row.opening_balance),
                "principal": str(row.principal),
                "interest": str(row.interest),
                "fees": str(row.fees),
                "payment": str(row.payment),
                "closing_balance": str(row.closing_balance),
            }
            for row in schedule.rows
        ],
        "totals": {
            "number_of_installments": len(schedule),
            "installment": None if schedule.installment is None else str(schedule.installment),
            "loan_amount": str(schedule.loan_amount),
            "disbursed_amount": str(schedule.disbursed_amount),
            "principal": str(schedule.total_principal),
            "interest": str(schedule.total_interest),
            "fees": str(schedule.total_fees),
            "payments": str(schedule.total_payments),
        },
        "tila": {
            "amount_financed": str(disclosure.amount_financed),
            "finance_charge": str(disclosure.finance_charge),
            "total_of_payments": str(disclosure.total_of_payments),
            "apr": str(disclosure.apr_percent),
            "apr_disclosed": str(disclosure.disclosed_apr_percent()),
            "payment_summary": [
                {
                    "count": group.count,
                    "amount": str(group.amount),
                    "first_due_date": group.first_due_date.isoformat(),
                }
                for group in disclosure.payment_summary
            ],
        },
    }


_RUN_STEPS = {"monthly": ("months", 1), "weekly": ("days", 7), "biweekly": ("days", 14)}


def parse_flows(text: str, field: str) -> list[tuple[date, Decimal]]:
    """Parse cash flows typed one per line.

    A line is `YYYY-MM-DD amount` (commas and a leading $ allowed), or a run
    `N x amount from YYYY-MM-DD monthly|weekly|biweekly`. Blank lines are
    skipped. Errors name the line: ValidationFailed(fields={field: [...]}).
    """
    flows: list[tuple[date, Decimal]] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.replace(",", "").replace("$", "").split()
        try:
            if len(parts) == 2:
                flows.append((date.fromisoformat(parts[0]), Decimal(parts[1])))
            elif len(parts) == 6 and parts[1].lower() == "x" and parts[3].lower() == "from":
                count, amount = int(parts[0]), Decimal(parts[2])
                start, step = date.fromisoformat(parts[4]), _RUN_STEPS[parts[5].lower()]
                if not 0 < count <= 1200:
                    raise ValueError
                for k in range(count):
                    when = (
                        add_months(start, k, anchor_day=start.day)
                        if step[0] == "months"
                        else start + timedelta(days=step[1] * k)
                    )
                    flows.append((when, amount))
            else:
                raise ValueError
        except (ValueError, KeyError, InvalidOperation):
            problems.append(
                f"Line {number} ({line!r}) is not 'YYYY-MM-DD amount' or "
                "'N x amount from YYYY-MM-DD monthly|weekly|biweekly'."
            )
    if not flows and not problems:
        problems.append("Enter at least one line.")
    bad = [f for f in flows if not f[1].is_finite() or f[1] <= 0]
    if bad:
        problems.append("Every amount must be a positive number.")
    if problems:
        raise ValidationFailed("The cash flows are not valid.", fields={field: problems})
    return flows
