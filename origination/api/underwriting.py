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

from origination.api.applications import (
    UNDERWRITE,
    VIEW,
    ApplicationView,
    _transition_schema,
    idempotency_key,
    parse,
    respond,
)
from origination.decisioning.rules import MAX_PRINCIPAL_REASONS
from origination.forms import underwriting as actions
from origination.selectors.applications import get_application


class UnderwritingView(ApplicationView):
    required_permissions = {"*": (VIEW, UNDERWRITE)}

    def act(self, request, pk: int, action, input_class=None, **ids):
        """Parse the body (or, without one, check the key), run the shared
        action (forms.underwriting) and answer with the application."""
        app = get_application(pk)
        if input_class is None:
            idempotency_key(request)
            data = {}
        else:
            data = parse(input_class, request)
        action(app, request.user, data, **ids)
        return respond(app)


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
        return self.act(request, pk, actions.approve, UnderwritingDecisionInput)


class ApproveConditionallyView(UnderwritingView):
    @_transition_schema(
        "applications_approve_conditionally",
        "Approve subject to conditions",
        "From submitted or in underwriting; the conditions must be satisfied or waived "
        "before the final approval.",
        UnderwritingConditionalInput,
    )
    def post(self, request, pk: int):
        return self.act(request, pk, actions.approve_conditionally, UnderwritingConditionalInput)


class CounterOfferView(UnderwritingView):
    @_transition_schema(
        "applications_counter_offer",
        "Approve different terms (a counter-offer)",
        "Amount and term within the product's limits and allowed terms.",
        UnderwritingCounterOfferInput,
    )
    def post(self, request, pk: int):
        return self.act(request, pk, actions.counter_offer, UnderwritingCounterOfferInput)


class DeclineView(UnderwritingView):
    @_transition_schema(
        "applications_decline",
        "Decline",
        "With one to four principal reasons; the adverse action notice is generated (listed "
        "in generated_documents) and e-mailed.",
        UnderwritingDeclineInput,
    )
    def post(self, request, pk: int):
        return self.act(request, pk, actions.decline, UnderwritingDeclineInput)


class ConditionAddView(UnderwritingView):
    @_transition_schema(
        "applications_conditions_create",
        "Add a condition",
        "While submitted, in underwriting or conditionally approved.",
        UnderwritingConditionInput,
    )
    def post(self, request, pk: int):
        return self.act(request, pk, actions.add_condition, UnderwritingConditionInput)


class ConditionSatisfyView(UnderwritingView):
    @_transition_schema(
        "applications_conditions_satisfy",
        "Mark a condition satisfied",
        "Satisfying it again answers 200; a waived condition is 409.",
        UnderwritingNoteInput,
    )
    def post(self, request, pk: int, cid: int):
        return self.act(
            request, pk, actions.satisfy_condition, UnderwritingNoteInput, condition_id=cid
        )


class ConditionWaiveView(UnderwritingView):
    @_transition_schema(
        "applications_conditions_waive",
        "Waive a condition",
        "Needs a note saying why; a satisfied condition is 409.",
        UnderwritingNoteInput,
    )
    def post(self, request, pk: int, cid: int):
        return self.act(
            request, pk, actions.waive_condition, UnderwritingNoteInput, condition_id=cid
        )


class DocumentVerifyView(UnderwritingView):
    @_transition_schema(
        "applications_documents_verify",
        "Verify an uploaded document",
        "Verifying it again answers 200; a rejected document is 409 (upload a new one).",
    )
    def post(self, request, pk: int, did: int):
        return self.act(request, pk, actions.verify_document, document_id=did)


class DocumentRejectView(UnderwritingView):
    @_transition_schema(
        "applications_documents_reject",
        "Reject an uploaded document, with the reason",
        "A verified document is 409.",
        UnderwritingReasonInput,
    )
    def post(self, request, pk: int, did: int):
        return self.act(
            request, pk, actions.reject_document, UnderwritingReasonInput, document_id=did
        )
