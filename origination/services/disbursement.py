"""Funding: the borrower's bank account, disbursement with boarding, and the
day's NACHA credit file.

`disburse` pays the accepted offer's net amount (principal less withheld
fees, the engine's `disbursed_amount`) and boards the loan into servicing
(servicing.boarding, the only servicing module origination may import) in
one transaction: either the disbursement is completed, the loan exists and
the application is disbursed, or nothing was written.

The money leaves through the payment rail at `settings.DISBURSEMENT_RAIL`
(rails.disbursement), called inside that same transaction: a rejection or a
failure of the rail refuses the disbursement and writes nothing. The default
rail, `NachaBatchRail`, queues the credit for `daily_disbursement_file`: one
PPD credit batch per business date holding every completed disbursement on
that rail not yet in a file.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.crypto import decrypt, encrypt
from core.exceptions import Conflict, DomainError, PermissionDenied, ValidationFailed
from core.finance import build_schedule, tila
from core.models import AuditCategory
from core.money import ZERO
from origination.models import (
    ApplicationDocument,
    ApplicationState,
    Disbursement,
    DisbursementBatch,
    GeneratedDocument,
    Offer,
)
from origination.services._common import apply_transition, lock, refuse
from origination.services.products import offer_terms
from rails.accounts import ACCOUNT_TYPES, validate_account_number, validate_routing_number
from rails.ach import ach_origin
from rails.disbursement import ACCEPTED, NACHA_RAIL_NAME, PaymentRail, build_disbursement_file
from rails.disbursement import Disbursement as Payout
from servicing.boarding import BoardingParty, BoardingTerms, board_loan

S = ApplicationState
DISBURSE_PERMISSION = "origination.disburse_application"

# Regulation Z 1026.22(a)(2): a disclosed APR is accurate within 1/8 of a
# percentage point of the APR of the loan actually made.
APR_TOLERANCE = Decimal("0.125")
DEFAULT_RAIL = "rails.disbursement.NachaBatchRail"

logger = logging.getLogger(__name__)


def payment_rail() -> PaymentRail:
    """An instance of settings.DISBURSEMENT_RAIL (a dotted class path)."""
    path = getattr(settings, "DISBURSEMENT_RAIL", DEFAULT_RAIL)
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)()


def _send_credit(application, disbursement, net: Decimal) -> tuple[str, str]:
    """Pay `net` to the disbursement's account through the configured rail:
    (rail name, the rail's reference), or a refusal (Conflict) naming the
    rail when it rejects the credit or fails. A DomainError the rail raises
    (e.g. ValidationFailed on the account) is passed on as it is."""
    payout = Payout(
        reference=application.reference,
        name=application.applicant.legal_name,
        routing=validate_routing_number(disbursement.routing_number),
        account=validate_account_number(decrypt(disbursement.account_number_encrypted)),
        account_type=disbursement.account_type,
        amount=net,
    )
    rail = payment_rail()
    name = str(getattr(rail, "name", "") or type(rail).__name__)[:20]
    try:
        result = rail.send_credit(payout)
    except DomainError:
        raise
    except Exception as exc:
        logger.exception("Payment rail %s failed for %s", name, application.reference)
        raise Conflict(
            f"The payment rail ({name}) failed: {exc.__class__.__name__}. "
            "Nothing was disbursed; try again later.",
            code="rail_failed",
            fields={"rail": name},
        ) from exc
    if getattr(result, "status", None) != ACCEPTED:
        reason = str(getattr(result, "message", "") or "no reason given")
        raise Conflict(
            f"The payment rail ({name}) rejected the disbursement: {reason}",
            code="rail_rejected",
            fields={"rail": name},
        )
    return name, str(getattr(result, "reference", "") or "")[:64]


def _require_disburser(user) -> None:
    """user=None is the platform itself (automatic disbursement after signing)."""
    if user is not None and not user.has_perm(DISBURSE_PERMISSION):
        raise PermissionDenied(
            "Your role does not allow disbursing loans.",
            fields={"permission": [DISBURSE_PERMISSION]},
        )


def accepted_offer(application) -> Offer:
    offer = application.offers.filter(status=Offer.Status.ACCEPTED).order_by("-id").first()
    if offer is None:
        raise Conflict("The application has no accepted offer.", code="no_accepted_offer")
    return offer


# --- bank account ----------------------------------------------------------------


def set_bank_account(
    *, application, routing_number: str, account_number: str, account_type: str, user=None
) -> Disbursement:
    """Record (or replace) the account the loan is paid into.

    Checks the routing number's checksum and the account number's digits
    (ValidationFailed naming every bad field), then stores a pending
    Disbursement with the account number encrypted (core.crypto) and its
    last four digits; the amount is the accepted offer's net amount (0.00
    until an offer is accepted). Refused once the money was sent. Locks
    the application."""
    fields: dict = {}
    routing = account = ""
    try:
        routing = validate_routing_number(routing_number)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    try:
        account = validate_account_number(account_number)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    if account_type not in ACCOUNT_TYPES:
        fields["account_type"] = "Choose checking or savings."
    if fields:
        raise ValidationFailed(
            "Check the bank account details.", code="invalid_bank_account", fields=fields
        )
    with transaction.atomic():
        application = lock(application)
        if application.state not in (
            S.APPROVED,
            S.CONDITIONALLY_APPROVED,
            S.OFFER_ACCEPTED,
            S.DOCUMENTS_SIGNED,
            S.IN_UNDERWRITING,
            S.SUBMITTED,
        ):
            raise Conflict(
                f"Application {application.reference} is "
                f"{application.get_state_display().lower()}; its bank account cannot change.",
                code="invalid_state",
            )
        offer = application.offers.filter(status=Offer.Status.ACCEPTED).first()
        amount = offer_terms(offer).disbursed_amount if offer else ZERO
        existing = Disbursement.objects.select_for_update().filter(application=application).first()
        if existing is not None and existing.status == Disbursement.Status.SENT:
            raise Conflict("The loan was already disbursed.", code="already_disbursed")
        values = {
            "amount": amount,
            "routing_number": routing,
            "account_last4": account[-4:],
            "account_number_encrypted": encrypt(account),
            "account_type": account_type,
            "disbursed_on": get_business_date(),
            "created_by": actor_of(user),
        }
        if existing is None:
            disbursement = Disbursement.objects.create(application=application, **values)
            before = None
        else:
            before = f"{existing.routing_number} ****{existing.account_last4}"
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save(update_fields=list(values))
            disbursement = existing
        audit.record(
            action="application.bank_account_set",
            category=AuditCategory.UPDATE,
            obj=application,
            changes={"bank_account": [before, f"{routing} ****{account[-4:]}"]},
            metadata={"account_type": account_type},
            actor=actor_of(user),
        )
        return disbursement


# --- disbursement and boarding -----------------------------------------------------


def underwriting_notes(application) -> str:
    """The decisions and their notes, as the text servicing keeps (the
    conditions travel apart, as `boarding_conditions`)."""
    lines = []
    for record in application.decisions.order_by("created_at", "id"):
        text = f"{record.created_at:%Y-%m-%d} {record.get_kind_display()}: {record.outcome}"
        if record.reasons:
            text += " (" + ", ".join(str(r) for r in record.reasons) + ")"
        if record.note:
            text += f" - {record.note}"
        lines.append(text)
    return "\n".join(lines)


def boarding_conditions(application) -> tuple[dict, ...]:
    """The application's conditions as BoardingTerms expects: text, status
    (open, satisfied, waived), the resolution note and a reference."""
    return tuple(
        {
            "text": c.text,
            "status": c.status,
            "note": c.note,
            "reference": f"origination:condition:{c.pk}",
        }
        for c in application.conditions.order_by("id")
    )


def boarding_parties(application) -> tuple[BoardingParty, ...]:
    """The parties besides the applicant (the primary borrower): the
    co-applicant, underwritten and signed with them, as a co-borrower."""
    if application.co_applicant_id is None:
        return ()
    return (BoardingParty(customer_id=application.co_applicant_id, role="co_borrower"),)


def document_references(application, offer: Offer) -> tuple[dict, ...]:
    """References to the offer's generated documents (disclosure, agreement,
    signed package), then to every document uploaded to the application
    (with its review status), as BoardingTerms expects."""
    generated = [
        {
            "name": f"{application.reference} {doc.get_kind_display()}",
            "kind": doc.kind,
            "sha256": doc.sha256,
            "reference": f"origination:generated_document:{doc.pk}",
        }
        for doc in GeneratedDocument.objects.filter(offer=offer).order_by("id")
    ]
    uploaded = [
        {
            "name": doc.original_name,
            "kind": doc.kind,
            "sha256": doc.sha256,
            "reference": f"origination:application_document:{doc.pk}",
            "status": doc.status,
        }
        for doc in ApplicationDocument.objects.filter(application=application).order_by("id")
    ]
    return tuple(generated + uploaded)


def disburse(*, application, user=None, business_date: date | None = None):
    """Fund a signed application and board its loan: documents_signed -> disbursed.

    In one transaction: lock the application, complete its Disbursement
    (amount = the engine's disbursed amount, status sent, dated
    `business_date`, default today's), board the loan with the accepted
    offer's terms (servicing.boarding.board_loan), send the net amount to
    the borrower's account through the payment rail (`payment_rail`; its
    name and reference are stored on the disbursement) and record the loan
    number, funding time, timeline and audit events. Any refusal, including
    one from boarding or the rail (rejected: Conflict `rail_rejected`;
    raised: Conflict `rail_failed`), rolls all of it back. The loan is disbursed on
    `business_date` with the offer's first payment date; when that moves
    the APR beyond the disclosure tolerance the disbursement is refused
    (the borrower must be given new disclosures). Idempotent: a disbursed
    application is returned as it is. Needs origination.disburse_application
    (user=None is the platform, for automatic disbursement)."""
    _require_disburser(user)
    with transaction.atomic():
        application = lock(application)
        if application.state == S.DISBURSED:
            return application
        if application.state != S.DOCUMENTS_SIGNED:
            raise refuse(application, "disburse")
        today = business_date or get_business_date()
        offer = accepted_offer(application)
        disbursement = (
            Disbursement.objects.select_for_update().filter(application=application).first()
        )
        if disbursement is None:
            raise Conflict(
                "Add the borrower's bank account before disbursing.", code="bank_account_required"
            )
        product = application.product
        if product.servicing_product_id is None:
            raise Conflict(
                f"Product {product} has no servicing product to board onto.",
                code="no_servicing_product",
            )
        if today >= offer.first_payment_date:
            raise Conflict(
                "The offer's first payment date has passed; make a new offer.",
                code="offer_stale",
            )
        terms = offer_terms(offer, disbursement_date=today)
        schedule = build_schedule(terms)
        apr_now = tila(schedule).apr_percent
        if abs(apr_now - offer.apr) > APR_TOLERANCE:
            raise Conflict(
                f"Disbursing on {today} makes the APR {apr_now}%, not the disclosed "
                f"{offer.apr}%; new disclosures are needed.",
                code="redisclosure_required",
            )
        net = schedule.disbursed_amount
        loan = board_loan(
            terms=BoardingTerms(
                origination_reference=application.reference,
                customer_id=application.applicant_id,
                product_id=product.servicing_product_id,
                principal=terms.principal,
                annual_rate=terms.annual_rate,
                term=terms.term,
                disbursement_date=today,
                first_payment_date=offer.first_payment_date,
                repayment_every=product.repayment_every,
                repayment_unit=product.repayment_unit,
                interest_method=product.interest_method,
                amortization=product.amortization,
                day_count=product.day_count,
                installment_multiple=product.installment_multiple,
                rounding=product.rounding,
                installment_method=product.installment_method,
                equal_principal_rounding=product.equal_principal_rounding,
                fees=tuple(dict(fee) for fee in offer.fees),
                disbursed_amount=net,
                schedule=schedule,
                underwriting_notes=underwriting_notes(application),
                documents=document_references(application, offer),
                parties=boarding_parties(application),
                conditions=boarding_conditions(application),
            ),
            acting_user=actor_of(user),
        )
        # Last, so that no earlier refusal follows a credit already sent.
        rail_name, rail_reference = _send_credit(application, disbursement, net)
        disbursement.amount = net
        disbursement.status = Disbursement.Status.SENT
        disbursement.disbursed_on = today
        disbursement.loan_number = loan.loan_number
        disbursement.rail = rail_name
        disbursement.rail_reference = rail_reference
        disbursement.save(
            update_fields=[
                "amount",
                "status",
                "disbursed_on",
                "loan_number",
                "rail",
                "rail_reference",
            ]
        )
        application.loan_number = loan.loan_number
        application.funded_at = timezone.now()
        apply_transition(
            application,
            "disburse",
            acting_user=user,
            note=f"Disbursed {net} to ****{disbursement.account_last4}; loan {loan.loan_number}",
            fields=("loan_number", "funded_at"),
            metadata={"loan_number": loan.loan_number, "amount": str(net)},
        )
        audit.record(
            action="disbursement.completed",
            category=AuditCategory.MONEY,
            obj=disbursement,
            changes={"status": [Disbursement.Status.PENDING, Disbursement.Status.SENT]},
            metadata={
                "application": application.reference,
                "loan_number": loan.loan_number,
                "amount": str(net),
                "disbursed_on": today.isoformat(),
                "rail": rail_name,
                "rail_reference": disbursement.rail_reference,
            },
            actor=actor_of(user),
        )
        return application


# --- the day's NACHA file -------------------------------------------------------------


def daily_disbursement_file(*, business_date: date, user=None) -> DisbursementBatch | None:
    """The NACHA PPD credit file of the completed disbursements queued on the
    NACHA rail (or sent before rails were recorded), not yet in a file and
    dated on or before `business_date` (a disbursement made after that
    day's file was cut goes in the next day's). Credits another rail took
    are never in it.

    Idempotent per business date: the day's batch is returned if it exists.
    Returns None (writing nothing) when there is nothing to pay. Stores
    each entry's trace number on its disbursement. Needs
    origination.disburse_application (user=None is end-of-day)."""
    _require_disburser(user)
    origin = ach_origin()
    with transaction.atomic():
        pending = list(
            Disbursement.objects.select_for_update()
            .filter(
                Q(rail=NACHA_RAIL_NAME) | Q(rail=""),
                status=Disbursement.Status.SENT,
                batch__isnull=True,
                disbursed_on__lte=business_date,
            )
            .select_related("application__applicant")
            .order_by("disbursed_on", "id")
        )
        # Checked after taking the row locks: a concurrent run for the same
        # date has committed its batch by the time the locks are granted.
        existing = DisbursementBatch.objects.filter(business_date=business_date).first()
        if existing is not None:
            return existing
        if not pending:
            return None
        built = build_disbursement_file(
            origin=origin,
            disbursements=[
                Payout(
                    reference=d.application.reference,
                    name=d.application.applicant.legal_name,
                    routing=d.routing_number,
                    account=decrypt(d.account_number_encrypted),
                    account_type=d.account_type,
                    amount=d.amount,
                )
                for d in pending
            ],
            created_at=timezone.now(),
            effective_date=business_date,
        )
        try:
            with transaction.atomic():
                batch = DisbursementBatch.objects.create(
                    business_date=business_date,
                    file_text=built.text,
                    sha256=hashlib.sha256(built.text.encode("ascii")).hexdigest(),
                    entry_count=built.entry_count,
                    total=built.total,
                )
        except IntegrityError:
            return DisbursementBatch.objects.get(business_date=business_date)
        for d in pending:
            d.batch = batch
            d.trace_number = built.trace_numbers[d.application.reference]
        Disbursement.objects.bulk_update(pending, ["batch", "trace_number"])
        audit.record(
            action="disbursement.file_created",
            category=AuditCategory.MONEY,
            obj=batch,
            metadata={
                "business_date": business_date.isoformat(),
                "entries": built.entry_count,
                "total": str(built.total),
                "sha256": batch.sha256,
            },
            actor=actor_of(user),
        )
        return batch
