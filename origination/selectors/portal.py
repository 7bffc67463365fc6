"""Reads for the borrower's application pages in the portal. Everything is
scoped to one customer; single applications are reached through
get_application_for_customer."""

from __future__ import annotations

from django.db.models import Q

from core.exceptions import NotFound
from origination.models import (
    Application,
    ApplicationDocument,
    ApplicationState,
    Condition,
    Consent,
    GeneratedDocument,
    LoanProduct,
    Offer,
)

S = ApplicationState

# How each state reads on the borrower's timeline.
TIMELINE_LABELS = {
    S.DRAFT: "Application started",
    S.SUBMITTED: "Application submitted",
    S.RETURNED: "We need more information from you",
    S.IN_UNDERWRITING: "Under review by our team",
    S.CONDITIONALLY_APPROVED: "Approved with conditions",
    S.APPROVED: "Approved",
    S.DECLINED: "Not approved",
    S.OFFER_ACCEPTED: "Offer accepted",
    S.DOCUMENTS_SIGNED: "Documents signed",
    S.DISBURSED: "Loan funded",
    S.WITHDRAWN: "Application withdrawn",
    S.EXPIRED: "Application expired",
}


def applications_for_customer(customer) -> list[Application]:
    """The customer's applications (as applicant or co-applicant), newest first."""
    return list(
        Application.objects.select_related("product")
        .filter(Q(applicant=customer) | Q(co_applicant=customer))
        .order_by("-id")
    )


def timeline(application: Application) -> list[dict]:
    """The status timeline with borrower-facing labels (internal notes are
    not shown; a return for information shows its reason)."""
    rows = []
    for event in application.events.order_by("at", "id"):
        rows.append(
            {
                "at": event.at,
                "state": event.to_state,
                "label": TIMELINE_LABELS.get(event.to_state, event.to_state),
                "detail": application.return_reason if event.to_state == S.RETURNED else "",
            }
        )
    return rows


def documents_checklist(application: Application) -> list[dict]:
    """Each required document of the product with the latest upload's status."""
    latest: dict[str, ApplicationDocument] = {}
    for document in application.documents.order_by("id"):
        latest[document.kind] = document
    rows = []
    for item in application.product.required_documents:
        document = latest.get(item["kind"])
        rows.append(
            {
                "kind": item["kind"],
                "label": item.get("label") or item["kind"],
                "status": document.status if document else "missing",
                "document": document,
            }
        )
    return rows


def uploaded_documents(application: Application) -> list[ApplicationDocument]:
    return list(application.documents.order_by("-id"))


def open_conditions(application: Application) -> list[Condition]:
    return list(application.conditions.filter(status=Condition.Status.OPEN).order_by("id"))


def live_offers(application: Application) -> list[Offer]:
    """Offers the borrower may still choose (the approved term first)."""
    return list(application.offers.filter(status=Offer.Status.OFFERED).order_by("id"))


def accepted_offer(application: Application) -> Offer | None:
    return application.offers.filter(status=Offer.Status.ACCEPTED).order_by("-id").first()


def has_e_records_consent(application: Application) -> bool:
    return application.consents.filter(kind=Consent.Kind.E_RECORDS).exists()


def consent_kinds(application: Application) -> set[str]:
    return set(application.consents.values_list("kind", flat=True))


def consents_given(application: Application):
    """The application's consents in the order given (a lazy queryset)."""
    return application.consents.order_by("given_at", "id")


def identity_on_file(customer) -> bool:
    """Date of birth, tax id and an address: what the about-you step needs."""
    return (
        customer.has_date_of_birth and bool(customer.tax_id_last4) and customer.addresses.exists()
    )


def signature_of(application: Application):
    return (
        application.signatures.filter(signed_document__isnull=False)
        .select_related("signed_document")
        .order_by("-id")
        .first()
    )


def adverse_action_notice(application: Application) -> GeneratedDocument | None:
    return (
        application.generated_documents.filter(kind=GeneratedDocument.Kind.ADVERSE_ACTION)
        .order_by("-id")
        .first()
    )


def generated_document(application: Application, document_id: int) -> GeneratedDocument:
    """One of the application's generated documents, else NotFound."""
    document = application.generated_documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound("No such document.")
    return document


def borrower_documents(application: Application) -> list[GeneratedDocument]:
    """Generated documents the borrower may download: the disclosure and
    agreement of the accepted offer, the signed package, the notice."""
    return list(
        application.generated_documents.filter(
            Q(offer__status=Offer.Status.ACCEPTED) | Q(offer__isnull=True)
        ).order_by("-id")
    )


def offered_products():
    """The loan products a borrower can apply for now (current versions)."""
    return list(LoanProduct.objects.filter(is_active=True).order_by("name", "code"))


def get_application_for_customer(customer, pk) -> Application:
    """The customer's own application (as applicant or co-applicant);
    NotFound (404) for anyone else's, so existence is not revealed."""
    app = (
        Application.objects.select_related("product")
        .filter(pk=pk)
        .filter(applicant=customer)
        .first()
    ) or Application.objects.select_related("product").filter(pk=pk, co_applicant=customer).first()
    if app is None:
        raise NotFound("No such application.")
    return app
