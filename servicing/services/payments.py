"""Posting and reversing payments.

Both lock the loan rows (payments on one loan serialise), write the events,
and let `sync_loans` post the money. A payment dated before later payments
(backdated) re-applies those later payments; a reversal removes the payment
from the history and re-applies everything after it.

`post_payments` posts a chunk of payments set-based (imports, the demo): it
locks the loans in id order (so two batches cannot deadlock), writes the
events and payments with bulk inserts, syncs each loan once and audits every
payment. `post_payment` is `post_payments` for a list of one, with the
idempotency key looked up first and its refusals raised.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from core import audit
from core.audit import actor_of
from core.bulk import gc_paused, insert_all
from core.businessdate import get_business_date
from core.exceptions import Conflict, DomainError, ValidationFailed
from core.models import AuditCategory
from servicing.models import Loan, LoanEvent, LoanState, Payment
from servicing.services.locks import lock_loan, lock_loans
from servicing.services.sync import sync_loan, sync_loans

PAYABLE_STATES = (LoanState.ACTIVE, LoanState.OVERPAID, LoanState.PAID_OFF)


class IdempotencyMismatch(DomainError):
    """The idempotency key was used before with a different request (HTTP 422)."""

    status_code = 422
    default_code = "idempotency_key_reused"


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool


def fingerprint(data: dict) -> str:
    """A stable hash of a request body, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class PaymentRow:
    """One payment to post (see `post_payments`)."""

    loan_id: int
    amount: Decimal
    received_on: date
    method: str
    channel: str
    reference: str = ""
    excess: str | None = None
    idempotency_key: str | None = None
    request_fingerprint: str = ""


def _validate(row: PaymentRow, loan: Loan, today: date) -> None:
    """ValidationFailed if the row's values are not a payment of `loan`."""
    amount, received_on = row.amount, row.received_on
    errors = {}
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        errors["amount"] = ["Enter an amount greater than zero."]
    elif amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["Enter whole cents."]
    if received_on > today:
        errors["received_on"] = [f"A payment cannot be dated after today's business date {today}."]
    elif received_on < loan.disbursement_date:
        errors["received_on"] = [f"The loan was disbursed on {loan.disbursement_date}."]
    if row.method not in Payment.Method.values:
        errors["method"] = [f"Choose one of {', '.join(Payment.Method.values)}."]
    if row.channel not in Payment.Channel.values:
        errors["channel"] = [f"Choose one of {', '.join(Payment.Channel.values)}."]
    if errors:
        raise ValidationFailed("The payment is not valid.", fields=errors)


@gc_paused()
def post_payments(
    rows: list[PaymentRow], *, acting_user=None, batch: bool = True
) -> list[Payment | str]:
    """Post payments in the caller's transaction. Returns, per row, the
    Payment or the reason it was refused (a loan that takes no payments).

    Rows are checked first under the loans' locks: a row whose values are
    not valid raises ValidationFailed and nothing is written (callers
    validate their rows before). Idempotency keys must be new (the caller
    filters known keys; a concurrent duplicate makes the unique index raise
    IntegrityError, and the caller's transaction rolls back the whole
    chunk). `batch` marks the audit events as posted in a batch."""
    loans = lock_loans(row.loan_id for row in rows)
    user = actor_of(acting_user)
    today = get_business_date()
    results: list[Payment | str | None] = []
    accepted = []
    for row in rows:
        loan = loans[row.loan_id]
        _validate(row, loan, today)
        if loan.state not in PAYABLE_STATES:
            status = loan.get_state_display().lower()
            results.append(f"Loan {loan.loan_number} is {status}; it takes no payments.")
            continue
        excess = row.excess or loan.product.excess_default
        event = LoanEvent(
            loan=loan,
            kind=LoanEvent.Kind.PAYMENT,
            effective_date=row.received_on,
            amount=row.amount,
            details={"excess": excess, "method": row.method, "channel": row.channel},
            created_by=user,
        )
        results.append(None)
        accepted.append((len(results) - 1, row, loan, event, excess))
    insert_all([a[3] for a in accepted])
    payments = insert_all(
        [
            Payment(
                loan=loan,
                event=event,
                amount=row.amount,
                received_on=row.received_on,
                method=row.method,
                channel=row.channel,
                reference=row.reference[:100],
                excess=excess,
                idempotency_key=row.idempotency_key or None,
                request_fingerprint=row.request_fingerprint,
                created_by=user,
            )
            for _, row, loan, event, excess in accepted
        ]
    )
    touched = {loan.pk: loan for _, _, loan, _, _ in accepted}
    sync_loans(list(touched.values()), user=acting_user, as_of=today)
    audit.record_many(
        [
            audit.build(
                action="payment.posted",
                category=AuditCategory.MONEY,
                obj=loan,
                metadata={
                    "payment_id": payment.pk,
                    "amount": str(row.amount),
                    "received_on": row.received_on.isoformat(),
                    "method": row.method,
                    "channel": row.channel,
                    "backdated": row.received_on < today,
                }
                | ({"batch": True} if batch else {}),
                actor=user,
            )
            for (_, row, loan, _, _), payment in zip(accepted, payments, strict=True)
        ]
    )
    for (index, *_), payment in zip(accepted, payments, strict=True):
        results[index] = payment
    return results


