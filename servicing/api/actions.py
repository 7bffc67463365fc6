"""Servicing REST API, actions: post a payment, reverse one, board a loan.

Views parse, call one service, format. API keys need `loans:write`; staff
sessions need servicing.post_payment / reverse_payment / import_files.

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
- Boarding is idempotent on the origination reference (board_loan's unique
  natural key): the first request creates the loan (201), a replay returns
  it (200); the same reference with different core terms is 409. The header
  is accepted (and checked); the reference is what makes a retry safe.
"""

import re
from decimal import Decimal

from django.db import connection, transaction
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.businessdate import get_business_date
from core.exceptions import Conflict, NotFound
from core.finance import Amortization, DayCount, FeeTreatment, InterestMethod, RepaymentUnit
from core.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER, idempotency_key
from core.money import ROUNDING_MODES
from customers.api.customers import ErrorSerializer
from servicing.api.loans import (
    VIEW,
    LoanDetailSerializer,
    PaymentSerializer,
    get_loan,
    loan_detail_body,
    payment_body,
)
from servicing.boarding import BoardingParty, BoardingTerms, board_loan
from servicing.models import Loan, Payment
from servicing.services import payments

POST_PAYMENT = "servicing.post_payment"
REVERSE_PAYMENT = "servicing.reverse_payment"
IMPORT_FILES = "servicing.import_files"

WRITE_ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


def _choices(enum) -> list[str]:
    return [member.value for member in enum]


def _parse(serializer_class, request, extra_errors: dict) -> dict:
    """Validated body, or one 400 listing the body's and the header's errors
    (the exception handler flattens nested fields to dotted names)."""
    serializer = serializer_class(data=request.data)
    if serializer.is_valid() and not extra_errors:
        return serializer.validated_data
    raise serializers.ValidationError({**serializer.errors, **extra_errors})


def _key_parameter(required: bool, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name=IDEMPOTENCY_HEADER,
        type=OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=required,
        description=description,
    )


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
            _key_parameter(True, "Unique per payment (max 100 printable characters), global.")
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
        data = _parse(PaymentInputSerializer, request, key_errors)
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
            _key_parameter(False, "Optional: the reversal is idempotent on the payment itself.")
        ],
        request=ReversalInputSerializer,
        responses={200: PaymentSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int, payment_id: int):
        loan = get_loan(pk)
        payment = Payment.objects.filter(pk=payment_id, loan=loan).first()
        if payment is None:
            raise NotFound(f"No payment {payment_id} on loan {loan.loan_number}.")
        _key, key_errors = idempotency_key(request, required=False)
        data = _parse(ReversalInputSerializer, request, key_errors)
        payments.reverse_payment(
            payment=payment,
            reason=data["reason"],
            note=data.get("note", ""),
            acting_user=request.user,
        )
        return Response(payment_body(payment.pk))


# --- boarding ------------------------------------------------------------------------------


class BoardingFeeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    treatment = serializers.ChoiceField(choices=_choices(FeeTreatment), default="withheld")
    finance_charge = serializers.BooleanField(
        default=True, help_text="A prepaid finance charge under Regulation Z 1026.4."
    )


class BoardingDocumentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    sha256 = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The document's SHA-256: 64 lower-case hexadecimal characters, or blank.",
    )
    reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where origination keeps the document.",
    )

    def validate_sha256(self, value: str) -> str:
        if value and not re.fullmatch(r"[0-9a-f]{64}", value):
            raise serializers.ValidationError("Enter 64 lower-case hexadecimal characters.")
        return value


class BoardingPartyInputSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(min_value=1)
    role = serializers.ChoiceField(
        choices=[("co_borrower", "Co-borrower"), ("guarantor", "Guarantor")],
        default="co_borrower",
        help_text="co_borrower (owes the loan, sees it in the portal) or guarantor.",
    )


class BoardingConditionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    status = serializers.ChoiceField(
        choices=[("open", "Open"), ("satisfied", "Satisfied"), ("waived", "Waived")],
        default="satisfied",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BoardingInputSerializer(serializers.Serializer):
    """Mirrors servicing.boarding.BoardingTerms; engine options left out take
    the servicing product's settings."""

    origination_reference = serializers.CharField(
        max_length=64, help_text="Unique: boarding the same reference again returns the loan."
    )
    customer_id = serializers.IntegerField(min_value=1)
    product_id = serializers.IntegerField(min_value=1, help_text="A servicing product's id.")
    principal = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    annual_rate = serializers.DecimalField(
        max_digits=8,
        decimal_places=4,
        min_value=0,
        help_text='Nominal annual rate in percent, e.g. "7.25" (at most 4 places).',
    )
    term = serializers.IntegerField(min_value=1, help_text="Number of instalments.")
    disbursement_date = serializers.DateField()
    first_payment_date = serializers.DateField(required=False, allow_null=True)
    repayment_every = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    repayment_unit = serializers.ChoiceField(
        choices=_choices(RepaymentUnit), required=False, allow_null=True
    )
    interest_method = serializers.ChoiceField(
        choices=_choices(InterestMethod), required=False, allow_null=True
    )
    amortization = serializers.ChoiceField(
        choices=_choices(Amortization), required=False, allow_null=True
    )
    day_count = serializers.ChoiceField(choices=_choices(DayCount), required=False, allow_null=True)
    installment_multiple = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
    )
    rounding = serializers.ChoiceField(
        choices=list(ROUNDING_MODES), required=False, allow_null=True
    )
    grace_principal_periods = serializers.IntegerField(min_value=0, default=0)
    grace_interest_periods = serializers.IntegerField(min_value=0, default=0)
    interest_free_periods = serializers.IntegerField(min_value=0, default=0)
    balloon_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, default=Decimal("0.00")
    )
    fees = BoardingFeeInputSerializer(many=True, required=False)
    disbursed_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="When given, must equal the engine's (principal less withheld fees).",
    )
    underwriting_notes = serializers.CharField(required=False, allow_blank=True, default="")
    documents = BoardingDocumentInputSerializer(many=True, required=False)
    parties = BoardingPartyInputSerializer(
        many=True,
        required=False,
        help_text="Parties besides the primary borrower (customer_id), in order.",
    )
    conditions = BoardingConditionInputSerializer(many=True, required=False)


