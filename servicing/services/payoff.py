"""Payoff quotes, payoff payments and the paid-off notice.

A quote replays the loan as of `good_through` (which may be in the future)
and itemises the engine's payoff: principal, interest due and unpaid,
interest accrued to the date, fees, penalties, less the credit balance,
and the per diem (interest per further day on the principal not yet due).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.documents import render_pdf
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory
from core.money import format_money
from servicing.models import Loan, LoanState, PayoffQuote
from servicing.selectors.loans import loan_borrowers
from servicing.services.life import require_perm
from servicing.services.locks import lock_loan
from servicing.services.payments import post_payment
from servicing.services.sync import replay_loan

MAX_QUOTE_DAYS = 90


def compute_payoff(loan: Loan, good_through: date) -> dict:
    """The itemised payoff of `loan` on `good_through` (no writes)."""
    state = replay_loan(loan, as_of=good_through)
    quote = state.payoff
    if quote is None:
        raise Conflict(f"Loan {loan.loan_number} is already paid off.", code="already_paid_off")
    accrued = quote.interest - state.interest_due_unpaid
    return {
        "principal": quote.principal,
        "interest_due": state.interest_due_unpaid,
        "interest_accrued": accrued,
        "interest": quote.interest,
        "fees": quote.fees,
        "penalties": quote.penalties,
        "credit": quote.unapplied_credit,
        "total": quote.total,
        "per_diem": quote.per_diem,
    }


def payoff_quote(*, loan: Loan, good_through: date, user=None) -> PayoffQuote:
    """Store a payoff quote good through `good_through` with its letter (PDF)."""
    require_perm(user, "servicing.view_loan")
    today = get_business_date()
    if not isinstance(good_through, date) or good_through < today:
        raise ValidationFailed(
            "The quote date is not valid.",
            fields={"good_through": [f"Choose a date from today's business date {today}."]},
        )
    if good_through > today + timedelta(days=MAX_QUOTE_DAYS):
        raise ValidationFailed(
            "The quote date is not valid.",
            fields={"good_through": [f"Quotes run at most {MAX_QUOTE_DAYS} days ahead."]},
        )
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state != LoanState.ACTIVE:
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; it has no payoff.",
                code="loan_not_active",
            )
        items = compute_payoff(loan, good_through)
        document = render_pdf(
            "documents/payoff_letter.html",
            {
                "loan": loan,
                "customer": loan.customer,
                "borrowers": loan_borrowers(loan),
                "items": items,
                "good_through": good_through,
                "quoted_on": today,
            },
        )
        quote = PayoffQuote.objects.create(
            loan=loan,
            quoted_on=today,
            good_through=good_through,
            amount=items["total"],
            per_diem=items["per_diem"],
            itemisation={k: str(v) for k, v in items.items()},
            pdf=document.pdf,
            sha256=document.sha256,
            created_by=actor_of(user),
        )
        audit.record(
            action="payoff.quoted",
            category=AuditCategory.CREATE,
            obj=loan,
            metadata={
                "quote_id": quote.pk,
                "good_through": good_through.isoformat(),
                "amount": str(quote.amount),
                "sha256": quote.sha256,
            },
            actor=actor_of(user),
        )
    return quote


def _send_paid_off_notice(loan_id: int) -> None:
    """One e-mail to each borrower of the loan (primary and co-borrowers)
    with an address on file, each addressed to them."""
    loan = Loan.objects.select_related("customer").get(pk=loan_id)
    credit = loan.overpayment_balance + loan.unapplied_balance
    for borrower in loan_borrowers(loan):
        if not borrower.email:
            continue
        lines = [
            f"Dear {borrower.legal_name},",
            "",
            f"Your loan {loan.loan_number} is paid in full. Thank you.",
        ]
        if credit > 0:
            lines += [
                "",
                f"You paid {format_money(credit)} more than you owed; we will refund it to you.",
            ]
        lines += ["", "No further payments are due on this loan."]
        send_mail(
            subject=f"Loan {loan.loan_number} is paid in full",
            message="\n".join(lines),
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            recipient_list=[borrower.email],
        )


def notify_paid_off(loan: Loan) -> None:
    """Tell each borrower by e-mail that the loan is paid off, once the
    current transaction commits (nothing is sent if it rolls back)."""
    loan_id = loan.pk
    transaction.on_commit(lambda: _send_paid_off_notice(loan_id))


def record_payoff_payment(
    *, loan: Loan, amount: Decimal, received_on: date, method: str, user=None, reference: str = ""
):
    """Post a (payoff) payment as an ordinary staff payment; if it settles
    the loan, register the paid-off notice. Returns the PaymentResult."""
    require_perm(user, "servicing.post_payment")
    with transaction.atomic():
        before = Loan.objects.values_list("state", flat=True).get(pk=loan.pk)
        result = post_payment(
            loan=loan,
            amount=amount,
            received_on=received_on,
            method=method,
            channel="staff",
            reference=reference,
            excess="prepayment",
            acting_user=actor_of(user),
        )
        loan.refresh_from_db()
        if before == LoanState.ACTIVE and loan.state in (LoanState.PAID_OFF, LoanState.OVERPAID):
            notify_paid_off(loan)
    return result
