"""Closing a loan: the last state of its chart, after which nothing more is
expected (payments, reversals, fees, refunds and recoveries are refused).

A paid-off loan closes only when every balance is zero on the ledger and on
the cached columns: principal, interest, fees, penalties, unapplied funds and
overpayment. A credit balance must be refunded first, so an overpaid loan
never closes. A charged-off loan closes when collection has ended: closing it
is that decision, so later cash is no longer booked as a recovery.

Permissions: servicing.modify_loan closes a paid-off loan (routine servicing);
a charged-off loan also needs servicing.charge_off_loan, the permission that
records its recoveries, since closing ends them.
"""

from decimal import Decimal

from django.db import transaction

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory
from core.money import ZERO, format_money
from servicing.models import AccountRole, Loan, LoanState
from servicing.selectors.ledger import balances_by_role
from servicing.services.life import require_perm
from servicing.services.locks import lock_loan

CLOSE_PERMISSION = "servicing.modify_loan"
CLOSE_CHARGED_OFF_PERMISSION = "servicing.charge_off_loan"
NOTE_MAX = 500

# (cached column, ledger role, how a person calls it)
OWED = (
    ("principal_balance", AccountRole.PRINCIPAL, "principal"),
    ("interest_balance", AccountRole.INTEREST, "interest"),
    ("fees_balance", AccountRole.FEES, "fees"),
    ("penalties_balance", AccountRole.PENALTIES, "penalties"),
)
CREDIT = (
    ("unapplied_balance", AccountRole.UNAPPLIED, "unapplied credit"),
    ("overpayment_balance", AccountRole.OVERPAYMENT, "overpayment"),
)


def remaining_balances(loan: Loan) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """({label: amount owed}, {label: credit held}) of the balances that are
    not zero on the ledger (the truth) or on the cached columns (which must
    agree with it); the ledger's amount is shown when it has one. Amounts
    are positive Decimals in the loan's currency."""
    ledger = balances_by_role(loan)

    def nonzero(rows, sign):
        out = {}
        for column, role, label in rows:
            posted, cached = sign * ledger[role], getattr(loan, column)
            if posted != ZERO or cached != ZERO:
                out[label] = posted if posted != ZERO else cached
        return out

    # receivables are debit balances, credits held for the borrower credit balances
    return nonzero(OWED, 1), nonzero(CREDIT, -1)


def _amounts(items: dict[str, Decimal]) -> str:
    return ", ".join(f"{label} {format_money(amount)}" for label, amount in items.items())


def close_loan(loan: Loan, *, acting_user, note: str = "") -> Loan:
    """Move a paid-off or charged-off loan to closed, `closed_on` the
    business date, and record the audit event (loan.close), in one
    transaction holding the loan's row lock.

    acting_user=None is the system (or an API key authorised by its scope).
    Idempotent: a closed loan is returned unchanged. Refusals write nothing:
    PermissionDenied (403) without the permission; Conflict (409) for an
    active loan (`loan_not_closable`), an overpaid loan or a paid-off loan
    with a balance or credit left (`loan_balance_remaining`);
    ValidationFailed for a note over 500 characters."""
    require_perm(acting_user, CLOSE_PERMISSION)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            "The note is too long.", fields={"note": [f"At most {NOTE_MAX} characters."]}
        )
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state == LoanState.CLOSED:
            return loan
        if loan.state == LoanState.OVERPAID:
            credit = loan.overpayment_balance + loan.unapplied_balance
            raise Conflict(
                f"Loan {loan.loan_number} holds a credit balance of {credit}; "
                "refund it before closing the loan.",
                code="loan_balance_remaining",
            )
        if loan.state not in (LoanState.PAID_OFF, LoanState.CHARGED_OFF):
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; "
                "only paid-off or charged-off loans are closed.",
                code="loan_not_closable",
            )
        if loan.state == LoanState.CHARGED_OFF:
            require_perm(acting_user, CLOSE_CHARGED_OFF_PERMISSION)
        else:
            owed, credit = remaining_balances(loan)
            if credit:
                raise Conflict(
                    f"Loan {loan.loan_number} holds a credit balance ({_amounts(credit)}); "
                    "refund it before closing the loan.",
                    code="loan_balance_remaining",
                )
            if owed:
                raise Conflict(
                    f"Loan {loan.loan_number} still has a balance ({_amounts(owed)}); "
                    "only a loan with every balance at zero is closed.",
                    code="loan_balance_remaining",
                )
        before = loan.state
        loan.closed_on = get_business_date()
        loan.close()
        loan.save(update_fields=["state", "closed_on", "updated_at"])
        audit.record(
            action="loan.close",
            category=AuditCategory.STATE_CHANGE,
            obj=loan,
            changes={"state": [before, loan.state], "closed_on": [None, str(loan.closed_on)]},
            metadata={"note": note},
            actor=actor_of(acting_user),
        )
    return loan