def percent_to_fraction(percent: Decimal) -> Decimal:
    """7.25 (percent, as parsed: 7.2500) -> 0.0725, without trailing zeros or an
    exponent, so the stored engine terms read as the rate was meant."""
    fraction = percent / 100
    if fraction == fraction.to_integral_value():
        return fraction.quantize(Decimal(1))
    return fraction.normalize()


def boarding_terms(data: dict) -> BoardingTerms:
    """The API body (rate in percent) as BoardingTerms (rate as a fraction)."""
    optional = (
        "first_payment_date",
        "repayment_every",
        "repayment_unit",
        "interest_method",
        "amortization",
        "day_count",
        "installment_multiple",
        "rounding",
        "disbursed_amount",
    )
    return BoardingTerms(
        origination_reference=data["origination_reference"],
        customer_id=data["customer_id"],
        product_id=data["product_id"],
        principal=data["principal"],
        annual_rate=percent_to_fraction(data["annual_rate"]),
        term=data["term"],
        disbursement_date=data["disbursement_date"],
        grace_principal_periods=data["grace_principal_periods"],
        grace_interest_periods=data["grace_interest_periods"],
        interest_free_periods=data["interest_free_periods"],
        balloon_amount=data["balloon_amount"],
        fees=tuple(dict(fee) for fee in data.get("fees", [])),
        underwriting_notes=data.get("underwriting_notes", ""),
        documents=tuple(dict(doc) for doc in data.get("documents", [])),
        parties=tuple(
            BoardingParty(customer_id=p["customer_id"], role=p["role"])
            for p in data.get("parties", [])
        ),
        conditions=tuple(dict(c) for c in data.get("conditions", [])),
        **{name: data.get(name) for name in optional},
    )


def _differences(loan: Loan, terms: BoardingTerms) -> dict[str, list[str]]:
    """Core terms of a replayed boarding request that differ from the loan's."""
    pairs = {
        "customer_id": (loan.customer_id, terms.customer_id),
        "product_id": (loan.product_id, terms.product_id),
        "principal": (loan.principal, terms.principal),
        "annual_rate": (loan.annual_rate, terms.annual_rate),
        "term": (loan.term, terms.term),
        "disbursement_date": (loan.disbursement_date, terms.disbursement_date),
    }
    boarded_parties = list(
        loan.parties.exclude(ordering=0).order_by("ordering").values_list("customer_id", "role")
    )
    pairs["parties"] = (boarded_parties, [(p.customer_id, p.role) for p in terms.parties])
    return {
        name: [f"Loan {loan.loan_number} was boarded with a different value."]
        for name, (boarded, asked) in pairs.items()
        if boarded != asked
    }


class BoardLoanView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, IMPORT_FILES)}

    @extend_schema(
        operation_id="loans_board",
        summary="Board a funded loan",
        description=(
            "Creates the loan, its schedule and the disbursement postings from approved "
            "terms (the annual rate in percent). Idempotent on `origination_reference`: the "
            "first request answers 201 with the loan, a replay 200 with the same loan; the "
            "same reference with a different customer, product, principal, rate, term or "
            "disbursement date answers 409 `origination_reference_taken`. Unknown customer "
            "or product: 404; terms the engine refuses: 400; a disbursed amount that differs "
            "from the engine's: 409. Nothing is written on any error."
        ),
        tags=["loans"],
        parameters=[
            _key_parameter(
                False, "Accepted; the origination reference is the boarding's idempotency key."
            )
        ],
        request=BoardingInputSerializer,
        responses={201: LoanDetailSerializer, 200: LoanDetailSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "1,200 at 12% over 12 months",
                value={
                    "origination_reference": "APP-2026-0001",
                    "customer_id": 1,
                    "product_id": 1,
                    "principal": "1200.00",
                    "annual_rate": "12",
                    "term": 12,
                    "disbursement_date": "2026-01-15",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        _key, key_errors = idempotency_key(request, required=False)
        terms = boarding_terms(_parse(BoardingInputSerializer, request, key_errors))
        with transaction.atomic():
            # Serialise requests for one reference so that exactly one of
            # concurrent first requests reports 201: board_loan alone would
            # return the same loan to both (its unique index makes the data
            # safe, but not our status code). Released at commit.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    [f"servicing.board_loan:{terms.origination_reference}"],
                )
            existing = Loan.objects.filter(
                origination_reference=terms.origination_reference
            ).first()
            if existing is not None:
                differences = _differences(existing, terms)
                if differences:
                    raise Conflict(
                        f"Origination reference {terms.origination_reference} was already "
                        f"boarded as loan {existing.loan_number} with different terms.",
                        code="origination_reference_taken",
                        fields=differences,
                    )
                return Response(loan_detail_body(get_loan(existing.pk)))
            loan = board_loan(terms=terms, acting_user=request.user)
        location = reverse("loans-api-detail", kwargs={"pk": loan.pk})
        return Response(
            loan_detail_body(get_loan(loan.pk)),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


api_patterns = [
    path("loans/board/", BoardLoanView.as_view(), name="loans-api-board"),
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
