"""Servicing REST API, a loan's documents and standing instructions: the
statement and payoff letter PDFs, the loan's audit history, and autopay
(the recurring ACH debit authorisation).

Views parse, call one service or selector, format. API keys need
`loans:read` for the GETs and `loans:write` for the POSTs; staff sessions
need servicing.view_loan, plus servicing.post_payment to set up or cancel
autopay (as on the staff autopay page). An API key's autopay is recorded as
a staff (recorded) authorisation with no acting user; the audit trail names
the key's integration user from the request context.

A PDF is answered as the stored bytes (`application/pdf`, as an
attachment); a statement or quote of another loan answers 404 as an
unknown one does. Every POST honours an optional `Idempotency-Key` header
(core.idempotency).
"""

from decimal import Decimal

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFound
from core.idempotency import idempotent
from core.middleware import client_ip
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    MONEY,
    READ_ERRORS,
    VIEW,
    acting_user,
    parse,
)
from servicing.models import AutopayAuthorization
from servicing.selectors.autopay import active_autopay
from servicing.selectors.loans import get_loan, loan_history_rows
from servicing.selectors.payoff import get_loan_payoff_quote
from servicing.selectors.statements import get_loan_statement
from servicing.services import autopay
from servicing.services.statements import statement_pdf

POST_PAYMENT = "servicing.post_payment"

PDF_RESPONSES = {
    (200, "application/pdf"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The stored PDF, as an attachment."
    ),
    **READ_ERRORS,
}


def _pdf(data, filename: str) -> HttpResponse:
    response = HttpResponse(bytes(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- PDFs ---------------------------------------------------------------------------------


class StatementPdfView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,)}

    @extend_schema(
        operation_id="loans_statements_pdf",
        summary="Download a statement (PDF)",
        description=(
            "The statement exactly as stored (its SHA-256 is in the statement list). A "
            "statement generated in a batch (the demo book) is rendered from its stored "
            "figures on its first download and stored then. A statement of another loan "
            "answers 404."
        ),
        tags=["loans"],
        responses=PDF_RESPONSES,
    )
    def get(self, request, pk: int, statement_id: int):
        loan = get_loan(pk)
        statement = get_loan_statement(loan, statement_id)
        return _pdf(
            statement_pdf(statement),
            f"statement-{loan.loan_number}-{statement.statement_date}.pdf",
        )


class PayoffQuotePdfView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,)}

    @extend_schema(
        operation_id="loans_payoff_quotes_pdf",
        summary="Download a payoff letter (PDF)",
        description=(
            "The letter stored with the payoff quote (its SHA-256 is in the quote). A quote "
            "of another loan answers 404."
        ),
        tags=["loans"],
        responses=PDF_RESPONSES,
    )
    def get(self, request, pk: int, quote_id: int):
        loan = get_loan(pk)
        quote = get_loan_payoff_quote(loan, quote_id)
        return _pdf(quote.pdf, f"payoff-{loan.loan_number}-{quote.good_through}.pdf")


# --- history ------------------------------------------------------------------------------


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(
        source="actor_label", help_text="Username, or system:<job> for a scheduled job."
    )
    action = serializers.CharField(help_text="What happened, e.g. payment.posted.")
    category = serializers.CharField()
    changes = serializers.DictField(help_text="Field: [before, after].")
    metadata = serializers.DictField()


