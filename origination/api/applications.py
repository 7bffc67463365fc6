"""Origination REST API, applications (services.applications): create,
list, read, edit the draft, consents, return, withdraw, assign. Submission
(with the automatic decision) and the decision trace are in api.decision,
underwriting in api.underwriting, documents, offers and signature in
api.closing, the bank account and funding in api.disbursement, the sanctions
review in api.kyc, the pipeline figures in api.pipeline; the body every
action answers with (`application_body`) and its serializers in
api.serializers.

Access: API keys need `applications:read` (GET) or `applications:write`;
staff sessions need origination.view_application, plus whatever the service
checks (underwriting, disbursing); borrowers use the portal, never this.

Idempotency (the `Idempotency-Key` header):

- Creation: the key is stored on the application (unique). A replay with
  the same body returns the first application (200, `Idempotent-Replayed:
  true`); the same key with a different body (compared with the
  application as it now stands) is 422 `idempotency_key_reused`.
- Transitions are idempotent in the services: repeating one that already
  happened answers 200 with the application unchanged where the service
  treats it as a no-op, else 409 naming the state. The header is accepted
  and checked, not needed.
"""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import DomainError
from customers.api.customers import ErrorSerializer
from origination.api.serializers import (
    MONEY,
    ApplicationListItem,
    ApplicationSerializer,
    application_body,
)
from origination.models import Application, ApplicationState, Consent
from origination.selectors.applications import (
    LIST_RELATED_FIELDS,
    active_product,
    application_for_key,
    application_rows,
    consent_versions,
    customer_by_pk,
    get_application,
)
from origination.selectors.pipeline import staff_member
from origination.services import applications as app_services

VIEW = "origination.view_application"
UNDERWRITE = "origination.underwrite_application"
DISBURSE = "origination.disburse_application"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_RE = re.compile(r"[\x21-\x7e]{1,100}")

READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {400: ErrorSerializer, **READ_ERRORS, 409: ErrorSerializer, 422: ErrorSerializer}


def idempotency_key(request) -> str | None:
    """The request's Idempotency-Key (optional), or a 400 naming the header."""
    raw = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not raw:
        return None
    if not _KEY_RE.fullmatch(raw):
        raise serializers.ValidationError(
            {IDEMPOTENCY_HEADER: ["Use 1 to 100 printable ASCII characters without spaces."]}
        )
    return raw


def key_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name=IDEMPOTENCY_HEADER,
        type=OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=False,
        description=description,
    )


TRANSITION_KEY = key_parameter(
    "Optional: the transition is idempotent in the service (checked, not stored)."
)


def parse(serializer_class, request) -> dict:
    """The validated body; one 400 listing every bad field and the header's error."""
    idempotency_key(request)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def respond(app_or_pk, code: int = status.HTTP_200_OK, headers=None) -> Response:
    pk = getattr(app_or_pk, "pk", app_or_pk)
    return Response(application_body(pk), status=code, headers=headers)


class ApplicationView(APIView):
    api_scope = "applications"
    required_permissions = {"*": (VIEW,)}


# --- create, list, read, edit -----------------------------------------------------------------


class ApplicationConsentInput(serializers.Serializer):
    kind = serializers.CharField(help_text="credit_pull, e_records or privacy.")
    wording_version = serializers.CharField(max_length=20)
    text = serializers.CharField(help_text="The wording the applicant agreed to.")
    given_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When they agreed; default now."
    )

    def validate_kind(self, value):
        if value not in Consent.Kind.values:
            raise serializers.ValidationError("Choose one of: " + ", ".join(Consent.Kind.values))
        return value


