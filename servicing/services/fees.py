"""Fees: the product's late fee (end-of-day), manual fees and waivers.

Late fee rule (per product), in the words regulations and disclosures use:
no fee until the payment is more than `late_fee_grace_days` days late. The
payment is the instalment's periodic payment, its principal and interest;
fees are not part of it. With grace 10, a payment due 15 Feb and paid in
full by the end of 25 Feb (10 days late) is charged nothing; one still
short at the end of 25 Feb is charged on the first business date after it
(26 Feb, or a later date being caught up). For this test payments are
deemed applied to periodic payments before any fee, whatever the product's
allocation order (core.finance.servicing, "Delinquency"), so a fee never
makes a later, otherwise full and timely payment late: late fees never
pyramid (FTC Credit Practices Rule, 16 CFR 444.4; Reg Z 1026.36(c)(2)).
The engine reports those payments as `state.late_payments`, each with what
it still lacked when its grace period ended, and a fee is charged once:
- flat: `late_fee_amount`;
- percent: `late_fee_percent` (a fraction, 0.05 = 5%) of what the periodic
  payment lacked at the end of its grace period, half-up to cents;
then capped by `late_fee_cap` when set. "Once" is checked against every
fee LoanEvent of kind late for that instalment ({"fee_kind": "late",
"installment_number": n}), so re-running a day is a no-op and a waived fee
is not charged again. The decision for business date D reads only events
dated up to D.
"""

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from core import audit
from core.audit import actor_of
from core.bulk import insert_all
from core.businessdate import get_business_date
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.finance.servicing import FEE_KINDS, ServicingError
from core.models import AuditCategory
from core.money import CENT, ZERO
from servicing.models import Loan, LoanEvent, LoanState, ServicingProduct
from servicing.services.life import engine_refused, money, require_perm
from servicing.services.locks import lock_loan, lock_loans
from servicing.services.sync import (
    engine_events,
    read_events,
    replay_events,
    replay_loan,
    sync_loan,
    sync_loans,
)

FEE_STATES = (LoanState.ACTIVE, LoanState.OVERPAID, LoanState.PAID_OFF)


def late_fee_amount(product: ServicingProduct, unpaid: Decimal) -> Decimal:
    """The product's late fee on an instalment owing `unpaid` (pure)."""
    if product.late_fee_type == ServicingProduct.LateFeeType.FLAT:
        fee = product.late_fee_amount
    elif product.late_fee_type == ServicingProduct.LateFeeType.PERCENT:
        fee = (unpaid * product.late_fee_percent).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        return ZERO
    if product.late_fee_cap is not None:
        fee = min(fee, product.late_fee_cap)
    return max(fee, ZERO)


def _late_fees(loan: Loan, state, charged: set, business_date: date, user) -> list[LoanEvent]:
    """The unsaved late-fee events `loan` owes on `business_date`, given its
    `state` replayed as of that date (events dated up to it) and the
    instalments already `charged` a late fee."""
    product = loan.product
    numbers = {inst.number for inst in state.installments}
    created = []
    for late in state.late_payments:
        if late.number in charged or late.number not in numbers:
            continue
        amount = late_fee_amount(product, late.unpaid)
        if amount <= 0:
            continue
        created.append(
            LoanEvent(
                loan=loan,
                kind=LoanEvent.Kind.FEE,
                effective_date=business_date,
                amount=amount,
                details={
                    "fee_kind": "late",
                    "installment_number": late.number,
                    "penalty": False,
                    "unpaid": str(late.unpaid),
                },
                created_by=actor_of(user),
            )
        )
    return created


def _state_on(loan: Loan, events: list, business_date: date):
    """The loan's state as of `business_date` from its events dated up to it."""
    return replay_events(
        loan, [e for e in events if e.effective_date <= business_date], as_of=business_date
    )


def _assessed(loan: Loan, business_date: date, created: list[LoanEvent], user):
    return audit.build(
        action="fee.late_assessed",
        category=AuditCategory.MONEY,
        obj=loan,
        metadata={
            "business_date": business_date.isoformat(),
            "fees": [
                {
                    "event_id": e.pk,
                    "installment": e.details["installment_number"],
                    "amount": str(e.amount),
                }
                for e in created
            ],
        },
        actor=actor_of(user),
    )


def _charges_late_fees(loan: Loan) -> bool:
    return (
        loan.state == LoanState.ACTIVE
        and loan.product.late_fee_type != ServicingProduct.LateFeeType.NONE
    )


def assess_late_fees(*, loan: Loan, business_date: date, user=None) -> list[LoanEvent]:
    """Charge the late fee on every instalment whose payment is more than the
    product's grace days late on `business_date` and has not had one.
    Returns the fee events created (empty when re-run)."""
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if not _charges_late_fees(loan):
            return []
        charged = {
            details.get("installment_number")
            for details in LoanEvent.objects.filter(
                loan=loan, kind=LoanEvent.Kind.FEE, details__fee_kind="late"
            ).values_list("details", flat=True)
        }
        state = _state_on(loan, engine_events(loan), business_date)
        created = _late_fees(loan, state, charged, business_date, user)
        if created:
            LoanEvent.objects.bulk_create(created)
            sync_loan(loan=loan, user=user)
            audit.record_many([_assessed(loan, business_date, created, user)])
    return created


