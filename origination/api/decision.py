"""Origination REST API, the decision (services.decision through
services.applications): submit or resubmit with the automatic decision, and
the decision trace. Conventions (access, idempotency) as in
api.applications."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from origination.api.applications import (
    READ_ERRORS,
    ApplicationView,
    _transition_schema,
    idempotency_key,
    respond,
)
from origination.api.serializers import ApplicationReasonSerializer
from origination.models import ApplicationState
from origination.selectors.applications import decision_trace, get_application
from origination.services import applications as app_services


class SubmitView(ApplicationView):
    @_transition_schema(
        "applications_submit",
        "Submit (or resubmit) and decide automatically",
        "Needs the credit_pull and e_records consents, income and employment (400 naming "
        "what is missing, nothing written). Runs the automatic decision synchronously: the "
        "answer carries the state (approved, declined or in_underwriting), the decision, "
        "its reasons and, when approved, the offers. Submitting a decided application is 409.",
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        idempotency_key(request)
        if app.state == ApplicationState.RETURNED:
            app_services.resubmit(app, acting_user=request.user)
        else:
            app_services.submit(app, acting_user=request.user)
        return respond(app)


# --- the decision trace ------------------------------------------------------------------------


class ApplicationDecisionRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    outcome = serializers.CharField()
    reasons = ApplicationReasonSerializer(many=True)
    trace = serializers.JSONField(help_text="Every rule, scorecard line, KYC and sanctions check.")
    inputs = serializers.JSONField(help_text="The variables the rules saw.")
    rule_set_version = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ApplicationBureauPullSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bureau = serializers.CharField()
    status = serializers.CharField(help_text="ok, no_hit or unavailable.")
    attempts = serializers.IntegerField()
    score = serializers.IntegerField(allow_null=True)
    pulled_at = serializers.DateTimeField()


class ApplicationDecisionTraceSerializer(serializers.Serializer):
    application_id = serializers.IntegerField()
    state = serializers.CharField()
    decisions = ApplicationDecisionRecordSerializer(many=True)
    bureau_pulls = ApplicationBureauPullSerializer(many=True)


class DecisionView(ApplicationView):
    @extend_schema(
        operation_id="applications_decision",
        summary="The full decision trace",
        description="Every decision (automatic and by underwriters) with its stored trace "
        "and inputs, oldest first, and the bureau pulls (without the raw report).",
        tags=["applications"],
        responses={200: ApplicationDecisionTraceSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        app = get_application(pk)
        body = {"application_id": app.pk, "state": app.state, **decision_trace(app)}
        return Response(ApplicationDecisionTraceSerializer(body).data)
