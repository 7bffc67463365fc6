"""Charge-off, recoveries and credit refunds.

Charge-off writes the receivables off in one entry (source "charge_off"):
Dr charge_off_expense for the total, Cr each receivable role for its ledger
balance. The loan then moves to charged_off and `sync_loan` treats it as
frozen. A recovery is cash received afterwards: a recovery LoanEvent and an
entry Dr cash_clearing, Cr recovery_income (source "recovery:<event id>").
"""

from datetime import date

from django.db import transaction
from django.db.models import F

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, ValidationFailed
from core.finance.servicing import ServicingError
from core.models import AuditCategory
from core.money import ZERO, format_money
from servicing.models import JournalEntry, Loan, LoanEvent, LoanState
from servicing.selectors.ledger import balances_by_role
from servicing.services.ledger import Line, post_entry
from servicing.services.life import engine_refused, money, require_perm
from servicing.services.locks import lock_loan
from servicing.services.sync import sync_loan

RECEIVABLES = (
    ("principal_receivable", "principal"),
    ("interest_receivable", "interest"),
    ("fees_receivable", "fees"),
    ("penalties_receivable", "penalties"),
)


def charge_off(*, loan: Loan, user=None, reason: str) -> Loan:
    """Write off an active loan's receivables (servicing.charge_off_loan;
    user=None is end-of-day). Idempotent: a charged-off loan is returned as is."""
    require_perm(user, "servicing.charge_off_loan")
    if not (reason or "").strip():
        raise ValidationFailed(
            "Give a reason.", fields={"reason": ["Give the reason for the charge-off."]}
        )
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state == LoanState.CHARGED_OFF:
            return loan
        if loan.state != LoanState.ACTIVE:
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; "
                "only active loans are charged off.",
                code="loan_not_active",
            )
        today = get_business_date()
        sync_loan(loan=loan, user=user)  # the ledger up to date before writing it off
        balances = balances_by_role(loan)
        written = {role: balances[role] for role, _ in RECEIVABLES if balances[role] != 0}
        total = sum(written.values(), ZERO)
        # Interest accrued but not yet due was never billed: it is reversed
        # out of income, not written off as a loss.
        accrued = balances["accrued_interest"]
        event = LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.CHARGE_OFF,
            effective_date=today,
            amount=total,
            details={
                "reason": reason.strip()[:200],
                "receivables": {k: str(v) for k, v in written.items()},
            },
            created_by=actor_of(user),
        )
        components = dict(RECEIVABLES)
        post_entry(
            loan=loan,
            entry_type=JournalEntry.Type.CHARGE_OFF,
            effective_date=today,
            key="charge_off",
            source="charge_off",
            lines=[Line("charge_off_expense", total)]
            + [Line(role, -amount, components[role]) for role, amount in written.items()]
            + (
                [Line("interest_income", accrued), Line("accrued_interest", -accrued, "interest")]
                if accrued
                else []
            ),
            event=event,
            memo=reason.strip()[:200],
            user=actor_of(user),
        )
        before = loan.state
        loan.charge_off()
        loan.save(update_fields=["state", "updated_at"])
        sync_loan(loan=loan, user=user)  # frozen now: refreshes the caches only
        audit.record(
            action="loan.charge_off",
            category=AuditCategory.STATE_CHANGE,
            obj=loan,
            changes={"state": [before, loan.state]},
            metadata={
                "event_id": event.pk,
                "amount": str(total),
                "reason": reason[:200],
                "receivables": event.details["receivables"],
            },
            actor=actor_of(user),
        )
    return loan


def auto_charge_off(*, business_date: date) -> list[int]:
    """Charge off every active loan at or past its product's charge-off
    days past due; one transaction per loan. Returns the loans' ids."""
    ids = list(
        Loan.objects.filter(
            state=LoanState.ACTIVE, days_past_due__gte=F("product__charge_off_days_past_due")
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = []
    for loan_id in ids:
        loan = charge_off(
            loan=Loan(pk=loan_id),
            user=None,
            reason=f"Automatic charge-off on {business_date.isoformat()}: "
            "days past due at the product's limit.",
        )
        if loan.state == LoanState.CHARGED_OFF:
            done.append(loan_id)
    return done


def record_recovery(
    *, loan: Loan, amount, received_on: date, user=None, note: str = ""
) -> LoanEvent:
    """Cash received on a charged-off loan (servicing.charge_off_loan)."""
    require_perm(user, "servicing.charge_off_loan")
    amount = money(amount)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state == LoanState.CLOSED:
            raise Conflict(
                f"Loan {loan.loan_number} is closed; collection has ended and no "
                "recovery is recorded on it.",
                code="loan_closed",
            )
        if loan.state != LoanState.CHARGED_OFF:
            raise Conflict(
                f"Loan {loan.loan_number} is not charged off.", code="loan_not_charged_off"
            )
        today = get_business_date()
        charged = (
            LoanEvent.objects.filter(loan=loan, kind=LoanEvent.Kind.CHARGE_OFF)
            .order_by("-id")
            .values_list("effective_date", flat=True)
            .first()
        )
        if (
            not isinstance(received_on, date)
            or received_on > today
            or (charged and received_on < charged)
        ):
            raise ValidationFailed(
                "The recovery is not valid.",
                fields={
                    "received_on": [
                        f"Choose a date from the charge-off ({charged}) to today ({today})."
                    ]
                },
            )
        event = LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.RECOVERY,
            effective_date=received_on,
            amount=amount,
            details={"note": (note or "")[:200]},
            created_by=actor_of(user),
        )
        source = f"recovery:{event.pk}"
        post_entry(
            loan=loan,
            entry_type=JournalEntry.Type.RECOVERY,
            effective_date=received_on,
            key=source,
            source=source,
            lines=[Line("cash_clearing", amount), Line("recovery_income", -amount)],
            event=event,
            memo=(note or "")[:200],
            user=actor_of(user),
        )
        audit.record(
            action="loan.recovery",
            category=AuditCategory.MONEY,
            obj=loan,
            metadata={
                "event_id": event.pk,
                "amount": str(amount),
                "received_on": received_on.isoformat(),
            },
            actor=actor_of(user),
        )
    return event


def refund_credit(*, loan: Loan, amount, user=None, method_note: str = "") -> LoanEvent:
    """Pay out part or all of the loan's credit balance (servicing.refund_credit).
    The engine refuses more than the credit balance: that is a ValidationFailed."""
    require_perm(user, "servicing.refund_credit")
    amount = money(amount)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state in (LoanState.CHARGED_OFF, LoanState.CLOSED):
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}.",
                code="loan_frozen",
            )
        credit = loan.overpayment_balance + loan.unapplied_balance
        event = LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.REFUND,
            effective_date=get_business_date(),
            amount=amount,
            details={"method_note": (method_note or "")[:200]},
            created_by=actor_of(user),
        )
        try:
            sync_loan(loan=loan, user=user)
        except ServicingError as exc:
            err = engine_refused(exc, "The refund was refused.")
            err.fields = {
                "amount": [f"At most the credit balance ({format_money(credit)}) can be refunded."],
                **{k: v for k, v in err.fields.items() if k != "amount"},
            }
            raise err from exc
        audit.record(
            action="loan.refund",
            category=AuditCategory.MONEY,
            obj=loan,
            metadata={
                "event_id": event.pk,
                "amount": str(amount),
                "method_note": (method_note or "")[:200],
            },
            actor=actor_of(user),
        )
    return event
