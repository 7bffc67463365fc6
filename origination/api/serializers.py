"""Origination REST API: what every application action answers with. The
output serializers (one per part of the application) and `application_body`,
the full application as the API shows it; the list's row serializer too.
Rates are in percent here, fractions in the models and services."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from origination.models import ApplicationState
from origination.selectors.applications import application_detail
from origination.services import applications as app_services
from origination.services.documents import missing_documents

PERCENT = Decimal("0.0001")
MONEY = {"max_digits": 14, "decimal_places": 2}


def rate_percent(fraction):
    return None if fraction is None else (Decimal(fraction) * 100).quantize(PERCENT)


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
    """The full application as the API shows it (about a dozen small queries,
    selectors.applications.application_detail and the missing documents)."""
    app, rows = application_detail(pk)
    latest = rows["latest_decision"]
    offers = [{**o, "annual_rate": rate_percent(o["annual_rate"])} for o in rows["offers"]]
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
        "documents": rows["documents"],
        "missing_documents": missing_documents(app),
        "generated_documents": rows["generated_documents"],
        "conditions": rows["conditions"],
        "consents": rows["consents"],
        "timeline": rows["timeline"],
        "disbursement": rows["disbursement"],
        "loan_number": app.loan_number,
        "created_at": app.created_at,
        "submitted_at": app.submitted_at,
        "funded_at": app.funded_at,
        "expires_on": app.expires_on,
    }
    return ApplicationSerializer(body).data


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
