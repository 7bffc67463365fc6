"""Origination REST API, application transitions: submit (with the
automatic decision), return, withdraw, assign, consents, and the decision
trace. Conventions (access, idempotency) as in api_applications."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from origination.api.applications import (
    READ_ERRORS,
    UNDERWRITE,
    VIEW,
    ApplicationConsentInput,
    ApplicationView,
    _transition_schema,
    get_application,
    idempotency_key,
    parse,
    respond,
)
from origination.api.serializers import ApplicationReasonSerializer
from origination.models import ApplicationState, DecisionRecord
from origination.services import applications as app_services

# --- transitions --------------------------------------------------------------------------------


class ApplicationReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ApplicationAssignInput(serializers.Serializer):
    username = serializers.CharField(
        allow_null=True, help_text="The staff member to assign; null unassigns."
    )


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
        from users.models import User

        app = get_application(pk)
        data = parse(ApplicationAssignInput, request)
        user = None
        if data["username"]:
            user = User.objects.filter(username=data["username"], kind=User.Kind.STAFF).first()
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
        with transaction.atomic():
            for consent in consents.validated_data:
                app_services.record_consent(app, **consent, acting_user=request.user)
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
        body = {
            "application_id": app.pk,
            "state": app.state,
            "decisions": list(
                DecisionRecord.objects.filter(application=app).order_by("created_at", "id").values()
            ),
            "bureau_pulls": list(
                app.bureau_pulls.order_by("pulled_at", "id").values(
                    "id", "bureau", "status", "attempts", "score", "pulled_at"
                )
            ),
        }
        return Response(ApplicationDecisionTraceSerializer(body).data)
