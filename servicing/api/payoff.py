"""Servicing REST API, payoff: quote what pays a loan off on a date.

The view parses, calls servicing.services.payoff, formats. API keys need
`loans:write` (a payoff quote is stored, so it writes); staff sessions need
servicing.view_loan.

Every POST here honours an optional `Idempotency-Key` header
(core.idempotency): a retry with the same key and body returns the first
result (200, header `Idempotent-Replayed: true`) and writes nothing.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    MONEY,
    VIEW,
    acting_user,
    parse,
)
from servicing.selectors.loans import get_loan
from servicing.services import payoff

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
        data = parse(PayoffQuoteInputSerializer, request)
        quote = payoff.payoff_quote(
            loan=loan, good_through=data["good_through"], user=acting_user(request)
        )
        return Response(payoff_body(quote), status=status.HTTP_201_CREATED)


api_patterns = [
    path(
        "loans/<int:pk>/payoff-quotes/",
        PayoffQuoteCreateView.as_view(),
        name="loans-api-payoff-quote-create",
    ),
]