def post_payment(
    *,
    loan: Loan,
    amount: Decimal,
    received_on: date,
    method: str,
    channel: str,
    reference: str = "",
    excess: str | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    acting_user=None,
) -> PaymentResult:
    """Record a payment and post its allocation.

    With an `idempotency_key`, a repeat of the same request returns the first
    payment (created=False) and a different request with the same key raises
    IdempotencyMismatch; concurrent repeats are serialised by the unique
    index on the key."""
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, request_fingerprint)
    excess = excess or loan.product.excess_default
    if excess not in ("prepayment", "unapplied"):
        raise ValidationFailed(
            "The payment is not valid.", fields={"excess": ["Choose prepayment or unapplied."]}
        )
    row = PaymentRow(
        loan_id=loan.pk,
        amount=amount,
        received_on=received_on,
        method=method,
        channel=channel,
        reference=reference,
        excess=excess,
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
    )
    try:
        with transaction.atomic():
            [payment] = post_payments([row], acting_user=acting_user, batch=False)
    except IntegrityError:
        if idempotency_key:
            existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _replayed(existing, request_fingerprint)
        raise
    if not isinstance(payment, Payment):
        raise Conflict(payment, code="loan_not_payable")
    return PaymentResult(payment=payment, created=True)


def _replayed(existing: Payment, request_fingerprint: str) -> PaymentResult:
    if request_fingerprint and existing.request_fingerprint != request_fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was already used for a different payment.",
            fields={"Idempotency-Key": ["Use a new key for a new payment."]},
        )
    return PaymentResult(payment=existing, created=False)


def reverse_payment(*, payment: Payment, reason: str, acting_user=None, note: str = "") -> Payment:
    """Reverse a posted payment (NSF, chargeback, posting error, ACH return).

    Idempotent: reversing a reversed payment returns it unchanged. An NSF or
    ACH return assesses the product's NSF fee on today's business date; the
    reason has no default, so a caller must say which it is."""
    if not reason:
        raise ValidationFailed(
            "Choose why the payment is being reversed.",
            fields={"reason": ["Choose why the payment is being reversed."]},
        )
    if reason not in Payment.ReversalReason.values:
        raise ValidationFailed(
            "The reversal is not valid.",
            fields={"reason": [f"Choose one of {', '.join(Payment.ReversalReason.values)}."]},
        )
    with transaction.atomic():
        loan = lock_loan(payment.loan_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == Payment.Status.REVERSED:
            return payment
        if loan.state in (LoanState.CHARGED_OFF, LoanState.CLOSED):
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}.",
                code="loan_frozen",
            )
        today = get_business_date()
        reversal = LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.REVERSAL,
            effective_date=payment.received_on,
            amount=payment.amount,
            details={"reason": reason, "note": note[:200], "reversed_on": today.isoformat()},
            reverses=payment.event,
            created_by=actor_of(acting_user),
        )
        payment.status = Payment.Status.REVERSED
        payment.reversal_reason = reason
        payment.reversal_event = reversal
        payment.save(update_fields=["status", "reversal_reason", "reversal_event", "updated_at"])
        fee = loan.product.nsf_fee_amount
        if reason in (Payment.ReversalReason.NSF, Payment.ReversalReason.ACH_RETURN) and fee > 0:
            LoanEvent.objects.create(
                loan=loan,
                kind=LoanEvent.Kind.FEE,
                effective_date=today,
                amount=fee,
                details={"fee_kind": "nsf", "penalty": False, "payment_id": payment.pk},
                created_by=actor_of(acting_user),
            )
        sync_loan(loan=loan, user=acting_user)
        audit.record(
            action="payment.reversed",
            category=AuditCategory.MONEY,
            obj=loan,
            changes={"payment.status": [Payment.Status.POSTED, Payment.Status.REVERSED]},
            metadata={"payment_id": payment.pk, "reason": reason, "amount": str(payment.amount)},
            actor=acting_user,
        )
    return payment
