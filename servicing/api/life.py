"""Servicing REST API, a loan's life events: payoff quotes, manual fees and
waivers, credit refunds, and the list of statements.

Views parse, call one service, format. API keys need `loans:write` for every
POST (a payoff quote is stored, so it writes too) and `loans:read` for the
statement list; staff sessions need servicing.view_loan plus assess_fee or
refund_credit. An API key is authorised by its scope, so the services get
no acting user from it (user=None) and the audit trail names the key's
integration user from the request context.

Every POST here honours an optional `Idempotency-Key` header
(core.idempotency): a retry with the same key and body returns the first
result (200, header `Idempotent-Replayed: true`) and writes nothing.
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.finance.servicing import FEE_KINDS
from core.idempotency import idempotent
from customers.api.customers import ErrorSerializer
from servicing.api.actions import _key_parameter
from servicing.api.loans import READ_ERRORS, VIEW, get_loan
from servicing.services import chargeoff, fees, payoff, statements
from users.models import ApiKey

ASSESS_FEE = "servicing.assess_fee"
REFUND_CREDIT = "servicing.refund_credit"
MONEY = {"max_digits": 14, "decimal_places": 2}

WRITE_ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
# POSTs decorated with core.idempotency.idempotent (here, lifecycle.py, requests.py).
IDEMPOTENT_ERRORS = {**WRITE_ERRORS, 422: ErrorSerializer}
KEY_REPLAY = (
    " With an `Idempotency-Key` header, a retry with the same key and body returns the "
    "first result (200, header `Idempotent-Replayed: true`) and writes nothing; the same "
    "key with a different body answers 422 `idempotency_key_reused`. Keys are per caller; "
    "a failed request stores nothing, so its key may be retried."
)
KEY_PARAMETER = _key_parameter(
    False, "Optional, per caller (max 100 printable characters): a retry returns the first result."
)


def acting_user(request):
    """The staff user for the services' permission checks; None for an API
    key, which ApiAccess already authorised by its scope."""
    if isinstance(request.auth, ApiKey):
        return None
    return request.user


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _amount(**kwargs):
    return serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), help_text="Whole cents.", **kwargs
    )


# --- payoff quotes ------------------------------------------------------------------------


class PayoffQuoteInputSerializer(serializers.Serializer):
    good_through = serializers.DateField(
        help_text="From today's business date, at most the product's quote horizon ahead."
    )


class PayoffQuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quoted_on = serializers.DateField()
    good_through = serializers.DateField()
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    interest_due = serializers.DecimalField(**MONEY, help_text="Interest already due, unpaid.")
    interest_accrued = serializers.DecimalField(
        **MONEY, help_text="Interest accrued since the last due date."
    )
    fees = serializers.DecimalField(**MONEY)
    penalties = serializers.DecimalField(**MONEY)
    credit = serializers.DecimalField(**MONEY, help_text="Credit held, deducted from the total.")
    total = serializers.DecimalField(**MONEY)
    per_diem = serializers.DecimalField(**MONEY, help_text="Interest per further day.")
    sha256 = serializers.CharField(help_text="SHA-256 of the payoff letter (PDF).")


def payoff_body(quote) -> dict:
    items = quote.itemisation
    return {
        "id": quote.pk,
        "quoted_on": quote.quoted_on.isoformat(),
        "good_through": quote.good_through.isoformat(),
        **{
            name: items[name]
            for name in (
                "principal",
                "interest",
                "interest_due",
                "interest_accrued",
                "fees",
                "penalties",
                "credit",
                "total",
                "per_diem",
            )
        },
        "sha256": quote.sha256,
    }


class PayoffQuoteCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW,)}

    @extend_schema(
        operation_id="loans_payoff_quotes_create",
        summary="Quote the payoff",
        description=(
            "Stores an itemised payoff quote good through the given date, with its letter "
            "(PDF). A date before today's business date, or too far ahead, answers 400; a "
            "loan that is not active answers 409. Nothing is written on any error." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=PayoffQuoteInputSerializer,
        responses={201: PayoffQuoteSerializer, 200: PayoffQuoteSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample(
                "Good through a date", value={"good_through": "2026-01-30"}, request_only=True
            )
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = _parse(PayoffQuoteInputSerializer, request)
        quote = payoff.payoff_quote(
            loan=loan, good_through=data["good_through"], user=acting_user(request)
        )
        return Response(payoff_body(quote), status=status.HTTP_201_CREATED)


# --- fees and waivers ---------------------------------------------------------------------


class LoanFeeInputSerializer(serializers.Serializer):
    amount = _amount()
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
    amount = _amount()
    reason = serializers.CharField(max_length=200, help_text="Why the fee is waived.")


class LoanEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    effective_date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    details = serializers.DictField(help_text="The event's details (fee kind, note, reason).")


def event_body(event) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "effective_date": event.effective_date.isoformat(),
        "amount": str(event.amount),
        "details": event.details,
    }


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
        data = _parse(LoanFeeInputSerializer, request)
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
        data = _parse(WaiverInputSerializer, request)
        event = fees.waive_fee(
            loan=loan,
            fee_event_id=event_id,
            amount=data["amount"],
            reason=data["reason"],
            user=acting_user(request),
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


# --- refunds ------------------------------------------------------------------------------


class RefundInputSerializer(serializers.Serializer):
    amount = _amount()
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
        data = _parse(RefundInputSerializer, request)
        event = chargeoff.refund_credit(
            loan=loan,
            amount=data["amount"],
            method_note=data["note"],
            user=acting_user(request),
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


# --- statements ---------------------------------------------------------------------------


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class StatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    statement_date = serializers.DateField()
    period = PeriodSerializer()
    amount_due = serializers.DecimalField(**MONEY)
    due_date = serializers.DateField(allow_null=True)
    sha256 = serializers.CharField()


class StatementListView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,)}

    @extend_schema(
        operation_id="loans_statements_list",
        summary="List statements",
        description="The loan's statements, newest first (the PDFs are not included).",
        tags=["loans"],
        responses={200: StatementSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        rows = statements.list_statements(loan).values(
            "id", "statement_date", "period_start", "period_end", "amount_due", "due_date", "sha256"
        )
        body = [
            {
                "id": row["id"],
                "statement_date": row["statement_date"].isoformat(),
                "period": {
                    "start": row["period_start"].isoformat(),
                    "end": row["period_end"].isoformat(),
                },
                "amount_due": str(row["amount_due"]),
                "due_date": row["due_date"].isoformat() if row["due_date"] else None,
                "sha256": row["sha256"],
            }
            for row in rows
        ]
        return Response(body)


api_patterns = [
    path(
        "loans/<int:pk>/payoff-quotes/",
        PayoffQuoteCreateView.as_view(),
        name="loans-api-payoff-quote-create",
    ),
    path("loans/<int:pk>/fees/", FeeCreateView.as_view(), name="loans-api-fee-create"),
    path(
        "loans/<int:pk>/fees/<int:event_id>/waive/",
        FeeWaiveView.as_view(),
        name="loans-api-fee-waive",
    ),
    path("loans/<int:pk>/refunds/", RefundCreateView.as_view(), name="loans-api-refund-create"),
    path("loans/<int:pk>/statements/", StatementListView.as_view(), name="loans-api-statements"),
]