class LoanHistoryView(GenericAPIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,)}
    filter_backends: list = []
    serializer_class = AuditEventSerializer

    @extend_schema(
        operation_id="loans_history",
        summary="A loan's audit history",
        description=(
            "Every audit event about the loan (boarding, payments, reversals, fees, "
            "modifications, autopay, ...), newest first, as on the staff loan page's "
            "history tab."
        ),
        tags=["loans"],
        responses={200: AuditEventSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        page = self.paginate_queryset(loan_history_rows(loan))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


# --- autopay ------------------------------------------------------------------------------


class AutopayAuthorizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    routing_number = serializers.CharField()
    account_last4 = serializers.CharField(help_text="Only the last four digits are shown.")
    account_type = serializers.CharField(help_text="checking or savings.")
    amount_rule = serializers.CharField(help_text="scheduled or fixed.")
    fixed_amount = serializers.DecimalField(**MONEY, allow_null=True)
    authorization_text_version = serializers.CharField()
    authorized_at = serializers.DateTimeField()
    channel = serializers.CharField(help_text="staff or portal.")
    ip_address = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField()


class AutopayStatusSerializer(serializers.Serializer):
    active = AutopayAuthorizationSerializer(
        allow_null=True, help_text="The active authorisation; null without autopay."
    )
    authorization_text_version = serializers.CharField(
        help_text="The current wording's version, to send back when setting up autopay."
    )
    authorization_text = serializers.CharField(
        help_text="The current wording the borrower agrees to (placeholders for the account)."
    )


class AutopayInputSerializer(serializers.Serializer):
    routing_number = serializers.CharField(max_length=20, help_text="9-digit ABA routing number.")
    account_number = serializers.CharField(max_length=30, help_text="4 to 17 digits.")
    account_type = serializers.CharField(max_length=10, help_text="checking or savings.")
    fixed_amount = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        min_value=Decimal("0.01"),
        help_text="A fixed amount to debit on each due date; omit for the scheduled instalment.",
    )
    authorization_text_version = serializers.CharField(
        max_length=20, help_text="The version of the wording the borrower agreed to."
    )
    borrower_agreed = serializers.BooleanField(
        help_text="Must be true: the borrower agreed to that wording."
    )

    def validate_borrower_agreed(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("The borrower must agree to the authorisation.")
        return value


class AutopayCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Why."
    )


def authorization_body(auth: AutopayAuthorization) -> dict:
    return AutopayAuthorizationSerializer(auth).data


class AutopayView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,), "POST": (VIEW, POST_PAYMENT)}

    @extend_schema(
        operation_id="loans_autopay_retrieve",
        summary="A loan's autopay",
        description="The active ACH debit authorisation, if any, and the current wording.",
        tags=["loans"],
        responses={200: AutopayStatusSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        active = active_autopay(loan)
        version = autopay.CURRENT_AUTHORIZATION_VERSION
        text = autopay.authorization_text(
            version=version,
            loan=loan,
            routing="(routing number)",
            last4="(last four digits)",
            account_type="checking or savings",
            amount="the scheduled instalment (or the fixed amount chosen)",
        )
        return Response(
            {
                "active": authorization_body(active) if active else None,
                "authorization_text_version": version,
                "authorization_text": text,
            }
        )

    @extend_schema(
        operation_id="loans_autopay_create",
        summary="Set up autopay",
        description=(
            "Records the borrower's recurring ACH debit authorisation (the wording's version, "
            "the time, and the caller's IP address and user agent), replacing any active one. "
            "A bad routing or account number, account type or wording version answers 400; a "
            "loan that is not active 409. Nothing is written on any error." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=AutopayInputSerializer,
        responses={
            201: AutopayAuthorizationSerializer,
            200: AutopayAuthorizationSerializer,
            **IDEMPOTENT_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Scheduled instalment from checking",
                value={
                    "routing_number": "021000021",
                    "account_number": "123456789",
                    "account_type": "checking",
                    "authorization_text_version": "2026-01",
                    "borrower_agreed": True,
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(AutopayInputSerializer, request)
        auth = autopay.set_up_autopay(
            loan=loan,
            routing=data["routing_number"],
            account=data["account_number"],
            account_type=data["account_type"],
            fixed_amount=data.get("fixed_amount"),
            authorization_text_version=data["authorization_text_version"],
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            channel=AutopayAuthorization.Channel.STAFF,
            acting_user=acting_user(request),
        )
        return Response(authorization_body(auth), status=status.HTTP_201_CREATED)


class AutopayCancelView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, POST_PAYMENT)}

    @extend_schema(
        operation_id="loans_autopay_cancel",
        summary="Cancel autopay",
        description=(
            "Revokes the active authorisation: later due dates are not debited (debits "
            "already in a file are not recalled). Without an active authorisation, 404."
            + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=AutopayCancelInputSerializer,
        responses={200: AutopayAuthorizationSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(AutopayCancelInputSerializer, request)
        auth = autopay.cancel_autopay(
            loan=loan, reason=data["reason"], acting_user=acting_user(request)
        )
        if auth is None:
            raise NotFound(f"Loan {loan.loan_number} has no active autopay.")
        return Response(authorization_body(auth))


api_patterns = [
    path(
        "loans/<int:pk>/statements/<int:statement_id>/pdf/",
        StatementPdfView.as_view(),
        name="loans-api-statement-pdf",
    ),
    path(
        "loans/<int:pk>/payoff-quotes/<int:quote_id>/pdf/",
        PayoffQuotePdfView.as_view(),
        name="loans-api-payoff-quote-pdf",
    ),
    path("loans/<int:pk>/history/", LoanHistoryView.as_view(), name="loans-api-history"),
    path("loans/<int:pk>/autopay/", AutopayView.as_view(), name="loans-api-autopay"),
    path(
        "loans/<int:pk>/autopay/cancel/",
        AutopayCancelView.as_view(),
        name="loans-api-autopay-cancel",
    ),
]