class ApplicationFieldsInput(serializers.Serializer):
    # The product's range is checked by the service, which states it (a negative too).
    requested_amount = serializers.DecimalField(
        **MONEY, help_text="Whole cents, within the product's limits."
    )
    requested_term = serializers.IntegerField(min_value=1, help_text="Months (allowed terms).")
    purpose = serializers.ChoiceField(choices=Application.Purpose.choices, required=False)
    employment_status = serializers.ChoiceField(
        choices=Application.EmploymentStatus.choices, required=False, allow_blank=True
    )
    employer = serializers.CharField(max_length=200, required=False, allow_blank=True)
    employment_months = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    gross_monthly_income = serializers.DecimalField(
        **MONEY, min_value=0, required=False, allow_null=True
    )
    housing_status = serializers.ChoiceField(
        choices=Application.HousingStatus.choices, required=False, allow_blank=True
    )
    housing_cost = serializers.DecimalField(**MONEY, min_value=0, required=False)
    other_obligations = serializers.DecimalField(**MONEY, min_value=0, required=False)


class ApplicationCreateInput(ApplicationFieldsInput):
    applicant = serializers.IntegerField(help_text="Customer id of the applicant.")
    co_applicant = serializers.IntegerField(required=False, allow_null=True)
    product = serializers.CharField(help_text="Product code; its current version is used.")
    consents = ApplicationConsentInput(many=True, required=False)


