"""Origination REST API, products: the loan products an integrator may
start an application on (`POST /api/v1/applications/` takes the `code`),
with their amount and term limits, the terms offered, the fees and the
risk-based pricing grid. Read-only.

Only the active version of each product code is shown; an older version
(replaced by a revision) or a withdrawn product is 404, by id and by code.
Money is a two-decimal string, rates and percent fees are in percent with
four places (as everywhere in the API); the models keep fractions.

Access: API keys need `applications:read` (the scope of every integrator
that starts applications); staff sessions origination.view_application.
Any other method is 405 for every key that may read.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.exceptions import NotFound
from customers.api.customers import ErrorSerializer
from origination.api.applications import VIEW
from origination.api.serializers import MONEY, rate_percent
from origination.selectors import products as selectors_products

# The endpoints are read-only: a write method is answered 405 (not 403) for
# a key that may read, since the operation does not exist at all.
_NO_WRITES = dict.fromkeys(("POST", "PUT", "PATCH", "DELETE"), "read")
PERCENT = {"max_digits": 10, "decimal_places": 4}
READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer}


class ProductFeeSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField(help_text="percent (of the loan amount) or flat.")
    percent = serializers.DecimalField(
        **PERCENT, allow_null=True, help_text="For kind percent: percent of the loan amount."
    )
    amount = serializers.DecimalField(**MONEY, allow_null=True, help_text="For kind flat.")
    treatment = serializers.CharField(
        help_text="withheld (from the disbursement), financed (added to the principal) or "
        "paid_separately."
    )
    finance_charge = serializers.BooleanField(help_text="Counts as a finance charge (TILA).")


class PricingBandSerializer(serializers.Serializer):
    min_score = serializers.IntegerField(help_text="Credit score band, inclusive.")
    max_score = serializers.IntegerField()
    min_term = serializers.IntegerField(help_text="Term range in months, inclusive.")
    max_term = serializers.IntegerField()
    annual_rate = serializers.DecimalField(**PERCENT, help_text="Nominal annual rate in percent.")


class RequiredDocumentSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The `kind` to upload the document as.")
    label = serializers.CharField()


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Id of this version.")
    code = serializers.CharField(help_text="Give this as `product` to start an application.")
    version = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    currency = serializers.CharField()
    min_amount = serializers.DecimalField(**MONEY)
    max_amount = serializers.DecimalField(**MONEY)
    min_term = serializers.IntegerField(help_text="Months.")
    max_term = serializers.IntegerField(help_text="Months.")
    terms_offered = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The terms (months) an application may ask for, ascending.",
    )
    repayment_every = serializers.IntegerField(help_text="One instalment every N units.")
    repayment_unit = serializers.CharField(help_text="days, weeks, months or semi_months.")
    interest_method = serializers.CharField(help_text="declining_balance or flat.")
    amortization = serializers.CharField(
        help_text="equal_installments, equal_principal or interest_only."
    )
    day_count = serializers.CharField(help_text="e.g. 30/360, actual/365.")
    installment_method = serializers.CharField(
        help_text="nominal_rate, period_rates (each period's own rate from its days, as "
        "Fineract's progressive schedule) or period_rates_adjusted (with its EMI adjustment)."
    )
    equal_principal_rounding = serializers.CharField(
        help_text="cents or installment_multiple: how an equal-principal part is rounded."
    )
    fees = ProductFeeSerializer(many=True)
    pricing_grid = PricingBandSerializer(
        many=True,
        help_text="The rate is the first band holding the applicant's score and the term.",
    )
    required_documents = RequiredDocumentSerializer(many=True)
    late_fee_text = serializers.CharField(allow_blank=True)
    offer_valid_days = serializers.IntegerField(help_text="Days an offer may be accepted.")
    application_valid_days = serializers.IntegerField(
        help_text="Days from the start before an unfinished application expires."
    )


def _fee(fee: dict) -> dict:
    value = Decimal(str(fee["value"]))
    percent = fee["kind"] == "percent"
    return {
        "name": fee["name"],
        "kind": fee["kind"],
        "percent": rate_percent(value) if percent else None,
        "amount": None if percent else value,
        "treatment": fee["treatment"],
        "finance_charge": bool(fee.get("finance_charge", True)),
    }


def _band(band: dict) -> dict:
    return {
        **{k: band[k] for k in ("min_score", "max_score", "min_term", "max_term")},
        "annual_rate": rate_percent(Decimal(str(band["annual_rate"]))),
    }


def product_body(row: dict) -> dict:
    """An offered_products() row as the API shows it."""
    return {
        **row,
        "terms_offered": selectors_products.terms_offered(
            row["allowed_terms"], row["min_term"], row["max_term"]
        ),
        "fees": [_fee(f) for f in row["fees"]],
        "pricing_grid": [_band(b) for b in row["pricing_grid"]],
    }


class ProductView(GenericAPIView):
    api_scope = "applications"
    api_scope_access = _NO_WRITES
    required_permissions = {"*": (VIEW,)}
    serializer_class = ProductSerializer
    filter_backends: list = []


class ProductListView(ProductView):
    @extend_schema(
        operation_id="products_list",
        summary="List the loan products offered",
        description=(
            "The active version of every product, by name; paginated (`page`, "
            "`page_size` up to 200)."
        ),
        tags=["products"],
        responses={200: ProductSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors_products.offered_products())
        body = [product_body(row) for row in page]
        return self.get_paginated_response(ProductSerializer(body, many=True).data)


class ProductDetailView(ProductView):
    pagination_class = None

    @extend_schema(
        operation_id="products_retrieve",
        summary="Get one offered loan product",
        description="By id (of the active version) or code. Not offered: 404.",
        tags=["products"],
        parameters=[
            OpenApiParameter(
                "ref",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The product's id or its code (e.g. personal-loan).",
            )
        ],
        responses={200: ProductSerializer, **READ_ERRORS, 404: ErrorSerializer},
    )
    def get(self, request, ref: str):
        row = selectors_products.offered_product(ref)
        if row is None:
            raise NotFound(f"No product {ref!r} is offered.")
        return Response(ProductSerializer(product_body(row)).data)
