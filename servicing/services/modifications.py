"""Loan modifications with a four-eyes rule.

Impact (what the approval limit is compared with): the larger of
  |new total of remaining payments - old total| and the capitalised interest,
where "total of remaining payments" is the sum still owed on every
instalment of the schedule (due or not), replayed as of the business date
without and with the modification. Impact above the product's
`modification_approval_limit` waits for a different user holding
servicing.approve_modification; otherwise the modification applies at once.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.finance.errors import TermsError
from core.finance.servicing import ModificationEvent, ServicingError, ServicingState, WaiverEvent
from core.models import AuditCategory
from core.money import ZERO
from servicing.models import Loan, LoanEvent, LoanState, Modification
from servicing.services.life import engine_refused, plain, require_perm
from servicing.services.locks import lock_loan
from servicing.services.sync import replay_loan, sync_loan

TEMP_ID = 2**62  # preview events: far above any real LoanEvent id
FIELDS = {
    "annual_rate": "annual_rate",
    "remaining_term": "remaining_term",
    "next_due_date": "next_due_date",
    "defer_installments": "defer_installments",
    "effective_date": "effective_date",
}


@dataclass(frozen=True)
class ModificationPreview:
    parameters: dict
    old_rows: list[dict]
    new_rows: list[dict]
    old_remaining: Decimal
    new_remaining: Decimal
    old_installment: Decimal | None
    new_installment: Decimal | None
    old_rate: Decimal
    new_rate: Decimal
    capitalised_interest: Decimal
    carried_interest: Decimal
    waived_fee: Decimal
    impact: Decimal
    limit: Decimal

    @property
    def requires_approval(self) -> bool:
        return self.impact > self.limit

    def as_json(self) -> dict:
        return plain(
            {
                "old_rows": self.old_rows,
                "new_rows": self.new_rows,
                "old_remaining": self.old_remaining,
                "new_remaining": self.new_remaining,
                "old_installment": self.old_installment,
                "new_installment": self.new_installment,
                "old_rate": self.old_rate,
                "new_rate": self.new_rate,
                "capitalised_interest": self.capitalised_interest,
                "carried_interest": self.carried_interest,
                "waived_fee": self.waived_fee,
                "impact": self.impact,
                "limit": self.limit,
            }
        )


def _rows(state: ServicingState) -> list[dict]:
    return [
        {
            "number": i.number,
            "due_date": i.due_date,
            "principal": i.principal_due,
            "interest": i.interest_due,
            "fees": i.fees_due + i.penalties_due,
            "total": i.total_due,
            "paid": i.total_paid,
            "status": i.status,
        }
        for i in state.installments
    ]


def _remaining(state: ServicingState) -> Decimal:
    return sum((i.outstanding for i in state.installments), ZERO)


def _parameters(
    effective_date,
    annual_rate,
    remaining_term,
    next_due_date,
    capitalise_interest,
    defer_installments,
    waive_fee_event_id,
) -> dict:
    errors = {}
    if not isinstance(effective_date, date):
        errors["effective_date"] = ["Enter a date."]
    if annual_rate is not None:
        try:
            annual_rate = Decimal(str(annual_rate))
        except InvalidOperation:
            annual_rate = None
            errors["annual_rate"] = ["Enter a rate."]
        else:
            if not annual_rate.is_finite() or annual_rate < 0 or annual_rate >= 1:
                errors["annual_rate"] = ["Enter a rate from 0% to under 100%."]
    if remaining_term is not None and (
        not isinstance(remaining_term, int) or remaining_term < 1 or remaining_term > 600
    ):
        errors["remaining_term"] = ["Enter a number of instalments from 1 to 600."]
    if (
        next_due_date is not None
        and isinstance(effective_date, date)
        and next_due_date <= effective_date
    ):
        errors["next_due_date"] = ["The next due date must be after the effective date."]
    if not isinstance(defer_installments, int) or defer_installments < 0 or defer_installments > 12:
        errors["defer_installments"] = ["Defer from 0 to 12 instalments."]
    if errors:
        raise ValidationFailed("The modification is not valid.", fields=errors)
    return {
        "effective_date": effective_date,
        "annual_rate": annual_rate,
        "remaining_term": remaining_term,
        "next_due_date": next_due_date,
        "capitalise_interest": bool(capitalise_interest),
        "defer_installments": defer_installments,
        "waive_fee_event_id": waive_fee_event_id,
    }


def _check_loan(loan: Loan, params: dict) -> None:
    if loan.state != LoanState.ACTIVE:
        raise Conflict(
            f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; "
            "it cannot be modified.",
            code="loan_not_active",
        )
    today = get_business_date()
    eff = params["effective_date"]
    if eff > today or eff < loan.disbursement_date:
        raise ValidationFailed(
            "The modification is not valid.",
            fields={
                "effective_date": [
                    f"Choose a date from {loan.disbursement_date} to today's business date {today}."
                ]
            },
        )


def _events(loan: Loan, params: dict, base: ServicingState, temp_id: int) -> tuple[list, Decimal]:
    events = []
    waived = ZERO
    fee_id = params.get("waive_fee_event_id")
    if fee_id:
        fee = base.fees.get(int(fee_id))
        if fee is None or fee.outstanding <= 0:
            raise ValidationFailed(
                "The modification is not valid.",
                fields={"waive_fee_event_id": ["Choose a fee that is still owed."]},
            )
        waived = fee.outstanding
        events.append(
            WaiverEvent(
                id=temp_id + 1,
                effective_date=params["effective_date"],
                seq=temp_id + 1,
                fee_event_id=fee.event_id,
                amount=waived,
            )
        )
    events.append(
        ModificationEvent(
            id=temp_id,
            effective_date=params["effective_date"],
            seq=temp_id,
            annual_rate=params["annual_rate"],
            remaining_term=params["remaining_term"],
            next_due_date=params["next_due_date"],
            capitalise_interest=params["capitalise_interest"],
            defer_installments=params["defer_installments"],
        )
    )
    return events, waived


def _preview(loan: Loan, params: dict) -> ModificationPreview:
    old = replay_loan(loan)
    try:
        events, waived = _events(loan, params, old, TEMP_ID)
        new = replay_loan(loan, extra_events=events)
    except ServicingError as exc:
        raise engine_refused(exc, "The engine refused this modification.", FIELDS) from exc
    except TermsError as exc:  # an event's own field checks
        raise engine_refused(exc, "The modification is not valid.", FIELDS) from exc
    effect = new.effects[TEMP_ID]
    old_remaining, new_remaining = _remaining(old), _remaining(new)
    impact = max(abs(new_remaining - old_remaining), effect.capitalised_interest)
    return ModificationPreview(
        parameters=params,
        old_rows=_rows(old),
        new_rows=_rows(new),
        old_remaining=old_remaining,
        new_remaining=new_remaining,
        old_installment=old.installment,
        new_installment=new.installment,
        old_rate=old.annual_rate,
        new_rate=new.annual_rate,
        capitalised_interest=effect.capitalised_interest,
        carried_interest=effect.carried_interest,
        waived_fee=waived,
        impact=impact,
        limit=loan.product.modification_approval_limit,
    )


def preview_modification(
    *,
    loan: Loan,
    effective_date: date,
    annual_rate=None,
    remaining_term: int | None = None,
    next_due_date: date | None = None,
    capitalise_interest: bool = False,
    defer_installments: int = 0,
    waive_fee_event_id: int | None = None,
) -> ModificationPreview:
    """Old vs new schedule of a modification, without writing anything.
    `annual_rate` is a fraction (0.085 = 8.5%)."""
    params = _parameters(
        effective_date,
        annual_rate,
        remaining_term,
        next_due_date,
        capitalise_interest,
        defer_installments,
        waive_fee_event_id,
    )
    _check_loan(loan, params)
    return _preview(loan, params)


def _apply(loan: Loan, mod: Modification, user) -> None:
    """Write the modification's events and post them (caller holds the lock)."""
    params = mod.parameters
    eff = date.fromisoformat(params["effective_date"])
    base = replay_loan(loan)
    fee_id = params.get("waive_fee_event_id")
    if fee_id:
        fee = base.fees.get(int(fee_id))
        if fee is None or fee.outstanding <= 0:
            raise Conflict("The fee to waive is no longer owed.", code="stale_modification")
        LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.WAIVER,
            effective_date=eff,
            amount=fee.outstanding,
            details={"fee_event_id": fee.event_id, "reason": f"Modification {mod.pk}"},
            created_by=actor_of(user),
        )
    event = LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.MODIFICATION,
        effective_date=eff,
        details={
            "annual_rate": params["annual_rate"],
            "remaining_term": params["remaining_term"],
            "next_due_date": params["next_due_date"],
            "capitalise_interest": params["capitalise_interest"],
            "defer_installments": params["defer_installments"],
            "modification_id": mod.pk,
        },
        created_by=actor_of(user),
    )
    try:
        sync_loan(loan=loan, user=user)
    except ServicingError as exc:
        raise engine_refused(exc, "The engine refused this modification.", FIELDS) from exc
    mod.status = Modification.Status.APPLIED
    mod.event = event
    mod.save(update_fields=["status", "event", "updated_at"])
    audit.record(
        action="modification.applied",
        category=AuditCategory.MONEY,
        obj=loan,
        metadata={"modification_id": mod.pk, "event_id": event.pk, "parameters": params},
        actor=actor_of(user),
    )


