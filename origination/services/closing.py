"""Closing: offers, disclosures and the loan agreement, e-signature.

After approval (`make_offers`) the applicant chooses one offer
(`accept_offer`), which renders the Truth in Lending disclosure and the loan
agreement for it, and then signs them (`sign_documents`): the two PDFs,
agreement first, are merged into one package, the borrower is shown that
package and its SHA-256, and signing seals exactly those bytes with a
certificate page (origination.esign). Funding is in
origination.services.disbursement.

Every figure on an offer comes from the engine (core.finance build_schedule
and tila) with the same parameters servicing boards: the product's
repayment settings, the offered rate and term, the product's fees computed
on the amount, and the offer's first payment date.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, DomainError, NotFound, ValidationFailed
from core.finance import Schedule, build_schedule, tila
from core.models import AuditCategory
from core.money import format_money
from origination import disclosures as pdfs
from origination import esign
from origination.models import (
    Application,
    ApplicationState,
    Consent,
    Disbursement,
    GeneratedDocument,
    Offer,
    Signature,
)
from origination.selectors.closing import signing_package
from origination.services._common import apply_transition, lock
from origination.services.disbursement import disburse
from origination.services.products import loan_terms, offer_terms, price_for, product_fees

logger = logging.getLogger(__name__)
S = ApplicationState


def require_state(application: Application, *states: str, action: str) -> None:
    if application.state not in states:
        raise Conflict(
            f"Application {application.reference} is "
            f"{application.get_state_display().lower()}; {action} is not possible now.",
            code="invalid_state",
        )


# --- pricing and terms ----------------------------------------------------------


def schedule_json(schedule: Schedule) -> list[dict]:
    return [
        {
            "number": row.number,
            "due_date": row.due_date.isoformat(),
            "period_start": row.period_start.isoformat(),
            "principal": str(row.principal),
            "interest": str(row.interest),
            "fees": str(row.fees),
            "payment": str(row.payment),
            "closing_balance": str(row.closing_balance),
        }
        for row in schedule.rows
    ]


def _offer_terms_list(application: Application) -> list[int]:
    product = application.product
    allowed = [int(t) for t in (product.allowed_terms or [])] or list(
        range(product.min_term, product.max_term + 1)
    )
    allowed = [t for t in allowed if product.min_term <= t <= product.max_term]
    approved = application.approved_term or application.requested_term
    ordered = [approved, *sorted(t for t in set(allowed) if t != approved)]
    return ordered


def make_offers(*, application: Application, user=None) -> list[Offer]:
    """One offer per allowed term of the product for an approved application.

    The amount is the approved amount; the approved term comes first, at the
    approved rate (or the grid's when none was recorded); other terms are
    priced from the product's grid at the stored credit score (terms the
    grid does not price are skipped). Disbursement is assumed on today's
    business date, the first payment one period later (the engine's rule).
    Idempotent: while live offers (offered or accepted) exist they are
    returned unchanged; offers past their expiry are marked expired and
    replaced. Locks the application."""
    with transaction.atomic():
        application = lock(application)
        require_state(
            application,
            S.APPROVED,
            S.OFFER_ACCEPTED,
            S.DOCUMENTS_SIGNED,
            S.DISBURSED,
            action="an offer",
        )
        today = get_business_date()
        live = list(
            application.offers.filter(
                status__in=[Offer.Status.OFFERED, Offer.Status.ACCEPTED]
            ).order_by("id")
        )
        if any(o.status == Offer.Status.ACCEPTED for o in live):
            return live
        stale = [o for o in live if o.expires_on and o.expires_on < today]
        if stale:
            application.offers.filter(pk__in=[o.pk for o in stale]).update(
                status=Offer.Status.EXPIRED
            )
            live = [o for o in live if o not in stale]
        if live:
            return live
        if application.state != S.APPROVED:
            raise Conflict("Offers are made for approved applications.", code="invalid_state")
        product = application.product
        amount = application.approved_amount or application.requested_amount
        approved_term = application.approved_term or application.requested_term
        expires_on = today + timedelta(days=product.offer_valid_days)
        offers = []
        for term in _offer_terms_list(application):
            rate = price_for(product, application.credit_score, term)
            if term == approved_term and application.approved_rate is not None:
                rate = application.approved_rate
            if rate is None:
                continue
            fees = product_fees(product, amount)
            terms = loan_terms(
                product,
                amount=amount,
                term=term,
                annual_rate=rate,
                disbursement_date=today,
                fees=fees,
            )
            schedule = build_schedule(terms)
            disclosure = tila(schedule)
            offers.append(
                Offer(
                    application=application,
                    amount=amount,
                    term=term,
                    annual_rate=terms.annual_rate,
                    apr=disclosure.apr_percent,
                    payment=schedule.payments[0],
                    finance_charge=disclosure.finance_charge,
                    amount_financed=disclosure.amount_financed,
                    total_of_payments=disclosure.total_of_payments,
                    fees=fees,
                    schedule=schedule_json(schedule),
                    first_payment_date=schedule.due_dates[0],
                    expires_on=expires_on,
                )
            )
        if not offers:
            raise Conflict(
                "The product's pricing grid has no rate for this application.",
                code="no_price",
            )
        Offer.objects.bulk_create(offers)
        audit.record(
            action="application.offers_made",
            category=AuditCategory.CREATE,
            obj=application,
            metadata={
                "offers": [
                    {"term": o.term, "rate": str(o.annual_rate), "apr": str(o.apr)} for o in offers
                ]
            },
            actor=actor_of(user),
        )
        return list(application.offers.filter(status=Offer.Status.OFFERED).order_by("id"))


# --- documents ------------------------------------------------------------------


def _borrower(application: Application) -> dict:
    customer = application.applicant
    address = customer.addresses.order_by("-is_primary", "id").first()
    lines = []
    if address is not None:
        lines = [address.line1]
        if address.line2:
            lines.append(address.line2)
        lines.append(f"{address.city}, {address.state} {address.postal_code}")
    return {"name": customer.legal_name, "address": lines, "email": customer.email}


def _lender() -> dict:
    name = getattr(settings, "LENDER_NAME", "") or getattr(
        settings, "PLATFORM_NAME", "Lending Platform"
    )
    return {
        "name": name,
        "address": list(getattr(settings, "LENDER_ADDRESS", []) or []),
        "phone": getattr(settings, "LENDER_PHONE", ""),
        "email": getattr(settings, "LENDER_EMAIL", "") or settings.DEFAULT_FROM_EMAIL,
        "governing_law": getattr(settings, "LENDER_GOVERNING_LAW", "the State of New York"),
    }


def offer_context(offer: Offer, *, disclosed_on) -> dict:
    """The disclosure/agreement template context of an offer (engine figures)."""
    application = offer.application
    context = pdfs.disclosure_context(
        offer_terms(offer),
        _borrower(application),
        _lender(),
        {"type": "none"},
        application.reference,
        disclosed_on,
    )
    if application.product.late_fee_text:
        context["late_charge"] = application.product.late_fee_text
    consent = application.consents.filter(kind=Consent.Kind.E_RECORDS).order_by("-given_at").first()
    if consent is not None:
        context["esign_consent_version"] = consent.wording_version
        context["esign_consented_at"] = consent.given_at
    return context


def _store(application, offer, kind: str, pdf: bytes, sha256: str) -> GeneratedDocument:
    document = GeneratedDocument(application=application, offer=offer, kind=kind, sha256=sha256)
    document.file.save(f"{application.reference}-{kind}.pdf", ContentFile(pdf), save=False)
    document.save()
    return document


def accept_offer(*, application: Application, offer_id: int, user=None) -> Offer:
    """Accept one of the application's live offers: approved -> offer_accepted.

    The other offers are superseded; the TILA disclosure and the loan
    agreement for the accepted offer are rendered and stored (files through
    default storage, SHA-256 on the row). Idempotent for the same offer once
    accepted. Locks the application. The PDF files are written before the
    transaction commits (an error afterwards leaves orphan files, no rows)."""
    with transaction.atomic():
        application = lock(application)
        offer = application.offers.filter(pk=offer_id).first()
        if offer is not None and offer.status == Offer.Status.ACCEPTED:
            return offer
        # The state first: accepting before approval is a 409 whatever the offer id.
        require_state(application, S.APPROVED, action="accepting an offer")
        if offer is None:
            raise NotFound("No such offer.", fields={"offer_id": ["Unknown offer."]})
        today = get_business_date()
        if offer.status != Offer.Status.OFFERED or (offer.expires_on and offer.expires_on < today):
            raise Conflict("This offer is no longer available.", code="offer_unavailable")
        now = timezone.now()
        offer.status = Offer.Status.ACCEPTED
        offer.accepted_at = now
        offer.save(update_fields=["status", "accepted_at"])
        application.offers.filter(status=Offer.Status.OFFERED).exclude(pk=offer.pk).update(
            status=Offer.Status.SUPERSEDED
        )
        offer.application = application
        context = offer_context(offer, disclosed_on=today)
        tila_doc = pdfs.render_tila_disclosure(context)
        agreement = pdfs.render_loan_agreement(context)
        _store(
            application,
            offer,
            GeneratedDocument.Kind.TILA_DISCLOSURE,
            tila_doc.pdf,
            tila_doc.sha256,
        )
        _store(
            application,
            offer,
            GeneratedDocument.Kind.LOAN_AGREEMENT,
            agreement.pdf,
            agreement.sha256,
        )
        apply_transition(
            application,
            "accept_offer",
            acting_user=user,
            note=(
                f"Accepted {format_money(offer.amount)} over {offer.term} months "
                f"at APR {offer.apr}%"
            ),
            metadata={"offer_id": offer.pk},
        )
        return offer


# --- signature ------------------------------------------------------------------


def _normal(name: str) -> str:
    return re.sub(r"\s+", " ", (name or "").strip()).casefold()


def _name_matches(typed: str, customer) -> bool:
    typed = _normal(typed)
    names = {
        _normal(customer.legal_name),
        _normal(f"{customer.first_name} {customer.last_name}"),
        _normal(f"{customer.first_name} {customer.middle_name} {customer.last_name}"),
    }
    return bool(typed) and typed in names


def sign_documents(
    *,
    application: Application,
    typed_name: str,
    ip: str | None,
    user_agent: str,
    shown_sha256: str,
    user=None,
) -> Signature:
    """Sign the accepted offer's package: offer_accepted -> documents_signed.

    Preconditions, in order: an e_records consent on the application
    (Conflict "consent to electronic records first"), the typed name equal
    to the applicant's name ignoring case and spacing (ValidationFailed),
    and `shown_sha256` equal to the package's hash now (Conflict
    "document_changed"). Stores the signed package (kind signed_package)
    and the Signature evidence. When the product disburses automatically
    and bank details are on file, disburses after the signature commits.
    Idempotent: a signed application returns its signature."""
    with transaction.atomic():
        application = lock(application)
        existing = application.signatures.filter(signed_document__isnull=False).first()
        if existing is not None and application.state in (S.DOCUMENTS_SIGNED, S.DISBURSED):
            return existing
        require_state(application, S.OFFER_ACCEPTED, action="signing")
        consent = (
            application.consents.filter(kind=Consent.Kind.E_RECORDS).order_by("-given_at").first()
        )
        if consent is None:
            raise Conflict("consent to electronic records first", code="e_records_consent_required")
        if not _name_matches(typed_name, application.applicant):
            raise ValidationFailed(
                "The typed name must match the applicant's name.",
                fields={"typed_name": ["Type your full name as it appears on the application."]},
            )
        package = signing_package(application)
        if package is None:
            raise Conflict("There are no documents to sign.", code="no_documents")
        if (shown_sha256 or "").strip().lower() != package.sha256:
            raise Conflict(
                "The documents changed since they were shown; review them again.",
                code="document_changed",
            )
        signed_at = timezone.now()
        signed = esign.sign_pdf(
            package.pdf,
            signer_name=typed_name.strip(),
            signed_at=signed_at,
            ip=ip or "",
            user_agent=user_agent or "",
            shown_sha256=package.sha256,
            reference=application.reference,
            consented_at=consent.given_at,
            signer_identity=(
                f"{application.applicant.legal_name}, customer "
                f"{application.applicant.customer_number}"
            ),
        )
        signed_doc = _store(
            application,
            package.offer,
            GeneratedDocument.Kind.SIGNED_PACKAGE,
            signed,
            hashlib.sha256(signed).hexdigest(),
        )
        signature = Signature.objects.create(
            application=application,
            document=package.agreement,
            signed_document=signed_doc,
            typed_name=typed_name.strip()[:200],
            signed_at=signed_at,
            ip=ip or None,
            user_agent=(user_agent or "")[:400],
            shown_sha256=package.sha256,
            consent_at=consent.given_at,
        )
        apply_transition(
            application,
            "sign",
            acting_user=user,
            note=f"Signed by {typed_name.strip()}",
            metadata={"signature_id": signature.pk, "shown_sha256": package.sha256},
        )
        auto = application.product.auto_disburse and application_has_bank_account(application)
    if auto:
        try:
            disburse(application=application, user=None)
        except DomainError as exc:
            # The signature stands; staff see the signed application and fund it by hand.
            logger.warning("Automatic disbursement of %s failed: %s", application.reference, exc)
    return signature


def application_has_bank_account(application: Application) -> bool:
    return Disbursement.objects.filter(application=application).exists()
