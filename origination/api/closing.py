"""Origination REST API, closing (services.closing, services.documents):
applicant documents (upload, download), offers, acceptance, the signing
package and signature. The bank account and disbursement are in
api.disbursement.

Access as in api.applications: `applications:read`/`:write` for API keys,
origination.view_application for staff sessions. Signing through the API is
for integrators that present the documents themselves: they fetch the
package's SHA-256 (GET .../sign), show the borrower exactly those bytes and
send the hash back with the typed name; the IP address and user agent are
taken from the request.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.exceptions import Conflict
from core.middleware import client_ip
from customers.api.customers import ErrorSerializer
from origination.api.applications import (
    READ_ERRORS,
    WRITE_ERRORS,
    ApplicationView,
    _transition_schema,
    idempotency_key,
    key_parameter,
    parse,
    respond,
)
from origination.api.serializers import (
    ApplicationOfferSerializer,
    ApplicationSerializer,
    rate_percent,
)
from origination.selectors.applications import (
    document_on,
    generated_document_on,
    get_application,
    offer_rows,
)
from origination.selectors.closing import read_document, signing_package
from origination.services import adverse_action, closing
from origination.services import documents as document_services

BINARY = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The stored file, with its own content type."
    ),
    **READ_ERRORS,
}


# --- documents ----------------------------------------------------------------------------------


class ApplicationDocumentUploadInput(serializers.Serializer):
    kind = serializers.CharField(
        max_length=40, help_text="One of the product's required document kinds, or 'other'."
    )
    file = serializers.FileField(help_text="PDF, JPEG or PNG (checked from the content).")


class DocumentUploadView(ApplicationView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="applications_documents_create",
        summary="Upload an applicant document (multipart)",
        description=(
            "The type is checked from the bytes: PDF, JPEG or PNG only (an executable "
            "renamed .pdf is refused with 400), within the size limit. Stored with its "
            "SHA-256; an underwriter verifies or rejects it."
        ),
        tags=["applications"],
        parameters=[key_parameter("Optional; every upload is stored (checked, not stored).")],
        request={"multipart/form-data": ApplicationDocumentUploadInput},
        responses={201: ApplicationSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationDocumentUploadInput, request)
        upload = data["file"]
        document_services.upload_document(
            app,
            kind=data["kind"],
            file_name=upload.name,
            data=upload.read(),
            acting_user=request.user,
        )
        return respond(app, 201)


def _download(name: str, content_type: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class DocumentDownloadView(ApplicationView):
    @extend_schema(
        operation_id="applications_documents_download",
        summary="Download an uploaded document",
        tags=["applications"],
        responses=BINARY,
    )
    def get(self, request, pk: int, did: int):
        app = get_application(pk)
        document = document_on(app, did)
        with document.file.open("rb") as handle:
            data = handle.read()
        name = document.file.name.rsplit("/", 1)[-1]
        return _download(name, document.content_type, data)


class GeneratedDocumentDownloadView(ApplicationView):
    @extend_schema(
        operation_id="applications_generated_documents_download",
        summary="Download a generated document (disclosure, agreement, notice, signed package)",
        description="409 `document_tampered` when the stored bytes no longer match the "
        "recorded SHA-256.",
        tags=["applications"],
        responses={**BINARY, 409: ErrorSerializer},
    )
    def get(self, request, pk: int, gid: int):
        app = get_application(pk)
        document = generated_document_on(app, gid)
        name = f"{app.reference}-{document.kind}.pdf"
        return _download(
            name, "application/pdf", read_document(adverse_action.ensure_rendered(document))
        )


# --- offers -------------------------------------------------------------------------------------


class ApplicationOfferListSerializer(serializers.Serializer):
    application_id = serializers.IntegerField()
    state = serializers.CharField()
    offers = ApplicationOfferSerializer(many=True)


class OffersView(ApplicationView):
    @extend_schema(
        operation_id="applications_offers",
        summary="The application's offers",
        description="Made on approval, one per allowed term; oldest first, every status.",
        tags=["applications"],
        responses={200: ApplicationOfferListSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        app = get_application(pk)
        offers = [{**o, "annual_rate": rate_percent(o["annual_rate"])} for o in offer_rows(app)]
        body = {"application_id": app.pk, "state": app.state, "offers": offers}
        return Response(ApplicationOfferListSerializer(body).data)


class OfferAcceptView(ApplicationView):
    @_transition_schema(
        "applications_offers_accept",
        "Accept an offer",
        "approved -> offer_accepted: the other offers are superseded, the Truth in Lending "
        "disclosure and the loan agreement are generated. Accepting it again answers 200.",
    )
    def post(self, request, pk: int, oid: int):
        app = get_application(pk)
        idempotency_key(request)
        closing.accept_offer(application=app, offer_id=oid, user=request.user)
        return respond(app)


# --- signature ----------------------------------------------------------------------------------


class ApplicationSigningPackageSerializer(serializers.Serializer):
    application_id = serializers.IntegerField()
    offer_id = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="Send this back as shown_sha256 to sign.")
    agreement_id = serializers.IntegerField(help_text="Generated document id.")
    disclosure_id = serializers.IntegerField(help_text="Generated document id.")


class ApplicationSignInput(serializers.Serializer):
    typed_name = serializers.CharField(max_length=200, help_text="The applicant's full name.")
    shown_sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", help_text="SHA-256 of the package the borrower was shown."
    )


class SignView(ApplicationView):
    @extend_schema(
        operation_id="applications_signing_package",
        summary="The package to sign and its SHA-256",
        description="The loan agreement followed by the disclosure of the accepted offer "
        "(download each as a generated document). 409 before an offer is accepted.",
        tags=["applications"],
        responses={200: ApplicationSigningPackageSerializer, **READ_ERRORS, 409: ErrorSerializer},
    )
    def get(self, request, pk: int):
        app = get_application(pk)
        package = signing_package(app)
        if package is None:
            raise Conflict("There is no accepted offer to sign.", code="no_documents")
        body = {
            "application_id": app.pk,
            "offer_id": package.offer.pk,
            "sha256": package.sha256,
            "agreement_id": package.agreement.pk,
            "disclosure_id": package.disclosure.pk,
        }
        return Response(ApplicationSigningPackageSerializer(body).data)

    @_transition_schema(
        "applications_sign",
        "Sign the accepted offer's documents",
        "offer_accepted -> documents_signed. Needs the e_records consent (409), the typed "
        "name equal to the applicant's (400) and shown_sha256 equal to the package's hash "
        "now (409 `document_changed`). The evidence (time, IP, user agent, hash) is stored "
        "and the signed PDF is sealed. Signing again answers 200.",
        ApplicationSignInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationSignInput, request)
        closing.sign_documents(
            application=app,
            typed_name=data["typed_name"],
            shown_sha256=data["shown_sha256"],
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            user=request.user,
        )
        return respond(app)
