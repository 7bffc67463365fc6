"""Reads for closing: the package a borrower signs, generated documents and
the day's disbursement files (for the portal and the staff downloads)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import BytesIO

from core.exceptions import Conflict, NotFound
from origination.models import (
    Application,
    Disbursement,
    DisbursementBatch,
    GeneratedDocument,
    Offer,
)


@dataclass(frozen=True)
class SigningPackage:
    """The bytes the borrower reviews and signs: the loan agreement followed
    by the Truth in Lending disclosure of the accepted offer, merged with
    pypdf (deterministic: the same stored PDFs give the same bytes), and
    their SHA-256 (what the portal shows and the signer confirms)."""

    pdf: bytes
    sha256: str
    offer: Offer
    agreement: GeneratedDocument
    disclosure: GeneratedDocument


def read_document(document: GeneratedDocument) -> bytes:
    """The stored bytes of a generated document; Conflict if they no longer
    hash to the SHA-256 recorded when it was generated, or if it has no PDF
    yet (an adverse action notice is rendered by its service first:
    origination.services.adverse_action.ensure_rendered)."""
    if not document.sha256:
        raise Conflict(
            f"The {document.get_kind_display().lower()} has not been rendered yet.",
            code="document_not_rendered",
        )
    with document.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise Conflict(
            f"The stored {document.get_kind_display().lower()} does not match its recorded hash.",
            code="document_tampered",
        )
    return data


def signing_package(application: Application) -> SigningPackage | None:
    """The package for the application's accepted offer, or None before one
    is accepted (or when its documents are missing)."""
    offer = application.offers.filter(status=Offer.Status.ACCEPTED).order_by("-id").first()
    if offer is None:
        return None
    docs = {
        d.kind: d
        for d in GeneratedDocument.objects.filter(
            offer=offer,
            kind__in=[
                GeneratedDocument.Kind.LOAN_AGREEMENT,
                GeneratedDocument.Kind.TILA_DISCLOSURE,
            ],
        ).order_by("id")
    }
    agreement = docs.get(GeneratedDocument.Kind.LOAN_AGREEMENT)
    disclosure = docs.get(GeneratedDocument.Kind.TILA_DISCLOSURE)
    if agreement is None or disclosure is None:
        return None
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in (agreement, disclosure):
        writer.append(PdfReader(BytesIO(read_document(document))))
    out = BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    return SigningPackage(
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        offer=offer,
        agreement=agreement,
        disclosure=disclosure,
    )


def application_documents(application: Application) -> list[GeneratedDocument]:
    """The application's generated documents, newest first."""
    return list(application.generated_documents.select_related("offer").order_by("-id"))


def generated_document(document_id: int) -> GeneratedDocument:
    """A generated document by id, else NotFound (staff download)."""
    document = (
        GeneratedDocument.objects.select_related("application").filter(pk=document_id).first()
    )
    if document is None:
        raise NotFound("No such document.")
    return document


def get_generated_document_for_customer(customer, document_id: int) -> GeneratedDocument:
    """A generated document of one of `customer`'s applications, else NotFound."""
    document = GeneratedDocument.objects.filter(
        pk=document_id, application__applicant=customer
    ).first()
    if document is None:
        raise NotFound("No such document.")
    return document


def disbursement_batches(limit: int = 60) -> list[DisbursementBatch]:
    return list(DisbursementBatch.objects.order_by("-business_date")[:limit])


def disbursement_batch_file(batch_id: int) -> tuple[str, str]:
    """(file name, NACHA text) of a disbursement batch (staff download)."""
    batch = DisbursementBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("No such disbursement file.")
    return f"disbursements-{batch.business_date:%Y%m%d}.ach", batch.file_text


def disbursement_for(application: Application) -> Disbursement | None:
    return Disbursement.objects.filter(application=application).first()
