"""Servicing REST API, boarding: board a funded loan from approved terms.

The view parses, calls servicing.boarding.board_loan, formats. API keys need
`loans:write`; staff sessions need servicing.import_files.

Boarding is idempotent on the origination reference (board_loan's unique
natural key): the first request creates the loan (201), a replay returns
it (200); the same reference with different core terms is 409. The
`Idempotency-Key` header is accepted (and checked); the reference is what
makes a retry safe.
"""

import re
from decimal import Decimal

from django.urls import path, reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.finance import (
    Amortization,
    DayCount,
    FeeTreatment,
    InstallmentMethod,
    InterestMethod,
    PrincipalRounding,
    RepaymentUnit,
)
from core.idempotency import idempotency_key
from core.money import ROUNDING_MODES
from servicing.api.base import (
    IMPORT_FILES,
    VIEW,
    WRITE_ERRORS,
    key_parameter,
    parse,
)
from servicing.api.loans import (
    LoanDetailSerializer,
    loan_detail_body,
)
from servicing.boarding import BoardingParty, BoardingTerms, board_loan_once
from servicing.selectors.loans import get_loan


def _choices(enum) -> list[str]:
    return [member.value for member in enum]


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
    installment_method = serializers.ChoiceField(
        choices=_choices(InstallmentMethod),
        required=False,
        allow_null=True,
        help_text="nominal_rate, period_rates (each period's own rate from its days, "
        "Fineract's progressive schedule) or period_rates_adjusted (with its EMI adjustment).",
    )
    equal_principal_rounding = serializers.ChoiceField(
        choices=_choices(PrincipalRounding),
        required=False,
        allow_null=True,
        help_text="cents (the instalment multiple rounds equal instalments only) or "
        "installment_multiple.",
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
        "installment_method",
        "equal_principal_rounding",
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
            key_parameter(
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
        terms = boarding_terms(parse(BoardingInputSerializer, request, key_errors))
        loan, created = board_loan_once(terms=terms, acting_user=request.user)
        if not created:
            return Response(loan_detail_body(get_loan(loan.pk)))
        location = reverse("loans-api-detail", kwargs={"pk": loan.pk})
        return Response(
            loan_detail_body(get_loan(loan.pk)),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


api_patterns = [
    path("loans/board/", BoardLoanView.as_view(), name="loans-api-board"),
]