def propose_modification(
    *,
    loan: Loan,
    user,
    effective_date: date,
    annual_rate=None,
    remaining_term: int | None = None,
    next_due_date: date | None = None,
    capitalise_interest: bool = False,
    defer_installments: int = 0,
    waive_fee_event_id: int | None = None,
    note: str = "",
) -> Modification:
    """Store a modification (needs servicing.modify_loan). Within the
    approval limit it is applied at once; above it, it waits for approval."""
    require_perm(user, "servicing.modify_loan")
    params = _parameters(
        effective_date,
        annual_rate,
        remaining_term,
        next_due_date,
        capitalise_interest,
        defer_installments,
        waive_fee_event_id,
    )
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        _check_loan(loan, params)
        preview = _preview(loan, params)
        mod = Modification.objects.create(
            loan=loan,
            effective_date=params["effective_date"],
            parameters=plain(params),
            preview=preview.as_json(),
            impact=preview.impact,
            requires_approval=preview.requires_approval,
            note=(note or "")[:500],
            proposed_by=actor_of(user),
        )
        audit.record(
            action="modification.proposed",
            category=AuditCategory.CREATE,
            obj=loan,
            metadata={
                "modification_id": mod.pk,
                "impact": str(preview.impact),
                "requires_approval": preview.requires_approval,
            },
            actor=actor_of(user),
        )
        if not preview.requires_approval:
            _apply(loan, mod, user)
    return mod


