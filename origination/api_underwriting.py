"""Origination REST API, underwriting: approve, approve conditionally,
counter-offer, decline, conditions, document verification.

Staff sessions need origination.underwrite_application (the services check
it too, with the authority limit: above it origination.approve_above_limit);
an API key needs `applications:write` and its user those permissions.
Rates are in percent here (as everywhere in the API) and fractions in the
services. Every action answers with the full application.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from core.exceptions import NotFound
from origination.api_applications import (
    UNDERWRITE,
    VIEW,
    ApplicationView,
    _transition_schema,
    get_application,
    idempotency_key,
    parse,
    respond,
)
from origination.decisioning.rules import MAX_PRINCIPAL_REASONS
from origination.models import ApplicationDocument, Condition
from origination.services import documents as document_services
from origination.services import underwriting


def _fraction(percent):
    return None if percent is None else percent / Decimal(100)


class UnderwritingView(ApplicationView):
    required_permissions = {"*": (VIEW, UNDERWRITE)}


class UnderwritingDecisionInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    annual_rate = serializers.DecimalField(
        max_digits=9,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal("99.9999"),
        required=False,
        allow_null=True,
        help_text="Annual rate in percent; default the product's grid rate.",
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the decision is contrary to the automatic one.",
    )


class UnderwritingConditionalInput(UnderwritingDecisionInput):
    conditions = serializers.ListField(
        child=serializers.CharField(max_length=2000), allow_empty=False
    )


class UnderwritingCounterOfferInput(UnderwritingDecisionInput):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    term = serializers.IntegerField(min_value=1, help_text="Months.")


class UnderwritingDeclineInput(serializers.Serializer):
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=300),
        allow_empty=False,
        max_length=MAX_PRINCIPAL_REASONS,
        help_text="One to four reason codes from the catalogue (e.g. CREDIT_SCORE) or texts.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class UnderwritingConditionInput(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class UnderwritingNoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class UnderwritingReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ApproveView(UnderwritingView):
    @_transition_schema(
        "applications_approve",
        "Approve the requested terms",
        "From submitted, in underwriting or conditionally approved. 409 `approval_blocked` "
        "(listing them) while required documents are unverified or conditions open; 403 "
        "above the underwriter's authority limit. Offers are made on approval.",
        UnderwritingDecisionInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(UnderwritingDecisionInput, request)
        underwriting.approve(
            app,
            request.user,
            note=data["note"],
            annual_rate=_fraction(data.get("annual_rate")),
            override_reason=data["override_reason"],
        )
        return respond(app)


class ApproveConditionallyView(UnderwritingView):
    @_transition_schema(
        "applications_approve_conditionally",
        "Approve subject to conditions",
        "From submitted or in underwriting; the conditions must be satisfied or waived "
        "before the final approval.",
        UnderwritingConditionalInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(UnderwritingConditionalInput, request)
        underwriting.approve_conditionally(
            app,
            request.user,
            conditions=data["conditions"],
            note=data["note"],
            annual_rate=_fraction(data.get("annual_rate")),
            override_reason=data["override_reason"],
        )
        return respond(app)


class CounterOfferView(UnderwritingView):
    @_transition_schema(
        "applications_counter_offer",
        "Approve different terms (a counter-offer)",
        "Amount and term within the product's limits and allowed terms.",
        UnderwritingCounterOfferInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(UnderwritingCounterOfferInput, request)
        underwriting.counter_offer(
            app,
            request.user,
            amount=data["amount"],
            term=data["term"],
            note=data["note"],
            annual_rate=_fraction(data.get("annual_rate")),
            override_reason=data["override_reason"],
        )
        return respond(app)


class DeclineView(UnderwritingView):
    @_transition_schema(
        "applications_decline",
        "Decline",
        "With one to four principal reasons; the adverse action notice is generated (listed "
        "in generated_documents) and e-mailed.",
        UnderwritingDeclineInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(UnderwritingDeclineInput, request)
        underwriting.decline(
            app,
            request.user,
            reasons=data["reasons"],
            note=data["note"],
            override_reason=data["override_reason"],
        )
        return respond(app)


class ConditionAddView(UnderwritingView):
    @_transition_schema(
        "applications_conditions_create",
        "Add a condition",
        "While submitted, in underwriting or conditionally approved.",
        UnderwritingConditionInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(UnderwritingConditionInput, request)
        underwriting.add_condition(app, data["text"], request.user)
        return respond(app)


def _condition(app, cid: int) -> Condition:
    condition = Condition.objects.filter(pk=cid, application=app).first()
    if condition is None:
        raise NotFound(f"No condition {cid} on application {app.reference}.")
    return condition


class ConditionSatisfyView(UnderwritingView):
    @_transition_schema(
        "applications_conditions_satisfy",
        "Mark a condition satisfied",
        "Satisfying it again answers 200; a waived condition is 409.",
        UnderwritingNoteInput,
    )
    def post(self, request, pk: int, cid: int):
        app = get_application(pk)
        data = parse(UnderwritingNoteInput, request)
        underwriting.satisfy_condition(_condition(app, cid), request.user, data["note"])
        return respond(app)


class ConditionWaiveView(UnderwritingView):
    @_transition_schema(
        "applications_conditions_waive",
        "Waive a condition",
        "Needs a note saying why; a satisfied condition is 409.",
        UnderwritingNoteInput,
    )
    def post(self, request, pk: int, cid: int):
        app = get_application(pk)
        data = parse(UnderwritingNoteInput, request)
        underwriting.waive_condition(_condition(app, cid), request.user, data["note"])
        return respond(app)


def _document(app, did: int) -> ApplicationDocument:
    document = ApplicationDocument.objects.filter(pk=did, application=app).first()
    if document is None:
        raise NotFound(f"No document {did} on application {app.reference}.")
    return document


class DocumentVerifyView(UnderwritingView):
    @_transition_schema(
        "applications_documents_verify",
        "Verify an uploaded document",
        "Verifying it again answers 200; a rejected document is 409 (upload a new one).",
    )
    def post(self, request, pk: int, did: int):
        app = get_application(pk)
        idempotency_key(request)
        document_services.verify_document(_document(app, did), request.user)
        return respond(app)


class DocumentRejectView(UnderwritingView):
    @_transition_schema(
        "applications_documents_reject",
        "Reject an uploaded document, with the reason",
        "A verified document is 409.",
        UnderwritingReasonInput,
    )
    def post(self, request, pk: int, did: int):
        app = get_application(pk)
        data = parse(UnderwritingReasonInput, request)
        document_services.reject_document(_document(app, did), data["reason"], request.user)
        return respond(app)
