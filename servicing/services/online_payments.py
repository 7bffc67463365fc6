"""A borrower's one-time payment through the payment gateway (portal page and
borrower API): one owner for the checks, the charge and the posting.

The order matters: nothing is charged unless the loan takes the payment
(active, at most the payoff), and nothing is posted unless the gateway
approved the charge. The caller's `key` makes a retry return the first
payment without charging again.
"""

from datetime import date
from decimal import Decimal

from core.exceptions import Conflict, DomainError, ValidationFailed
from core.money import format_money
from rails import gateway
from servicing.models import Loan, LoanState, Payment
from servicing.services import payoff
from servicing.services.payments import PaymentResult, fingerprint, post_payment


def payoff_total(loan: Loan, today: date) -> Decimal:
    """The most a borrower may pay today: the payoff (0.00 when none can be computed)."""
    try:
        return payoff.compute_payoff(loan, today)["total"]
    except DomainError:
        return Decimal("0.00")


def pay_online(
    loan: Loan,
    *,
    amount: Decimal,
    data: dict,
    excess: str | None,
    key: str,
    today: date,
    acting_user,
) -> PaymentResult:
    """Charge the card or bank account in `data` (gateway.instrument_from)
    and post the payment (channel portal) on `today`. A key already used
    returns its payment (post_payment's replay; 422 for another request).
    Refusals write and charge nothing: a loan that is not active (409), an
    amount above the payoff (400), a declined charge (400 payment_declined)."""
    excess = excess or loan.product.excess_default
    request_fingerprint = fingerprint(
        {"loan": loan.pk, "amount": amount, "method": data["method"], "excess": excess}
    )
    reference = ""  # a replay returns the first payment, charging nothing
    if not Payment.objects.filter(idempotency_key=key).exists():
        if loan.state != LoanState.ACTIVE:
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; "
                "it takes no payments here.",
                code="loan_not_active",
            )
        max_amount = payoff_total(loan, today)
        if amount > max_amount:
            raise ValidationFailed(
                "The payment is not valid.",
                fields={
                    "amount": [
                        f"The most you can pay today is {format_money(max_amount)} (the payoff)."
                    ]
                },
            )
        instrument, label = gateway.instrument_from(data)
        result = gateway.get_gateway().charge(amount=amount, reference=key, **instrument)
        if not result.approved:
            raise ValidationFailed(
                f"{result.message} Nothing was charged or posted.", code="payment_declined"
            )
        reference = f"{label} {result.transaction_id}"
    return post_payment(
        loan=loan,
        amount=amount,
        received_on=today,
        method=Payment.Method.CARD if data["method"] == "card" else Payment.Method.ACH,
        channel=Payment.Channel.PORTAL,
        reference=reference,
        excess=excess,
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
        acting_user=acting_user,
    )