def _decide(modification: Modification, user, perm: str) -> tuple[Loan, Modification]:
    require_perm(user, perm)
    if user is None:
        raise PermissionDenied("A person must decide a modification.")
    loan = lock_loan(modification.loan_id)
    mod = Modification.objects.select_for_update().get(pk=modification.pk)
    if mod.status != Modification.Status.PROPOSED:
        raise Conflict(
            f"This modification is already {mod.get_status_display().lower()}.",
            code="already_decided",
        )
    if mod.proposed_by_id == user.pk:
        raise PermissionDenied(
            "You proposed this modification; another person must decide it.", code="four_eyes"
        )
    return loan, mod


def approve_modification(*, modification: Modification, user) -> Modification:
    """Approve and apply a waiting modification (servicing.approve_modification,
    never by its proposer)."""
    with transaction.atomic():
        loan, mod = _decide(modification, user, "servicing.approve_modification")
        if loan.state != LoanState.ACTIVE:
            raise Conflict(f"Loan {loan.loan_number} is no longer active.", code="loan_not_active")
        mod.decided_by = user
        mod.decided_at = timezone.now()
        mod.status = Modification.Status.APPROVED
        mod.save(update_fields=["decided_by", "decided_at", "status", "updated_at"])
        audit.record(
            action="modification.approved",
            category=AuditCategory.STATE_CHANGE,
            obj=loan,
            changes={"modification.status": ["proposed", "approved"]},
            metadata={"modification_id": mod.pk},
            actor=user,
        )
        _apply(loan, mod, user)
    return mod


def reject_modification(*, modification: Modification, user, reason: str) -> Modification:
    """Reject a waiting modification with a reason (servicing.approve_modification)."""
    if not (reason or "").strip():
        raise ValidationFailed(
            "Give a reason.", fields={"reason": ["Give the reason for rejecting."]}
        )
    with transaction.atomic():
        loan, mod = _decide(modification, user, "servicing.approve_modification")
        mod.status = Modification.Status.REJECTED
        mod.decided_by = user
        mod.decided_at = timezone.now()
        mod.rejection_reason = reason.strip()[:500]
        mod.save(
            update_fields=["status", "decided_by", "decided_at", "rejection_reason", "updated_at"]
        )
        audit.record(
            action="modification.rejected",
            category=AuditCategory.STATE_CHANGE,
            obj=loan,
            changes={"modification.status": ["proposed", "rejected"]},
            metadata={"modification_id": mod.pk, "reason": mod.rejection_reason},
            actor=user,
        )
    return mod


def pending_modifications():
    return (
        Modification.objects.filter(status=Modification.Status.PROPOSED)
        .select_related("loan", "loan__customer", "proposed_by")
        .order_by("created_at")
    )
