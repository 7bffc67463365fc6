"""Servicing REST API, fees: assess a manual fee, waive one.

Views parse, call servicing.services.fees, format. API keys need
`loans:write`; staff sessions need servicing.view_loan and assess_fee. An
API key is authorised by its scope, so the services get no acting user from
it (user=None) and the audit trail names the key's integration user from the
request context.

Every POST here honours an optional `Idempotency-Key` header
(core.idempotency): a retry with the same key and body returns the first
result (200, header `Idempotent-Replayed: true`) and writes nothing.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.finance.servicing import FEE_KINDS
from core.idempotency import idempotent
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    VIEW,
    acting_user,
    amount_field,
    parse,
)
from servicing.api.loans import LoanEventSerializer, event_body
from servicing.selectors.loans import get_loan
from servicing.services import fees

ASSESS_FEE = "servicing.assess_fee"

# --- fees and waivers ---------------------------------------------------------------------


class LoanFeeInputSerializer(serializers.Serializer):
    amount = amount_field()
    # A plain string checked below: a choice field would add a `kind` enum to the
    # schema colliding with the other `kind` enums.
    kind = serializers.CharField(
        max_length=20, default="other", help_text=f"One of: {', '.join(FEE_KINDS)}."
    )
    note = serializers.CharField(max_length=200, help_text="Why the fee is charged.")

    def validate_kind(self, value: str) -> str:
        if value not in FEE_KINDS:
            raise serializers.ValidationError(f"Choose one of {', '.join(FEE_KINDS)}.")
        return value


class WaiverInputSerializer(serializers.Serializer):
    amount = amount_field()
    reason = serializers.CharField(max_length=200, help_text="Why the fee is waived.")


class FeeCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, ASSESS_FEE)}

    @extend_schema(
        operation_id="loans_fees_create",
        summary="Assess a fee",
        description=(
            "Charges a fee due on today's business date. A charged-off or closed loan answers "
            "409." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=LoanFeeInputSerializer,
        responses={201: LoanEventSerializer, 200: LoanEventSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(LoanFeeInputSerializer, request)
        event = fees.assess_fee(
            loan=loan,
            amount=data["amount"],
            kind=data["kind"],
            note=data["note"],
            user=acting_user(request),
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


class FeeWaiveView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, ASSESS_FEE)}

    @extend_schema(
        operation_id="loans_fees_waive",
        summary="Waive a fee",
        description=(
            "Waives all or part of an assessed fee: the unpaid part is cancelled, a part "
            "already paid returns as credit. More than is left to waive answers 400; an "
            "unknown fee 404." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=WaiverInputSerializer,
        responses={201: LoanEventSerializer, 200: LoanEventSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int, event_id: int):
        loan = get_loan(pk)
        data = parse(WaiverInputSerializer, request)
        event = fees.waive_fee(
            loan=loan,
            fee_event_id=event_id,
            amount=data["amount"],
            reason=data["reason"],
            user=acting_user(request),
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


api_patterns = [
    path("loans/<int:pk>/fees/", FeeCreateView.as_view(), name="loans-api-fee-create"),
    path(
        "loans/<int:pk>/fees/<int:event_id>/waive/",
        FeeWaiveView.as_view(),
        name="loans-api-fee-waive",
    ),
]
