"""Loan products: create, revise (a new version), price from the grid, the
engine terms of a loan on a product (decision, offers and disbursement use
them), and the default products used by the demo and the tests."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core import audit, money
from core.audit import actor_of
from core.exceptions import Conflict, ValidationFailed
from core.finance import (
    ENGINE_SETTINGS,
    InstallmentMethod,
    LoanTerms,
    PrincipalRounding,
    TermsError,
    installment_method_error,
    product_terms,
)
from core.models import AuditCategory
from origination.decisioning.default_rules import DEFAULT_RULE_SET
from origination.decisioning.rules import validate_rule_set
from origination.decisioning.scorecard import DEFAULT_SCORECARD, validate_scorecard
from origination.models import LoanProduct, Offer
from origination.services._common import require_perm
from servicing.boarding import servicing_product_for

MANAGE_PERMISSION = "origination.manage_products"

# Everything a product version carries (besides code and version).
PRODUCT_FIELDS = (
    "name",
    "description",
    "currency",
    "min_amount",
    "max_amount",
    "min_term",
    "max_term",
    "allowed_terms",
    *ENGINE_SETTINGS,
    "fees",
    "pricing_grid",
    "required_documents",
    "rule_set",
    "scorecard",
    "servicing_product_id",
    "late_fee_text",
    "auto_disburse",
    "offer_valid_days",
    "application_valid_days",
)

FEE_KINDS = ("percent", "flat")
FEE_TREATMENTS = ("withheld", "financed", "paid_separately")


def _decimal(value) -> Decimal | None:
    if isinstance(value, float | bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return result if result.is_finite() else None


def validate_product(values: dict) -> None:
    """Raise ValidationFailed (fields) for inconsistent product settings."""
    errors: dict[str, str] = {}
    min_amount, max_amount = _decimal(values["min_amount"]), _decimal(values["max_amount"])
    if min_amount is None or min_amount <= 0:
        errors["min_amount"] = "Must be a positive amount."
    if max_amount is None or (min_amount is not None and max_amount < min_amount):
        errors["max_amount"] = "Must be at least the minimum amount."
    min_term, max_term = values["min_term"], values["max_term"]
    if not isinstance(min_term, int) or min_term < 1:
        errors["min_term"] = "Must be a whole number of months, at least 1."
    if not isinstance(max_term, int) or (isinstance(min_term, int) and max_term < min_term):
        errors["max_term"] = "Must be at least the minimum term."
    terms = values.get("allowed_terms") or []
    if not isinstance(terms, list) or any(
        not isinstance(t, int) or isinstance(t, bool) or not (min_term <= t <= max_term)
        for t in terms
    ):
        errors["allowed_terms"] = "Each allowed term must be a whole number within the term limits."
    for fee in values.get("fees") or []:
        if (
            not isinstance(fee, dict)
            or not str(fee.get("name", "")).strip()
            or fee.get("kind") not in FEE_KINDS
            or fee.get("treatment") not in FEE_TREATMENTS
            or _decimal(fee.get("value")) is None
            or _decimal(fee.get("value")) < 0
            or not isinstance(fee.get("finance_charge", True), bool)
        ):
            errors["fees"] = (
                "Each fee needs a name, kind (percent|flat), a non-negative value as a string, "
                "treatment (withheld|financed|paid_separately) and finance_charge (true|false)."
            )
            break
    for band in values.get("pricing_grid") or []:
        rate = _decimal(band.get("annual_rate")) if isinstance(band, dict) else None
        ints = isinstance(band, dict) and all(
            isinstance(band.get(k), int) for k in ("min_score", "max_score", "min_term", "max_term")
        )
        if (
            not ints
            or rate is None
            or not (Decimal(0) <= rate < Decimal(1))
            or band["min_score"] > band["max_score"]
            or band["min_term"] > band["max_term"]
        ):
            errors["pricing_grid"] = (
                "Each band needs integer min_score <= max_score, min_term <= max_term and an "
                'annual_rate fraction as a string ("0.1299").'
            )
            break
    for name, enum in (
        ("installment_method", InstallmentMethod),
        ("equal_principal_rounding", PrincipalRounding),
    ):
        if name in values and values[name] not in {member.value for member in enum}:
            errors[name] = f"Choose one of {', '.join(member.value for member in enum)}."
    method_error = installment_method_error(
        values.get("installment_method"),
        values.get("amortization", "equal_installments"),
        values.get("interest_method", "declining_balance"),
    )
    if method_error and "installment_method" not in errors:
        errors["installment_method"] = method_error[0].upper() + method_error[1:] + "."
    for doc in values.get("required_documents") or []:
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("label"):
            errors["required_documents"] = "Each required document needs a kind and a label."
            break
    if errors:
        raise ValidationFailed("The product settings are not valid.", fields=errors)
    # the rule set and scorecard raise their own ValidationFailed subclasses
    validate_rule_set(values["rule_set"])
    validate_scorecard(values["scorecard"])


def create_product(*, code: str, data: dict, acting_user=None) -> LoanProduct:
    """Version 1 of a new product code. `data` holds PRODUCT_FIELDS values
    (rule_set/scorecard default to the shipped ones)."""
    if acting_user is not None:
        require_perm(acting_user, MANAGE_PERMISSION, "Your role may not manage loan products.")
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationFailed(
            "Unknown product fields.", fields=dict.fromkeys(sorted(unknown), "Unknown field.")
        )
    values = {
        "rule_set": DEFAULT_RULE_SET,
        "scorecard": DEFAULT_SCORECARD,
        **data,
    }
    validate_product(values)
    with transaction.atomic():
        if LoanProduct.objects.filter(code=code).exists():
            raise Conflict(
                f"A product with code {code!r} exists; revise it instead.", code="product_exists"
            )
        product = LoanProduct.objects.create(code=code, version=1, **values)
        audit.record(
            action="loan_product.created",
            category=AuditCategory.CONFIG,
            obj=product,
            metadata={"code": code, "version": 1},
            actor=actor_of(acting_user),
        )
    return product


def revise_product(product: LoanProduct, changes: dict, acting_user=None) -> LoanProduct:
    """A new version of `product` with `changes`; the old version is
    deactivated. Applications keep the version they were priced on.
    Only the latest version can be revised (Conflict otherwise)."""
    if acting_user is not None:
        require_perm(acting_user, MANAGE_PERMISSION, "Your role may not manage loan products.")
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationFailed(
            "Unknown product fields.", fields=dict.fromkeys(sorted(unknown), "Unknown field.")
        )
    with transaction.atomic():
        versions = list(
            LoanProduct.objects.select_for_update().filter(code=product.code).order_by("-version")
        )
        latest = versions[0]
        if latest.pk != product.pk:
            raise Conflict(
                f"Version {product.version} of {product.code} is not the latest "
                f"(v{latest.version}); revise the latest version.",
                code="stale_product_version",
            )
        values = {name: getattr(latest, name) for name in PRODUCT_FIELDS}
        values.update(changes)
        validate_product(values)
        LoanProduct.objects.filter(code=product.code, is_active=True).update(is_active=False)
        revised = LoanProduct.objects.create(
            code=product.code, version=latest.version + 1, is_active=True, **values
        )
        audit.record(
            action="loan_product.revised",
            category=AuditCategory.CONFIG,
            obj=revised,
            changes=audit.diff(
                audit.snapshot(latest, sorted(changes)), audit.snapshot(revised, sorted(changes))
            ),
            metadata={"code": product.code, "from_version": latest.version},
            actor=actor_of(acting_user),
        )
    return revised


def price_for(product: LoanProduct, score: int | None, term: int) -> Decimal | None:
    """The annual rate (fraction) of the first grid band holding `score` and
    `term`; None when there is no score or no band (cannot price)."""
    if score is None:
        return None
    for band in product.pricing_grid:
        if (
            band["min_score"] <= score <= band["max_score"]
            and band["min_term"] <= term <= band["max_term"]
        ):
            return Decimal(str(band["annual_rate"]))
    return None


def highest_rate_for(product: LoanProduct, term: int) -> Decimal | None:
    """The highest grid rate for `term`: a conservative rate for the
    proposed payment when the applicant cannot be priced."""
    rates = [
        Decimal(str(b["annual_rate"]))
        for b in product.pricing_grid
        if b["min_term"] <= term <= b["max_term"]
    ]
    return max(rates) if rates else None


DEFAULT_PRODUCT_CODE = "personal-loan"

DEFAULT_GRID = [
    # (min score, max score, rate for 12-36 months, rate for 48-60 months)
    (760, 850, "0.0799", "0.0899"),
    (720, 759, "0.1099", "0.1199"),
    (680, 719, "0.1499", "0.1599"),
    (640, 679, "0.1999", "0.2149"),
    (580, 639, "0.2699", "0.2899"),
]


def default_product_data(servicing_product_id: int | None = None) -> dict:
    grid = []
    for low, high, short, long in DEFAULT_GRID:
        grid.append(
            {
                "min_score": low,
                "max_score": high,
                "min_term": 12,
                "max_term": 36,
                "annual_rate": short,
            }
        )
        grid.append(
            {
                "min_score": low,
                "max_score": high,
                "min_term": 37,
                "max_term": 60,
                "annual_rate": long,
            }
        )
    return {
        "name": "Personal installment loan",
        "description": "Unsecured fixed-rate personal loan, $1,000 to $35,000, 12 to 60 months.",
        "min_amount": Decimal("1000.00"),
        "max_amount": Decimal("35000.00"),
        "min_term": 12,
        "max_term": 60,
        "allowed_terms": [12, 24, 36, 48, 60],
        "fees": [
            {
                "name": "origination",
                "kind": "percent",
                "value": "0.03",
                "treatment": "withheld",
                "finance_charge": True,
            }
        ],
        "pricing_grid": grid,
        "required_documents": [],
        "servicing_product_id": servicing_product_id,
        "late_fee_text": ("If a payment is more than 10 days late, you will be charged $25.00."),
    }


def seed_default_products() -> list[LoanProduct]:
    """The default products (created if missing; existing ones are kept)."""
    existing = LoanProduct.objects.filter(code=DEFAULT_PRODUCT_CODE, is_active=True).first()
    if existing is not None:
        return [existing]
    return [
        create_product(
            code=DEFAULT_PRODUCT_CODE,
            data=default_product_data(servicing_product_for("personal")),
        )
    ]


def fee_amounts(product: LoanProduct, principal: Decimal) -> list[dict]:
    """The product's fees for `principal` as core.finance Fee kwargs."""
    fees = []
    for fee in product.fees:
        value = Decimal(str(fee["value"]))
        amount = money.quantize(principal * value if fee["kind"] == "percent" else value)
        fees.append(
            {
                "name": fee["name"],
                "amount": amount,
                "treatment": fee["treatment"],
                "finance_charge": bool(fee.get("finance_charge", True)),
            }
        )
    return fees