class ApplicationPatchInput(ApplicationFieldsInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


EXAMPLE = {
    "applicant": 42,
    "product": "personal-loan",
    "requested_amount": "10000.00",
    "requested_term": 36,
    "purpose": "debt_consolidation",
    "employment_status": "employed",
    "employer": "Acme Corp",
    "employment_months": 60,
    "gross_monthly_income": "8500.00",
    "housing_status": "rent",
    "housing_cost": "1500.00",
    "other_obligations": "250.00",
    "consents": [
        {
            "kind": "credit_pull",
            "wording_version": "2026-01",
            "text": "I authorize a credit report pull.",
            "given_at": "2026-03-02T10:15:00Z",
        }
    ],
}


def _fields(data: dict) -> dict:
    return {k: data[k] for k in app_services.EDITABLE_FIELDS if k in data}


def _same_request(app: Application, data: dict) -> bool:
    """Does `data` describe `app` as it stands (the replay check)?"""
    if app.applicant_id != data["applicant"] or app.co_applicant_id != data.get("co_applicant"):
        return False
    if app.product.code != data["product"]:
        return False
    for name, value in _fields(data).items():
        stored = getattr(app, name)
        if (stored if stored is not None else "") != (value if value is not None else ""):
            return False
    given = consent_versions(app)
    return all((c["kind"], c["wording_version"]) in given for c in data.get("consents", []))


def _customer(pk, field: str, errors: dict):
    if pk is None:
        return None
    customer = customer_by_pk(pk)
    if customer is None:
        errors[field] = [f"No customer {pk}."]
    return customer


class ApplicationFilter(serializers.Serializer):
    state = serializers.ChoiceField(choices=ApplicationState.choices, required=False)
    product = serializers.CharField(required=False, help_text="Product code (any version).")
    customer = serializers.IntegerField(required=False, help_text="Applicant or co-applicant id.")


class ApplicationListCreateView(ApplicationView, GenericAPIView):
    serializer_class = ApplicationListItem
    filter_backends: list = []

    @extend_schema(
        operation_id="applications_list",
        summary="List applications",
        description="Newest first; paginated (`page`, `page_size` up to 200).",
        tags=["applications"],
        parameters=[ApplicationFilter],
        responses={200: ApplicationListItem(many=True), 400: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request):
        filters = ApplicationFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        names = [n for n in ApplicationListItem._declared_fields if n not in LIST_RELATED_FIELDS]
        rows = application_rows(
            names,
            state=f.get("state", ""),
            product_code=f.get("product", ""),
            customer=f.get("customer"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ApplicationListItem(page, many=True).data)

    @extend_schema(
        operation_id="applications_create",
        summary="Start an application for an existing customer",
        description=(
            "Creates a draft (channel api) with its consents, all or nothing. Optional "
            "`Idempotency-Key`: a replay with the same body answers 200 with the first "
            "application (`Idempotent-Replayed: true`); the same key with a different "
            "body answers 422 `idempotency_key_reused`."
        ),
        tags=["applications"],
        parameters=[key_parameter("Unique per application (max 100 printable characters).")],
        request=ApplicationCreateInput,
        responses={201: ApplicationSerializer, 200: ApplicationSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("A personal loan", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        data = parse(ApplicationCreateInput, request)
        key = idempotency_key(request)
        if key:
            existing = application_for_key(key)
            if existing is not None:
                if not _same_request(existing, data):
                    raise DomainError(
                        "This Idempotency-Key was used for a different application.",
                        code="idempotency_key_reused",
                        fields={IDEMPOTENCY_HEADER: ["Send a new key for a new application."]},
                    )
                return respond(existing, headers={REPLAYED_HEADER: "true"})
        errors: dict = {}
        applicant = _customer(data["applicant"], "applicant", errors)
        co_applicant = _customer(data.get("co_applicant"), "co_applicant", errors)
        product = active_product(data["product"])
        if product is None:
            errors["product"] = [f"No product {data['product']!r} is offered."]
        if errors:
            raise serializers.ValidationError(errors)
        app = app_services.start_application_with_consents(
            applicant=applicant,
            co_applicant=co_applicant,
            product=product,
            channel=Application.Channel.API,
            data=_fields(data),
            consents=data.get("consents", []),
            acting_user=request.user,
            idempotency_key=key,
        )
        return respond(app, status.HTTP_201_CREATED)


class ApplicationDetailView(ApplicationView):
    @extend_schema(
        operation_id="applications_retrieve",
        summary="Get an application: state, terms, decision, offers, documents, timeline",
        tags=["applications"],
        responses={200: ApplicationSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        return respond(pk)

    @extend_schema(
        operation_id="applications_update",
        summary="Edit a draft (or an application returned for information)",
        description="Only the fields sent change. Any other state answers 409 `not_editable`.",
        tags=["applications"],
        request=ApplicationPatchInput,
        responses={200: ApplicationSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationPatchInput, request)
        app_services.update_draft(app, _fields(data), acting_user=request.user)
        return respond(app)


def _transition_schema(operation_id: str, summary: str, description: str, request=None):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=["applications"],
        parameters=[TRANSITION_KEY],
        request=request,
        responses={200: ApplicationSerializer, **WRITE_ERRORS},
    )


# --- return, withdraw, assign, consents -------------------------------------------------------


class ApplicationReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ApplicationAssignInput(serializers.Serializer):
    username = serializers.CharField(
        allow_null=True, help_text="The staff member to assign; null unassigns."
    )


class ReturnView(ApplicationView):
    required_permissions = {"*": (VIEW, UNDERWRITE)}

    @_transition_schema(
        "applications_return",
        "Return to the applicant for more information",
        "From submitted, in underwriting or conditionally approved.",
        ApplicationReasonInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationReasonInput, request)
        app_services.return_for_info(app, data["reason"], acting_user=request.user)
        return respond(app)


class WithdrawView(ApplicationView):
    @_transition_schema(
        "applications_withdraw",
        "Withdraw the application",
        "From any state that is not final; withdrawing again answers 200 unchanged.",
        ApplicationReasonInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationReasonInput, request)
        app_services.withdraw(app, data["reason"], acting_user=request.user)
        return respond(app)


class AssignView(ApplicationView):
    @_transition_schema(
        "applications_assign",
        "Assign (or unassign) the application",
        "To a staff member who may work on applications (403 otherwise).",
        ApplicationAssignInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationAssignInput, request)
        user = None
        if data["username"]:
            user = staff_member(data["username"])
            if user is None:
                raise serializers.ValidationError({"username": ["No such staff member."]})
        app_services.assign(app, user, acting_user=request.user)
        return respond(app)


class ConsentsView(ApplicationView):
    @_transition_schema(
        "applications_consents",
        "Record consents",
        "Idempotent per kind and wording version.",
        ApplicationConsentInput(many=True),
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        idempotency_key(request)
        consents = ApplicationConsentInput(data=request.data, many=True)
        consents.is_valid(raise_exception=True)
        app_services.record_consents(app, consents.validated_data, acting_user=request.user)
        return respond(app)
