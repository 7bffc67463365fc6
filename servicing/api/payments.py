"""Servicing REST API, payments: post a payment, reverse one.

Views parse, call one service, format. API keys need `loans:write`; staff
sessions need servicing.post_payment / reverse_payment.

Idempotency (the `Idempotency-Key` header):

- Payments REQUIRE it. Keys are global across the platform (a unique index
  on Payment.idempotency_key), so use a fresh random key (a UUID) per
  payment. The request fingerprint covers the loan id and the parsed body,
  so a key replayed with the same body on the same loan returns the first
  payment (200, same body, `Idempotent-Replayed: true`), while the same key
  with a different body, or on another loan, is refused with 422
  `idempotency_key_reused`. Concurrent repeats serialise on the loan's row
  lock and the unique index: exactly one payment is written.
- Reversals are idempotent on the payment itself: reversing a reversed
  payment returns it unchanged (200). The header is accepted (and checked)
  but not needed.
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.businessdate import get_business_date
from core.idempotency import REPLAYED_HEADER, idempotency_key
from customers.api.customers import ErrorSerializer
from servicing.api.base import (
    POST_PAYMENT,
    VIEW,
    WRITE_ERRORS,
    key_parameter,
    parse,
)
from servicing.api.loans import (
    PaymentSerializer,
    payment_body,
)
from servicing.models import Payment
from servicing.selectors.loans import get_loan
from servicing.selectors.transactions import get_payment
from servicing.services import payments

REVERSE_PAYMENT = "servicing.reverse_payment"

# --- payments ---------------------------------------------------------------------------------


class PaymentInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text="Whole cents."
    )
    received_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Effective date; default today's business date. An earlier date is a "
        "backdated payment (later payments are re-applied).",
    )
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your reference (check number, trace id).",
    )
    excess = serializers.ChoiceField(
        choices=[("prepayment", "Prepay principal"), ("unapplied", "Hold as unapplied credit")],
        required=False,
        allow_null=True,
        help_text="What to do with money beyond what is due; default the product's setting.",
    )


class PaymentCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, POST_PAYMENT)}

    @extend_schema(
        operation_id="loans_payments_create",
        summary="Post a payment",
        description=(
            "Records a payment on the loan and allocates it (waterfall of the loan's "
            "product). Requires an `Idempotency-Key` header. Keys are global across all "
            "loans: send a fresh UUID per payment and the same key, with the same body, "
            "when retrying. The first request answers 201; a replay of the same key and "
            "body answers 200 with the same payment (header `Idempotent-Replayed: true`); "
            "the same key with a different body or on another loan answers 422 "
            "`idempotency_key_reused`. A closed or charged-off loan answers 409."
        ),
        tags=["loans"],
        parameters=[
            key_parameter(True, "Unique per payment (max 100 printable characters), global.")
        ],
        request=PaymentInputSerializer,
        responses={
            201: PaymentSerializer,
            200: PaymentSerializer,
            422: ErrorSerializer,
            **WRITE_ERRORS,
        },
        examples=[
            OpenApiExample(
                "An ACH payment",
                value={"amount": "106.62", "method": "ach", "reference": "TRACE-0042"},
                request_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        loan = get_loan(pk)
        key, key_errors = idempotency_key(request, required=True)
        data = parse(PaymentInputSerializer, request, key_errors)
        received_on = data.get("received_on")
        request_fingerprint = payments.fingerprint(
            {
                "loan_id": loan.pk,
                "amount": str(data["amount"]),
                "received_on": received_on.isoformat() if received_on else None,
                "method": data["method"],
                "reference": data.get("reference", ""),
                "excess": data.get("excess"),
            }
        )
        result = payments.post_payment(
            loan=loan,
            amount=data["amount"],
            received_on=received_on or get_business_date(),
            method=data["method"],
            channel=Payment.Channel.API,
            reference=data.get("reference", ""),
            excess=data.get("excess"),
            idempotency_key=key,
            request_fingerprint=request_fingerprint,
            acting_user=request.user,
        )
        body = payment_body(result.payment.pk)
        if result.created:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(body, status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"})


_REASON_MISSING = (
    f"Say why the payment is reversed: one of {', '.join(Payment.ReversalReason.values)}."
)


class ReversalInputSerializer(serializers.Serializer):
    # Required with no default: only nsf and ach_return charge the NSF fee.
    reason = serializers.ChoiceField(
        choices=Payment.ReversalReason.choices,
        error_messages={"required": _REASON_MISSING, "null": _REASON_MISSING},
        help_text="Required. nsf and ach_return charge the product's NSF fee; "
        "chargeback and posting_error charge nothing.",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PaymentReverseView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, REVERSE_PAYMENT)}

    @extend_schema(
        operation_id="loans_payments_reverse",
        summary="Reverse a payment",
        description=(
            "Reverses a posted payment (NSF, chargeback, posting error, ACH return): its "
            "money is taken back and every later event re-applied. An NSF or ACH return "
            "assesses the product's NSF fee on today's business date. Idempotent: reversing "
            "a reversed payment returns it unchanged (200) and its first reason stands. "
            "A charged-off or closed loan answers 409."
        ),
        tags=["loans"],
        parameters=[
            key_parameter(False, "Optional: the reversal is idempotent on the payment itself.")
        ],
        request=ReversalInputSerializer,
        responses={200: PaymentSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int, payment_id: int):
        loan = get_loan(pk)
        payment = get_payment(loan, payment_id)
        _key, key_errors = idempotency_key(request, required=False)
        data = parse(ReversalInputSerializer, request, key_errors)
        payments.reverse_payment(
            payment=payment,
            reason=data["reason"],
            note=data.get("note", ""),
            acting_user=request.user,
        )
        return Response(payment_body(payment.pk))


api_patterns = [
    path(
        "loans/<int:pk>/payments/",
        PaymentCreateView.as_view(),
        name="loans-api-payment-create",
    ),
    path(
        "loans/<int:pk>/payments/<int:payment_id>/reverse/",
        PaymentReverseView.as_view(),
        name="loans-api-payment-reverse",
    ),
]