def product_fees(product: LoanProduct, amount: Decimal) -> list[dict]:
    """The product's fees on `amount` (fee_amounts: a "percent" value is a
    fraction of the amount, "0.03" = 3 %) as JSON-safe engine fee dicts,
    the form stored on the offer and given to boarding."""
    return [{**fee, "amount": str(fee["amount"])} for fee in fee_amounts(product, amount)]


def loan_terms(
    product: LoanProduct,
    *,
    amount: Decimal,
    term: int,
    annual_rate: Decimal,
    disbursement_date: date,
    first_payment_date: date | None = None,
    fees: list[dict] | None = None,
) -> LoanTerms:
    """The engine's LoanTerms for a loan of `amount` on `product`
    (core.finance.product_terms; the product's fees on the amount unless
    `fees` are given). ValidationFailed (invalid_terms) if refused."""
    try:
        return product_terms(
            product,
            principal=amount,
            annual_rate=annual_rate,
            term=term,
            disbursement_date=disbursement_date,
            first_payment_date=first_payment_date,
            fees=fees if fees is not None else product_fees(product, amount),
        )
    except TermsError as exc:
        raise ValidationFailed(
            "The offer's terms are not valid.",
            code="invalid_terms",
            fields={k: [v] for k, v in exc.errors.items()},
        ) from exc


def offer_disbursement_date(offer: Offer) -> date:
    """The disbursement date the offer's schedule assumes (its first period start)."""
    return date.fromisoformat(offer.schedule[0]["period_start"])


def offer_terms(offer: Offer, *, disbursement_date: date | None = None) -> LoanTerms:
    """The engine terms an offer was priced on (disbursed on its own date
    unless `disbursement_date` is given)."""
    return loan_terms(
        offer.application.product,
        amount=offer.amount,
        term=offer.term,
        annual_rate=offer.annual_rate,
        disbursement_date=disbursement_date or offer_disbursement_date(offer),
        first_payment_date=offer.first_payment_date,
        fees=offer.fees,
    )
