"""Servicing REST API, charge-off: charge a loan off, record a recovery on
a charged-off loan, refund a credit balance.

Views parse, call servicing.services.chargeoff, format. API keys need
`loans:write`; staff sessions need servicing.view_loan plus charge_off_loan
(charge-off, recoveries) or refund_credit (refunds). An API key is
authorised by its scope, so the services get no acting user from it
(user=None) and the audit trail names the key's integration user from the
request context.

A charge-off of a charged-off loan returns it unchanged (200). Every POST
honours an optional `Idempotency-Key` (core.idempotency): a retry with the
same key and body returns the first result (200, header
`Idempotent-Replayed: true`) and writes nothing.
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.businessdate import get_business_date
from core.idempotency import idempotent
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    MONEY,
    VIEW,
    acting_user,
    amount_field,
    parse,
)
from servicing.api.loans import (
    LoanDetailSerializer,
    LoanEventSerializer,
    event_body,
    loan_detail_body,
)
from servicing.selectors.loans import get_loan
from servicing.services import chargeoff

CHARGE_OFF = "servicing.charge_off_loan"
REFUND_CREDIT = "servicing.refund_credit"

# --- charge-off and recoveries -------------------------------------------------------------


class ChargeOffInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the loan is written off.")


class ChargeOffView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, CHARGE_OFF)}

    @extend_schema(
        operation_id="loans_charge_off",
        summary="Charge off a loan",
        description=(
            "Writes the active loan's receivables off to charge-off expense; the loan is "
            "frozen afterwards (later cash is a recovery). Idempotent: a charged-off loan is "
            "returned unchanged. A loan in another state answers 409 `loan_not_active`; "
            "nothing is written on any error." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=ChargeOffInputSerializer,
        responses={200: LoanDetailSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample("Bankruptcy", value={"reason": "Chapter 7 discharge"}, request_only=True)
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(ChargeOffInputSerializer, request, {})
        chargeoff.charge_off(loan=loan, user=acting_user(request), reason=data["reason"])
        return Response(loan_detail_body(get_loan(loan.pk)))


class RecoveryInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), help_text="Whole cents.")
    received_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="From the charge-off date to today's business date; default today.",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RecoveryCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, CHARGE_OFF)}

    @extend_schema(
        operation_id="loans_recoveries_create",
        summary="Record a recovery",
        description=(
            "Cash received on a charged-off loan, booked to recovery income. A loan that is "
            "not charged off answers 409 `loan_not_charged_off`; a date outside the window "
            "400." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=RecoveryInputSerializer,
        responses={201: LoanEventSerializer, 200: LoanEventSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample(
                "Agency collection",
                value={"amount": "250.00", "received_on": "2026-03-20", "note": "Agency"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(RecoveryInputSerializer, request, {})
        event = chargeoff.record_recovery(
            loan=loan,
            amount=data["amount"],
            received_on=data.get("received_on") or get_business_date(),
            user=acting_user(request),
            note=data["note"],
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


# --- refunds ------------------------------------------------------------------------------


class RefundInputSerializer(serializers.Serializer):
    amount = amount_field()
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="How it is paid."
    )


class RefundCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, REFUND_CREDIT)}

    @extend_schema(
        operation_id="loans_refunds_create",
        summary="Refund credit",
        description=(
            "Pays out part or all of the loan's credit balance. More than the credit "
            "balance answers 400; a charged-off or closed loan 409." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=RefundInputSerializer,
        responses={201: LoanEventSerializer, 200: LoanEventSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(RefundInputSerializer, request)
        event = chargeoff.refund_credit(
            loan=loan,
            amount=data["amount"],
            method_note=data["note"],
            user=acting_user(request),
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


api_patterns = [
    path("loans/<int:pk>/refunds/", RefundCreateView.as_view(), name="loans-api-refund-create"),
    path("loans/<int:pk>/charge-off/", ChargeOffView.as_view(), name="loans-api-charge-off"),
    path(
        "loans/<int:pk>/recoveries/",
        RecoveryCreateView.as_view(),
        name="loans-api-recovery-create",
    ),
]
