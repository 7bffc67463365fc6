"""Life events of a loan: shared helpers.

The use cases live in sibling modules:

- fees.py: assess_late_fees, assess_fee, waive_fee
- payoff.py: payoff_quote, record_payoff_payment, notify_paid_off
- modifications.py: preview_modification, propose_modification,
  approve_modification, reject_modification
- chargeoff.py: charge_off, record_recovery, auto_charge_off, refund_credit
- statements.py: generate_statement, generate_statements, statement_pdf

Every write locks the loan (`locks.lock_loan`, which first catches up a
loan end of day left behind), writes a LoanEvent and lets
`sync.sync_loan` post the money (except charge-off and recovery, which post
their journal entries directly), and records an audit event, in one
transaction.
"""

from decimal import Decimal, InvalidOperation

from core.exceptions import PermissionDenied, ValidationFailed
from core.finance.servicing import ServicingError
from core.money import CENT


def require_perm(user, perm: str) -> None:
    """Raise PermissionDenied unless `user` (when given) holds `perm`.
    user=None means the system itself (end-of-day), which may act."""
    if user is not None and not user.has_perm(perm):
        raise PermissionDenied("Your role does not allow this.", fields={"permission": [perm]})


def money(value, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    """`value` as a positive whole-cent Decimal, else ValidationFailed on `field`."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(
            f"The {field.replace('_', ' ')} is not valid.",
            fields={field: ["Enter an amount greater than zero."]},
        )
    if amount != amount.quantize(CENT):
        raise ValidationFailed(
            f"The {field.replace('_', ' ')} is not valid.", fields={field: ["Enter whole cents."]}
        )
    return amount


def engine_refused(exc: ServicingError, message: str, field_map: dict | None = None):
    """The engine's refusal as a ValidationFailed with per-field messages."""
    field_map = field_map or {}
    fields = {field_map.get(k, k): [str(v)] for k, v in exc.errors.items()}
    return ValidationFailed(message, code="refused", fields=fields)


def plain(value):
    """Decimal/date values of nested structures as strings for JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
