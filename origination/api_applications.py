"""Origination REST API, applications: create, list, read, edit the draft,
consents, submit (with the automatic decision), return, withdraw, assign,
and the decision trace. Underwriting is in api_underwriting, documents,
offers, signature and funding in api_closing; the body every action answers
with (`application_body`) is here.

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
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import DomainError, NotFound
from customers.api import ErrorSerializer
from customers.models import Customer
from origination.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationState,
    Condition,
    Consent,
    GeneratedDocument,
    LoanProduct,
    Offer,
)
from origination.services import applications as app_services
from origination.services.documents import missing_documents

VIEW = "origination.view_application"
UNDERWRITE = "origination.underwrite_application"
DISBURSE = "origination.disburse_application"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_RE = re.compile(r"[\x21-\x7e]{1,100}")
PERCENT = Decimal("0.0001")
MONEY = {"max_digits": 14, "decimal_places": 2}

READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {400: ErrorSerializer, **READ_ERRORS, 409: ErrorSerializer, 422: ErrorSerializer}


def rate_percent(fraction):
    return None if fraction is None else (Decimal(fraction) * 100).quantize(PERCENT)


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


def get_application(pk: int) -> Application:
    app = Application.objects.select_related("product", "applicant").filter(pk=pk).first()
    if app is None:
        raise NotFound(f"No application {pk}.")
    return app


# --- output serializers -----------------------------------------------------------------------


def _money(**kwargs):
    return serializers.DecimalField(**MONEY, **kwargs)


class ApplicationPartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_number = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class ApplicationProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()


class ApplicationTermsSerializer(serializers.Serializer):
    requested_amount = _money()
    requested_term = serializers.IntegerField(help_text="Months.")
    approved_amount = _money(allow_null=True)
    approved_term = serializers.IntegerField(allow_null=True)
    approved_rate = serializers.DecimalField(
        max_digits=10, decimal_places=4, allow_null=True, help_text="Annual rate in percent."
    )


class ApplicationReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    outcome = serializers.CharField(required=False)
    rule = serializers.CharField(required=False, allow_blank=True)


class ApplicationDecisionSummarySerializer(serializers.Serializer):
    automatic_outcome = serializers.CharField(help_text="approve, decline, refer or blank.")
    credit_score = serializers.IntegerField(allow_null=True)
    scorecard_points = serializers.IntegerField(allow_null=True)
    dti = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    pti = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    latest_kind = serializers.CharField(allow_null=True, help_text="automatic, underwriter, ...")
    latest_outcome = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class ApplicationOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    amount = _money()
    term = serializers.IntegerField()
    annual_rate = serializers.DecimalField(
        max_digits=10, decimal_places=4, help_text="Nominal annual rate in percent."
    )
    apr = serializers.DecimalField(max_digits=9, decimal_places=4, help_text="Percent.")
    payment = _money()
    finance_charge = _money()
    amount_financed = _money()
    total_of_payments = _money()
    first_payment_date = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)


class ApplicationDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    status = serializers.CharField(help_text="uploaded, verified or rejected.")
    rejection_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ApplicationGeneratedDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(
        help_text="tila_disclosure, loan_agreement, adverse_action or signed_package."
    )
    offer_id = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApplicationMissingDocumentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    status = serializers.CharField(help_text="missing, uploaded or rejected.")


class ApplicationConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    status = serializers.CharField(help_text="open, satisfied or waived.")
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class ApplicationConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    wording_version = serializers.CharField()
    given_at = serializers.DateTimeField()


class ApplicationEventSerializer(serializers.Serializer):
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class ApplicationDisbursementSerializer(serializers.Serializer):
    amount = _money(help_text="Net of withheld fees.")
    routing_number = serializers.CharField()
    account_last4 = serializers.CharField()
    account_type = serializers.CharField()
    status = serializers.CharField(help_text="pending or sent.")
    disbursed_on = serializers.DateField()


class ApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.ChoiceField(choices=ApplicationState.choices)
    channel = serializers.CharField()
    product = ApplicationProductSerializer()
    applicant = ApplicationPartySerializer()
    co_applicant = ApplicationPartySerializer(allow_null=True)
    purpose = serializers.CharField()
    employment_status = serializers.CharField(allow_blank=True)
    employer = serializers.CharField(allow_blank=True)
    employment_months = serializers.IntegerField(allow_null=True)
    gross_monthly_income = _money(allow_null=True)
    housing_status = serializers.CharField(allow_blank=True)
    housing_cost = _money()
    other_obligations = _money()
    terms = ApplicationTermsSerializer()
    decision = ApplicationDecisionSummarySerializer()
    reasons = ApplicationReasonSerializer(many=True)
    return_reason = serializers.CharField(allow_blank=True)
    withdraw_reason = serializers.CharField(allow_blank=True)
    assigned_to = serializers.CharField(allow_null=True, help_text="Username.")
    offers = ApplicationOfferSerializer(many=True)
    documents = ApplicationDocumentSerializer(many=True)
    missing_documents = ApplicationMissingDocumentSerializer(many=True)
    generated_documents = ApplicationGeneratedDocumentSerializer(many=True)
    conditions = ApplicationConditionSerializer(many=True)
    consents = ApplicationConsentSerializer(many=True)
    timeline = ApplicationEventSerializer(many=True)
    disbursement = ApplicationDisbursementSerializer(allow_null=True)
    loan_number = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    funded_at = serializers.DateTimeField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)


def _party(customer) -> dict | None:
    if customer is None:
        return None
    return {"id": customer.pk, "customer_number": customer.customer_number, "name": str(customer)}


def application_body(pk: int) -> dict:
    """The full application as the API shows it (about a dozen small queries)."""
    app = (
        Application.objects.select_related("product", "applicant", "co_applicant", "assigned_to")
        .filter(pk=pk)
        .first()
    )
    if app is None:
        raise NotFound(f"No application {pk}.")
    latest = app.decisions.order_by("-created_at", "-id").values("kind", "outcome").first() or {}
    offers = [
        {**o, "annual_rate": rate_percent(o["annual_rate"])}
        for o in Offer.objects.filter(application=app).order_by("id").values()
    ]
    events = [
        {**e, "actor": e.pop("actor__username")}
        for e in ApplicationEvent.objects.filter(application=app)
        .order_by("at", "id")
        .values("from_state", "to_state", "at", "actor__username", "note")
    ]
    disbursement = app.disbursement if hasattr(app, "disbursement") else None
    body = {
        "id": app.pk,
        "reference": app.reference,
        "state": app.state,
        "channel": app.channel,
        "product": {
            "id": app.product_id,
            "code": app.product.code,
            "version": app.product.version,
            "name": app.product.name,
        },
        "applicant": _party(app.applicant),
        "co_applicant": _party(app.co_applicant),
        **{name: getattr(app, name) for name in app_services.EDITABLE_FIELDS[2:]},
        "terms": {
            "requested_amount": app.requested_amount,
            "requested_term": app.requested_term,
            "approved_amount": app.approved_amount,
            "approved_term": app.approved_term,
            "approved_rate": rate_percent(app.approved_rate),
        },
        "decision": {
            "automatic_outcome": app.auto_outcome,
            "credit_score": app.credit_score,
            "scorecard_points": app.scorecard_points,
            "dti": app.dti,
            "pti": app.pti,
            "latest_kind": latest.get("kind"),
            "latest_outcome": latest.get("outcome"),
            "decided_at": app.decided_at,
        },
        "reasons": app.decision_reasons,
        "return_reason": app.return_reason,
        "withdraw_reason": app.withdraw_reason,
        "assigned_to": app.assigned_to.get_username() if app.assigned_to else None,
        "offers": offers,
        "documents": list(
            ApplicationDocument.objects.filter(application=app).order_by("id").values()
        ),
        "missing_documents": missing_documents(app),
        "generated_documents": list(
            GeneratedDocument.objects.filter(application=app).order_by("id").values()
        ),
        "conditions": list(Condition.objects.filter(application=app).order_by("id").values()),
        "consents": list(Consent.objects.filter(application=app).order_by("id").values()),
        "timeline": events,
        "disbursement": disbursement
        and {
            "amount": disbursement.amount,
            "routing_number": disbursement.routing_number,
            "account_last4": disbursement.account_last4,
            "account_type": disbursement.account_type,
            "status": disbursement.status,
            "disbursed_on": disbursement.disbursed_on,
        },
        "loan_number": app.loan_number,
        "created_at": app.created_at,
        "submitted_at": app.submitted_at,
        "funded_at": app.funded_at,
        "expires_on": app.expires_on,
    }
    return ApplicationSerializer(body).data


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
    requested_amount = serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), help_text="Whole cents, within the product's limits."
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
    given = set(app.consents.values_list("kind", "wording_version"))
    return all((c["kind"], c["wording_version"]) in given for c in data.get("consents", []))


def _customer(pk, field: str, errors: dict):
    if pk is None:
        return None
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        errors[field] = [f"No customer {pk}."]
    return customer


class ApplicationFilter(serializers.Serializer):
    state = serializers.ChoiceField(choices=ApplicationState.choices, required=False)
    product = serializers.CharField(required=False, help_text="Product code (any version).")
    customer = serializers.IntegerField(required=False, help_text="Applicant or co-applicant id.")


class ApplicationListItem(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.CharField()
    channel = serializers.CharField()
    product_code = serializers.CharField()
    product_version = serializers.IntegerField()
    applicant_id = serializers.IntegerField()
    applicant_name = serializers.CharField()
    requested_amount = _money()
    requested_term = serializers.IntegerField()
    approved_amount = _money(allow_null=True)
    credit_score = serializers.IntegerField(allow_null=True)
    auto_outcome = serializers.CharField(allow_blank=True)
    loan_number = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


LIST_FIELDS = {
    "product_code": "product__code",
    "product_version": "product__version",
    "applicant_name": "applicant__legal_name",
}


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
        rows = Application.objects.order_by("-id")
        if "state" in f:
            rows = rows.filter(state=f["state"])
        if "product" in f:
            rows = rows.filter(product__code=f["product"])
        if "customer" in f:
            rows = rows.filter(Q(applicant_id=f["customer"]) | Q(co_applicant_id=f["customer"]))
        names = [n for n in ApplicationListItem._declared_fields if n not in LIST_FIELDS]
        expressions = {name: F(path) for name, path in LIST_FIELDS.items()}
        page = self.paginate_queryset(rows.values(*names, **expressions))
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
            existing = Application.objects.select_related("product").filter(idempotency_key=key)
            existing = existing.first()
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
        product = LoanProduct.objects.filter(code=data["product"], is_active=True).first()
        if product is None:
            errors["product"] = [f"No product {data['product']!r} is offered."]
        if errors:
            raise serializers.ValidationError(errors)
        # One transaction: a consent refused after the draft was created leaves nothing.
        with transaction.atomic():
            app = app_services.start_application(
                applicant=applicant,
                co_applicant=co_applicant,
                product=product,
                channel=Application.Channel.API,
                data=_fields(data),
                acting_user=request.user,
                idempotency_key=key,
            )
            for consent in data.get("consents", []):
                app_services.record_consent(app, **consent, acting_user=request.user)
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
