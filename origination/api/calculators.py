"""Origination API: loan quotes and the APR verification tool.

Both compute and store nothing: API keys need the `quotes:read` scope (even
though they are POSTs), staff sessions need `users.use_calculators`.
"""

from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
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
from core.money import ROUNDING_MODES
from origination import calculators


def _choices(enum) -> list[str]:
    return [member.value for member in enum]


class FeeInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    treatment = serializers.ChoiceField(choices=_choices(FeeTreatment), default="withheld")
    finance_charge = serializers.BooleanField(
        default=True, help_text="A prepaid finance charge under Regulation Z 1026.4."
    )


class QuoteInput(serializers.Serializer):
    principal = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    annual_rate = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=0,
        help_text='Nominal annual rate in percent, e.g. "7.25".',
    )
    term = serializers.IntegerField(min_value=1, help_text="Number of instalments.")
    repayment_every = serializers.IntegerField(default=1, min_value=1)
    repayment_unit = serializers.ChoiceField(choices=_choices(RepaymentUnit), default="months")
    disbursement_date = serializers.DateField()
    first_payment_date = serializers.DateField(required=False, allow_null=True)
    interest_method = serializers.ChoiceField(
        choices=_choices(InterestMethod), default="declining_balance"
    )
    amortization = serializers.ChoiceField(
        choices=_choices(Amortization), default="equal_installments"
    )
    day_count = serializers.ChoiceField(choices=_choices(DayCount), default="30/360")
    installment_multiple = serializers.DecimalField(max_digits=12, decimal_places=2, default="0.01")
    rounding = serializers.ChoiceField(choices=list(ROUNDING_MODES), default="half_up")
    installment_method = serializers.ChoiceField(
        choices=_choices(InstallmentMethod),
        default="nominal_rate",
        help_text="How the equal instalment is solved: nominal_rate (one periodic rate, "
        "annual / periods a year), period_rates (each period's own rate from its days under "
        "day_count, as Fineract's progressive schedule) or period_rates_adjusted (plus "
        "Fineract's EMI adjustment of a far-off last instalment).",
    )
    equal_principal_rounding = serializers.ChoiceField(
        choices=_choices(PrincipalRounding),
        default="cents",
        help_text="equal_principal only: the principal part to the cent (cents; "
        "installment_multiple rounds equal instalments only) or to the instalment multiple.",
    )
    grace_principal_periods = serializers.IntegerField(default=0, min_value=0)
    grace_interest_periods = serializers.IntegerField(default=0, min_value=0)
    interest_free_periods = serializers.IntegerField(default=0, min_value=0)
    balloon_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, default="0.00", min_value=0
    )
    fees = FeeInput(many=True, required=False)


class InstallmentOutput(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    days = serializers.IntegerField()
    opening_balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    principal = serializers.DecimalField(max_digits=14, decimal_places=2)
    interest = serializers.DecimalField(max_digits=14, decimal_places=2)
    fees = serializers.DecimalField(max_digits=14, decimal_places=2)
    payment = serializers.DecimalField(max_digits=14, decimal_places=2)
    closing_balance = serializers.DecimalField(max_digits=14, decimal_places=2)


class TotalsOutput(serializers.Serializer):
    number_of_installments = serializers.IntegerField()
    installment = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    loan_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    disbursed_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    principal = serializers.DecimalField(max_digits=14, decimal_places=2)
    interest = serializers.DecimalField(max_digits=14, decimal_places=2)
    fees = serializers.DecimalField(max_digits=14, decimal_places=2)
    payments = serializers.DecimalField(max_digits=14, decimal_places=2)


class PaymentGroupOutput(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    first_due_date = serializers.DateField()


class TilaOutput(serializers.Serializer):
    amount_financed = serializers.DecimalField(max_digits=14, decimal_places=2)
    finance_charge = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_of_payments = serializers.DecimalField(max_digits=14, decimal_places=2)
    apr = serializers.DecimalField(
        max_digits=10, decimal_places=4, help_text="Appendix J APR in percent, 4 places."
    )
    apr_disclosed = serializers.DecimalField(
        max_digits=8, decimal_places=2, help_text="The APR as disclosed (2 places)."
    )
    payment_summary = PaymentGroupOutput(many=True)


class QuoteOutput(serializers.Serializer):
    installments = InstallmentOutput(many=True)
    totals = TotalsOutput()
    tila = TilaOutput()


class CalculatorView(APIView):
    api_scope = "quotes"
    api_scope_access = {"POST": "read"}
    required_permissions = {"*": ("users.use_calculators",)}


class QuoteView(CalculatorView):
    @extend_schema(
        operation_id="create_quote",
        summary="Quote a loan: schedule, totals and Truth in Lending figures",
        request=QuoteInput,
        responses={200: QuoteOutput},
        tags=["quotes"],
        examples=[
            OpenApiExample(
                "10,000 at 12% over 12 months",
                value={
                    "principal": "10000.00",
                    "annual_rate": "12",
                    "term": 12,
                    "disbursement_date": "2026-01-15",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = QuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = calculators.quote(calculators.build_terms(data.validated_data))
        return Response(calculators.quote_payload(result))


class FlowInput(serializers.Serializer):
    date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))


class AprInput(serializers.Serializer):
    advances = FlowInput(many=True, allow_empty=False)
    payments = FlowInput(many=True, allow_empty=False)


class AprOutput(serializers.Serializer):
    apr = serializers.DecimalField(
        max_digits=10, decimal_places=4, help_text="APR in percent, 4 places."
    )


class AprView(CalculatorView):
    @extend_schema(
        operation_id="compute_apr",
        summary="APR of advances and payments by Regulation Z Appendix J (actuarial method)",
        request=AprInput,
        responses={200: AprOutput},
        tags=["quotes"],
    )
    def post(self, request):
        data = AprInput(data=request.data)
        data.is_valid(raise_exception=True)
        flows = data.validated_data
        rate = calculators.apr_percent(
            [(f["date"], f["amount"]) for f in flows["advances"]],
            [(f["date"], f["amount"]) for f in flows["payments"]],
        )
        return Response({"apr": str(rate)})
