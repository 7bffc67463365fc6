"""Servicing REST API for the signed-in borrower: /api/v1/me/loans/...

The portal's reads and actions as JSON: my loans, one loan with its
balances, its schedule, transactions and statements (with their PDFs), a
one-time card or bank payment through the payment gateway, a payoff quote,
autopay (set up, cancel) and a request for help.

Access: a browser session of a borrower (the portal's login; DRF's
SessionAuthentication enforces CSRF on POSTs). API keys and staff users get
403: they have the staff API under /api/v1/loans/. A borrower reaches a loan
only through servicing's access selector `get_loans_for_customer`, filtered
by their own customer, exactly as the portal does, so another borrower's
loan (or statement) answers 404, never 403, and nothing is written.

Payments REQUIRE an `Idempotency-Key` header, as the staff payments API
does. The key is the borrower's own: it is stored on the payment namespaced
by the user (hashed to fit), so one borrower's key never meets another's. A
retry with the same key and body answers 200 with the first payment
(`Idempotent-Replayed: true`) without charging the gateway again; the same
key with a different body answers 422. The other POSTs accept the header
optionally (core.idempotency).
"""

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.businessdate import get_business_date
from core.exceptions import NotFound, ValidationFailed
from core.idempotency import REPLAYED_HEADER, idempotency_key, idempotent
from core.middleware import client_ip
from core.money import ZERO
from customers.api.customers import ErrorSerializer
from customers.selectors.customers import get_customer_for_user
from rails import gateway
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    READ_ERRORS,
    key_parameter,
    money_field,
    parse,
)
from servicing.api.loans import LIST_FIELDS, LoanListItemSerializer, PaymentSerializer, payment_body
from servicing.models import AutopayAuthorization, Component, Loan, LoanState
from servicing.selectors.autopay import active_autopay, has_active_autopay
from servicing.selectors.ledger import balances_as_of
from servicing.selectors.loans import customer_loan_rows, get_loan_for_customer, loan_parties
from servicing.selectors.schedules import installments
from servicing.selectors.statements import get_loan_statement, loan_statements
from servicing.selectors.transactions import loan_transactions
from servicing.services import autopay, online_payments, payoff, statements
from servicing.services.service_requests import MAX_MESSAGE, REQUEST_KINDS, request_help
from servicing.validators import validate_bank_account
from users.models import ApiKey

TAGS = ["me"]
MAX_QUOTE_DAYS = 30  # as the portal's payoff page

# The portal's Transactions list: money events only.
SHOWN_KINDS = ("payment", "fee", "waiver", "refund", "reversal", "recovery")


# --- access ------------------------------------------------------------------------


class BorrowerAccess(permissions.BasePermission):
    """A signed-in borrower's browser session; never an API key or staff."""

    message = "This API is for signed-in borrowers."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            self.message = "This API is for signed-in borrowers, not API keys."
            return False
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff_member or not user.is_borrower:
            self.message = "This API is for borrowers; staff use /api/v1/loans/."
            return False
        return True


def my_loan(request, pk: int) -> Loan:
    """The signed-in borrower's loan `pk` (the portal's access selector);
    NotFound (404) for anyone else's."""
    return get_loan_for_customer(get_customer_for_user(request.user), pk)


class _MeView(APIView):
    permission_classes = [BorrowerAccess]


# --- output serializers -------------------------------------------------------------


class MeBalancesSerializer(serializers.Serializer):
    principal = money_field()
    interest = money_field(help_text="Interest due and unpaid.")
    fees = money_field(help_text="Fees and penalties.")
    credit = money_field(help_text="Credit held for you (unapplied and overpaid).")
    total_outstanding = money_field(help_text="What you owe net of credit held.")


class MePartySerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField(help_text="borrower (the primary), co_borrower or guarantor.")
    is_me = serializers.BooleanField(help_text="Whether this party is the signed-in borrower.")


class MeLoanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_number = serializers.CharField()
    state = serializers.CharField(help_text="active, overpaid, paid_off, charged_off or closed.")
    currency = serializers.CharField()
    principal = money_field(help_text="The amount borrowed.")
    annual_rate = serializers.DecimalField(
        max_digits=10, decimal_places=4, help_text="Nominal annual rate in percent."
    )
    term = serializers.IntegerField()
    disbursement_date = serializers.DateField()
    first_payment_date = serializers.DateField()
    balances = MeBalancesSerializer(help_text="From the ledger.")
    days_past_due = serializers.IntegerField()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = money_field()
    closed_on = serializers.DateField(allow_null=True)
    payable = serializers.BooleanField(help_text="Whether the loan takes a payment now.")
    autopay_active = serializers.BooleanField()
    parties = MePartySerializer(many=True, help_text="Everyone on the loan, the borrower first.")


def loan_body(loan: Loan, me=None) -> dict:
    """The loan as its borrower reads it; `me` (the signed-in customer) marks
    their own entry among the parties."""
    balances = balances_as_of(loan)
    return MeLoanSerializer(
        {
            "id": loan.pk,
            "loan_number": loan.loan_number,
            "state": loan.state,
            "currency": loan.currency,
            "principal": loan.principal,
            "annual_rate": (loan.annual_rate * 100).quantize(Decimal("0.0001")),
            "term": loan.term,
            "disbursement_date": loan.disbursement_date,
            "first_payment_date": loan.first_payment_date,
            "balances": {
                "principal": balances.principal,
                "interest": balances.interest,
                "fees": balances.fees + balances.penalties,
                "credit": balances.credit,
                "total_outstanding": balances.net_owed,
            },
            "days_past_due": loan.days_past_due,
            "next_due_date": loan.next_due_date,
            "next_due_amount": loan.next_due_amount,
            "closed_on": loan.closed_on,
            "payable": loan.state == LoanState.ACTIVE,
            "autopay_active": has_active_autopay(loan),
            "parties": [
                {
                    "name": str(p.customer.legal_name),
                    "role": p.role,
                    "is_me": me is not None and p.customer_id == me.pk,
                }
                for p in loan_parties(loan)
            ],
        }
    ).data


class MeInstallmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    status = serializers.CharField(help_text="not_due, due, partially_paid, past_due or paid.")
    principal_due = money_field()
    interest_due = money_field()
    charges_due = money_field(help_text="Fees and penalties due.")
    total_due = money_field()
    total_paid = money_field()
    outstanding = money_field()


class MeScheduleSerializer(serializers.Serializer):
    loan_id = serializers.IntegerField()
    loan_number = serializers.CharField()
    installments = MeInstallmentSerializer(many=True)


class MeTransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The loan event's id.")
    kind = serializers.CharField(help_text="payment, fee, waiver, refund, reversal or recovery.")
    effective_date = serializers.DateField()
    amount = money_field()
    status = serializers.CharField(help_text="posted or reversed.")
    method = serializers.CharField(allow_null=True, help_text="For payments: card, ach, ...")
    reference = serializers.CharField(allow_null=True)
    principal = money_field(help_text="Paid to (or charged to) principal.")
    interest = money_field()
    fees = money_field(help_text="Fees and penalties.")
    credit = money_field(help_text="Held as credit (unapplied or overpayment).")


def _split(lines) -> dict[str, Decimal]:
    """Allocation lines as principal / interest / fees / credit (as the portal shows them)."""
    out = dict.fromkeys(("principal", "interest", "fees", "credit"), ZERO)
    for line in lines:
        if line.component == Component.PRINCIPAL:
            out["principal"] += line.amount
        elif line.component == Component.INTEREST:
            out["interest"] += line.amount
        elif line.component in (Component.FEES, Component.PENALTIES):
            out["fees"] += line.amount
        else:
            out["credit"] += line.amount
    return out


class MeStatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    statement_date = serializers.DateField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    due_date = serializers.DateField(allow_null=True)
    amount_due = money_field()
    past_due_amount = money_field()


# --- reads -------------------------------------------------------------------------


class MyLoanListView(GenericAPIView):
    permission_classes = [BorrowerAccess]
    serializer_class = LoanListItemSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="me_loans_list",
        summary="My loans",
        description="The signed-in borrower's funded loans, newest first, with balances.",
        tags=TAGS,
        responses={200: LoanListItemSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        page = self.paginate_queryset(
            customer_loan_rows(get_customer_for_user(request.user), LIST_FIELDS)
        )
        return self.get_paginated_response(LoanListItemSerializer(page, many=True).data)


class MyLoanDetailView(_MeView):
    @extend_schema(
        operation_id="me_loans_retrieve",
        summary="One of my loans: terms and balances",
        description="Any borrower of the loan (primary or co-borrower) reads it; a loan "
        "you are no party to answers 404.",
        tags=TAGS,
        responses={200: MeLoanSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(loan_body(my_loan(request, pk), get_customer_for_user(request.user)))


class MyScheduleView(_MeView):
    @extend_schema(
        operation_id="me_loans_schedule",
        summary="My loan's schedule with what is paid",
        tags=TAGS,
        responses={200: MeScheduleSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = my_loan(request, pk)
        rows = [
            {
                "number": row.number,
                "due_date": row.due_date,
                "status": row.status,
                "principal_due": row.principal_due,
                "interest_due": row.interest_due,
                "charges_due": row.charges_due,
                "total_due": row.total_due_amount,
                "total_paid": row.total_paid_amount,
                "outstanding": row.outstanding,
            }
            for row in installments(loan)
        ]
        body = {"loan_id": loan.pk, "loan_number": loan.loan_number, "installments": rows}
        return Response(MeScheduleSerializer(body).data)


class MyTransactionsView(_MeView):
    @extend_schema(
        operation_id="me_loans_transactions",
        summary="My loan's transactions",
        description=(
            "Payments, fees, waivers, refunds, reversals and recoveries, newest first, each "
            "split into principal, interest, fees and credit as it stands now."
        ),
        tags=TAGS,
        responses={200: MeTransactionSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = my_loan(request, pk)
        rows = []
        for row in loan_transactions(loan):
            if row.event.kind not in SHOWN_KINDS:
                continue
            rows.append(
                {
                    "id": row.event.pk,
                    "kind": row.event.kind,
                    "effective_date": row.event.effective_date,
                    "amount": row.event.amount,
                    "status": row.status,
                    "method": row.payment.method if row.payment else None,
                    "reference": row.payment.reference if row.payment else None,
                    **_split(row.lines),
                }
            )
        return Response(MeTransactionSerializer(rows, many=True).data)


class MyStatementsView(_MeView):
    @extend_schema(
        operation_id="me_loans_statements_list",
        summary="My loan's statements",
        tags=TAGS,
        responses={200: MeStatementSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = my_loan(request, pk)
        return Response(MeStatementSerializer(loan_statements(loan), many=True).data)


class MyStatementPdfView(_MeView):
    @extend_schema(
        operation_id="me_loans_statements_pdf",
        summary="Download one of my statements (PDF)",
        description="Another borrower's loan or statement answers 404.",
        tags=TAGS,
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The statement, as an attachment."
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request, pk: int, statement_id: int):
        loan = my_loan(request, pk)
        try:
            statement = get_loan_statement(loan, statement_id)
        except NotFound:
            raise NotFound("No such statement.") from None
        response = HttpResponse(statements.statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{loan.loan_number}-{statement.statement_date}.pdf"'
        )
        return response


# --- pay now -----------------------------------------------------------------------


class MePaymentInputSerializer(serializers.Serializer):
    amount = money_field(min_value=Decimal("0.01"), help_text="At most today's payoff amount.")
    # Plain strings checked below: choice fields would add enums colliding in the schema.
    method = serializers.CharField(max_length=4, help_text="card or ach.")
    excess = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        default="",
        help_text="prepayment or unapplied; default the product's setting.",
    )
    card_number = serializers.CharField(max_length=23, required=False, allow_blank=True, default="")
    exp_month = serializers.IntegerField(required=False, allow_null=True, default=None)
    exp_year = serializers.IntegerField(required=False, allow_null=True, default=None)
    cvc = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")
    routing_number = serializers.CharField(
        max_length=9, required=False, allow_blank=True, default=""
    )
    account_number = serializers.CharField(
        max_length=17, required=False, allow_blank=True, default=""
    )
    account_type = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text="checking or savings.",
    )

    def validate_method(self, value: str) -> str:
        if value not in ("card", "ach"):
            raise serializers.ValidationError("Choose card or ach.")
        return value

    def validate_excess(self, value: str) -> str:
        if value not in ("", "prepayment", "unapplied"):
            raise serializers.ValidationError("Choose to reduce your principal or keep a credit.")
        return value

    def validate(self, data):
        """The card or bank account checks of the portal's payment form."""
        errors: dict = {}
        if data["method"] == "card":
            for name in ("card_number", "exp_month", "exp_year", "cvc"):
                if data.get(name) in (None, ""):
                    errors[name] = ["This field is required for a card payment."]
            if not errors:
                errors = gateway.card_errors(
                    number=data["card_number"],
                    exp_month=data["exp_month"],
                    exp_year=data["exp_year"],
                    cvc=data["cvc"],
                    today=get_business_date(),
                )
        else:
            errors = validate_bank_account(
                routing=data["routing_number"].strip(),
                account=data["account_number"].replace(" ", "").replace("-", ""),
                account_type=data["account_type"],
            )
        if errors:
            raise serializers.ValidationError(errors)
        return data


class MyPaymentView(_MeView):
    @extend_schema(
        operation_id="me_loans_payments_create",
        summary="Pay now (card or bank account)",
        description=(
            "Charges the card or bank account through the payment gateway and posts the "
            "payment (channel portal) on today's business date, allocated by the product's "
            "waterfall. Requires an `Idempotency-Key` header (a new UUID per payment; the "
            "same key and body when retrying: 200 with the first payment, header "
            "`Idempotent-Replayed: true`, nothing charged again; the same key with another "
            "body: 422). A declined card or bad input answers 400, a loan that is not active "
            "409; nothing is charged or written then."
        ),
        tags=TAGS,
        parameters=[key_parameter(True, "Unique per payment (max 100 printable characters).")],
        request=MePaymentInputSerializer,
        responses={201: PaymentSerializer, 200: PaymentSerializer, **IDEMPOTENT_ERRORS},
    )
    def post(self, request, pk: int):
        loan = my_loan(request, pk)
        key, key_errors = idempotency_key(request, required=True)
        data = parse(MePaymentInputSerializer, request, key_errors)
        digest = hashlib.sha256(key.encode()).hexdigest()
        posted = online_payments.pay_online(
            loan,
            amount=data["amount"],
            data=data,
            excess=data["excess"],
            key=f"me:{request.user.pk}:{digest}",  # per borrower: keys never clash
            today=get_business_date(),
            acting_user=request.user,
        )
        body = payment_body(posted.payment.pk)
        if posted.created:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(body, status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"})


# --- payoff quote ------------------------------------------------------------------


class MePayoffInputSerializer(serializers.Serializer):
    good_through = serializers.DateField(
        help_text=f"From today's business date to {MAX_QUOTE_DAYS} days ahead."
    )


class MePayoffSerializer(serializers.Serializer):
    quoted_on = serializers.DateField()
    good_through = serializers.DateField()
    principal = money_field()
    interest_due = money_field()
    interest_accrued = money_field()
    interest = money_field()
    fees = money_field()
    penalties = money_field()
    credit = money_field()
    total = money_field(help_text="What pays the loan off on good_through.")
    per_diem = money_field(help_text="Interest per further day.")


class MyPayoffQuoteView(_MeView):
    @extend_schema(
        operation_id="me_loans_payoff_quote",
        summary="Quote my payoff",
        description=(
            "The itemised amount that pays the loan off on `good_through` (today's business "
            f"date to {MAX_QUOTE_DAYS} days ahead; otherwise 400). Computes and stores nothing."
        ),
        tags=TAGS,
        request=MePayoffInputSerializer,
        responses={200: MePayoffSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request, pk: int):
        loan = my_loan(request, pk)
        data = parse(MePayoffInputSerializer, request)
        today = get_business_date()
        last = today + timedelta(days=MAX_QUOTE_DAYS)
        good_through = data["good_through"]
        if not today <= good_through <= last:
            raise ValidationFailed(
                "The quote date is not valid.",
                fields={"good_through": [f"Choose a date from {today} to {last}."]},
            )
        items = payoff.compute_payoff(loan, good_through)
        return Response(
            MePayoffSerializer({"quoted_on": today, "good_through": good_through, **items}).data
        )


# --- autopay -----------------------------------------------------------------------


class MeAutopaySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    routing_number = serializers.CharField()
    account_last4 = serializers.CharField()
    account_type = serializers.CharField()
    amount_rule = serializers.CharField(help_text="scheduled or fixed.")
    authorized_at = serializers.DateTimeField()
    channel = serializers.CharField()


class MeAutopayStatusSerializer(serializers.Serializer):
    active = MeAutopaySerializer(allow_null=True, help_text="null without autopay.")
    authorization_text_version = serializers.CharField()
    authorization_text = serializers.CharField(help_text="The wording you agree to.")


class MeAutopayInputSerializer(serializers.Serializer):
    routing_number = serializers.CharField(max_length=20, help_text="9-digit ABA routing number.")
    account_number = serializers.CharField(max_length=30, help_text="4 to 17 digits.")
    account_type = serializers.CharField(max_length=10, help_text="checking or savings.")
    agree = serializers.BooleanField(help_text="Must be true: you agree to the wording.")

    def validate_agree(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Agree to the authorization to set up autopay.")
        return value


class MeAutopayCancelSerializer(serializers.Serializer):
    cancelled = serializers.BooleanField(help_text="False when there was no autopay.")
    active = MeAutopaySerializer(allow_null=True)


def _autopay_status(loan: Loan) -> dict:
    active = active_autopay(loan)
    version = autopay.CURRENT_AUTHORIZATION_VERSION
    return {
        "active": MeAutopaySerializer(active).data if active else None,
        "authorization_text_version": version,
        "authorization_text": autopay.authorization_text(
            version=version,
            loan=loan,
            routing="you enter",
            last4="in the digits you enter",
            account_type="checking or savings",
            amount="the scheduled instalment amount",
        ),
    }


class MyAutopayView(_MeView):
    @extend_schema(
        operation_id="me_loans_autopay_retrieve",
        summary="My loan's autopay",
        tags=TAGS,
        responses={200: MeAutopayStatusSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_autopay_status(my_loan(request, pk)))

    @extend_schema(
        operation_id="me_loans_autopay_create",
        summary="Set up autopay",
        description=(
            "Authorises ACH debits of each instalment from the bank account (the wording's "
            "version, the time, IP address and user agent are recorded), replacing any active "
            "authorisation. Bad account details or `agree` not true: 400; a loan that is not "
            "active: 409. Nothing is written on any error." + KEY_REPLAY
        ),
        tags=TAGS,
        parameters=[KEY_PARAMETER],
        request=MeAutopayInputSerializer,
        responses={
            201: MeAutopayStatusSerializer,
            200: MeAutopayStatusSerializer,
            **IDEMPOTENT_ERRORS,
        },
    )
    @idempotent
    def post(self, request, pk: int):
        loan = my_loan(request, pk)
        data = parse(MeAutopayInputSerializer, request)
        autopay.set_up_autopay(
            loan=loan,
            routing=data["routing_number"],
            account=data["account_number"],
            account_type=data["account_type"],
            authorization_text_version=autopay.CURRENT_AUTHORIZATION_VERSION,
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            channel=AutopayAuthorization.Channel.PORTAL,
            acting_user=request.user,
        )
        return Response(_autopay_status(loan), status=status.HTTP_201_CREATED)


class MyAutopayCancelView(_MeView):
    @extend_schema(
        operation_id="me_loans_autopay_cancel",
        summary="Cancel autopay",
        description="Later due dates are not debited. Without autopay: 200, cancelled false."
        + KEY_REPLAY,
        tags=TAGS,
        parameters=[KEY_PARAMETER],
        request=None,
        responses={200: MeAutopayCancelSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        loan = my_loan(request, pk)
        revoked = autopay.cancel_autopay(
            loan=loan, reason="Cancelled by the borrower through the API", acting_user=request.user
        )
        return Response({"cancelled": revoked is not None, "active": None})


# --- request help ------------------------------------------------------------------


class MeHelpInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=20, help_text=f"One of: {', '.join(REQUEST_KINDS)}.")
    message = serializers.CharField(
        max_length=MAX_MESSAGE, help_text="Tell us about your situation."
    )


class MeHelpRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    status = serializers.CharField(help_text="open, in_progress, resolved or declined.")
    received_on = serializers.DateField()
    due_by = serializers.DateField(help_text="We answer by this business date.")


class MyHelpRequestView(_MeView):
    @extend_schema(
        operation_id="me_loans_requests_create",
        summary="Ask for help (hardship, modification, other)",
        description=(
            "Sends the request to the servicing team's queue. An unknown kind or an empty "
            "message answers 400 and nothing is written." + KEY_REPLAY
        ),
        tags=TAGS,
        parameters=[KEY_PARAMETER],
        request=MeHelpInputSerializer,
        responses={201: MeHelpRequestSerializer, 200: MeHelpRequestSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        loan = my_loan(request, pk)
        data = parse(MeHelpInputSerializer, request)
        created = request_help(
            loan=loan,
            kind=data["kind"],
            message=data["message"],
            acting_user=request.user,
            customer=get_customer_for_user(request.user),
        )
        return Response(MeHelpRequestSerializer(created).data, status=status.HTTP_201_CREATED)


api_patterns = [
    path("me/loans/", MyLoanListView.as_view(), name="me-api-loans"),
    path("me/loans/<int:pk>/", MyLoanDetailView.as_view(), name="me-api-loan"),
    path("me/loans/<int:pk>/schedule/", MyScheduleView.as_view(), name="me-api-schedule"),
    path(
        "me/loans/<int:pk>/transactions/",
        MyTransactionsView.as_view(),
        name="me-api-transactions",
    ),
    path("me/loans/<int:pk>/statements/", MyStatementsView.as_view(), name="me-api-statements"),
    path(
        "me/loans/<int:pk>/statements/<int:statement_id>/pdf/",
        MyStatementPdfView.as_view(),
        name="me-api-statement-pdf",
    ),
    path("me/loans/<int:pk>/payments/", MyPaymentView.as_view(), name="me-api-payments"),
    path(
        "me/loans/<int:pk>/payoff-quote/",
        MyPayoffQuoteView.as_view(),
        name="me-api-payoff-quote",
    ),
    path("me/loans/<int:pk>/autopay/", MyAutopayView.as_view(), name="me-api-autopay"),
    path(
        "me/loans/<int:pk>/autopay/cancel/",
        MyAutopayCancelView.as_view(),
        name="me-api-autopay-cancel",
    ),
    path("me/loans/<int:pk>/requests/", MyHelpRequestView.as_view(), name="me-api-requests"),
]