def assess_late_fees_many(*, dates: dict[int, date], user=None) -> dict[int, list[LoanEvent]]:
    """`assess_late_fees` for many loans, each on its own business date
    ({loan id: date}), set-based in one transaction: the loans locked in id
    order, one read of their late fees and of their events, one insert of
    the new fee events, one sync (sync.sync_loans) and one insert of the
    audit events. Returns {loan id: fee events created} for the loans
    charged."""
    with transaction.atomic():
        loans = [loan for loan in lock_loans(dates).values() if _charges_late_fees(loan)]
        if not loans:
            return {}
        ids = [loan.pk for loan in loans]
        charged: dict[int, set] = defaultdict(set)
        for loan_id, details in LoanEvent.objects.filter(
            loan_id__in=ids, kind=LoanEvent.Kind.FEE, details__fee_kind="late"
        ).values_list("loan_id", "details"):
            charged[loan_id].add(details.get("installment_number"))
        events = read_events(loan_id__in=ids).live
        created: dict[int, list[LoanEvent]] = {}
        for loan in loans:
            business_date = dates[loan.pk]
            state = _state_on(loan, events[loan.pk], business_date)
            fees = _late_fees(loan, state, charged[loan.pk], business_date, user)
            if fees:
                created[loan.pk] = fees
        if created:
            insert_all([e for fees in created.values() for e in fees])
            charged_loans = [loan for loan in loans if loan.pk in created]
            sync_loans(charged_loans, user=user)
            audit.record_many(
                [_assessed(loan, dates[loan.pk], created[loan.pk], user) for loan in charged_loans]
            )
    return created


def assess_fee(
    *,
    loan: Loan,
    amount,
    kind: str = "other",
    note: str = "",
    user=None,
    installment_number: int | None = None,
) -> LoanEvent:
    """Assess a fee by hand, due on the business date (needs servicing.assess_fee)."""
    require_perm(user, "servicing.assess_fee")
    errors = {}
    try:
        amount = money(amount)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if kind not in FEE_KINDS:
        errors["kind"] = [f"Choose one of {', '.join(FEE_KINDS)}."]
    if not (note or "").strip():
        errors["note"] = ["Say why the fee is charged."]
    if errors:
        raise ValidationFailed("The fee is not valid.", fields=errors)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state not in FEE_STATES:
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; "
                "no fees can be charged.",
                code="loan_frozen",
            )
        if (
            installment_number is not None
            and not loan.installments.filter(number=installment_number).exists()
        ):
            raise ValidationFailed(
                "The fee is not valid.", fields={"installment_number": ["No such instalment."]}
            )
        event = LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.FEE,
            effective_date=get_business_date(),
            amount=amount,
            details={
                "fee_kind": kind,
                "installment_number": installment_number,
                "penalty": False,
                "note": note.strip()[:200],
            },
            created_by=actor_of(user),
        )
        try:
            sync_loan(loan=loan, user=user)
        except ServicingError as exc:
            raise engine_refused(exc, "The fee cannot be charged.") from exc
        audit.record(
            action="fee.assessed",
            category=AuditCategory.MONEY,
            obj=loan,
            metadata={
                "event_id": event.pk,
                "amount": str(amount),
                "kind": kind,
                "note": note[:200],
            },
            actor=actor_of(user),
        )
    return event


def waivable(loan: Loan) -> dict[int, Decimal]:
    """fee event id -> amount still waivable (assessed less earlier waivers)."""
    state = replay_loan(loan)
    return {
        fid: fee.amount - fee.waived for fid, fee in state.fees.items() if fee.amount > fee.waived
    }


def waive_fee(*, loan: Loan, fee_event_id: int, amount, reason: str, user=None) -> LoanEvent:
    """Waive all or part of an assessed fee (needs servicing.assess_fee). The
    unpaid part is cancelled; any part already paid returns as credit."""
    require_perm(user, "servicing.assess_fee")
    errors = {}
    try:
        amount = money(amount)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason for the waiver."]
    if errors:
        raise ValidationFailed("The waiver is not valid.", fields=errors)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        fee = LoanEvent.objects.filter(loan=loan, pk=fee_event_id, kind=LoanEvent.Kind.FEE).first()
        if fee is None:
            raise NotFound("No such fee on this loan.", fields={"fee_event_id": ["No such fee."]})
        if loan.state not in FEE_STATES:
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}.",
                code="loan_frozen",
            )
        left = waivable(loan).get(fee.pk, ZERO)
        if amount > left:
            raise ValidationFailed(
                "The waiver is not valid.",
                fields={"amount": [f"At most {left} of this fee can be waived."]},
            )
        event = LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.WAIVER,
            effective_date=max(get_business_date(), fee.effective_date),
            amount=amount,
            details={"fee_event_id": fee.pk, "reason": reason.strip()[:200]},
            created_by=actor_of(user),
        )
        try:
            sync_loan(loan=loan, user=user)
        except ServicingError as exc:
            raise engine_refused(exc, "The waiver was refused.") from exc
        audit.record(
            action="fee.waived",
            category=AuditCategory.MONEY,
            obj=loan,
            metadata={
                "event_id": event.pk,
                "fee_event_id": fee.pk,
                "amount": str(amount),
                "reason": reason[:200],
            },
            actor=actor_of(user),
        )
    return event
