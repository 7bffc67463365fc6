"""Reads of loan products: for the products admin, products by code with
their versions and one version with its context (applications priced on it,
the servicing product it boards onto); for integrators (the products API),
the products offered now."""

from dataclasses import dataclass, field

from django.db.models import Count, Q

from origination.models import LoanProduct
from servicing.boarding import servicing_products as _servicing_products


@dataclass
class ProductFamily:
    """Every version of one product code, newest first."""

    code: str
    versions: list = field(default_factory=list)

    @property
    def latest(self) -> LoanProduct:
        return self.versions[0]

    @property
    def active(self) -> LoanProduct | None:
        return next((v for v in self.versions if v.is_active), None)


def product_families() -> list[ProductFamily]:
    """All products grouped by code; each version annotated with
    `application_count` (applications priced on it)."""
    families: dict[str, ProductFamily] = {}
    rows = LoanProduct.objects.annotate(application_count=Count("applications")).order_by(
        "code", "-version"
    )
    for product in rows:
        families.setdefault(product.code, ProductFamily(product.code)).versions.append(product)
    return list(families.values())


def product_with_versions(product_id: int) -> tuple[LoanProduct, list[LoanProduct]]:
    """The product version and every version of its code (newest first,
    with `application_count`). Raises LoanProduct.DoesNotExist."""
    product = LoanProduct.objects.get(pk=product_id)
    versions = list(
        LoanProduct.objects.filter(code=product.code)
        .annotate(application_count=Count("applications"))
        .order_by("-version")
    )
    return product, versions


def servicing_product(product: LoanProduct) -> dict | None:
    """The servicing product `product` boards onto ({"id", "code", "version",
    "name"}), or None (none set, or that version is no longer active)."""
    if product.servicing_product_id is None:
        return None
    return next((p for p in servicing_products() if p["id"] == product.servicing_product_id), None)


def servicing_products() -> list[dict]:
    """Servicing products a loan product can board onto (active versions),
    through servicing.boarding (origination's only door into servicing)."""
    return _servicing_products()


# --- what an applicant may apply for (the products API) -----------------------------

# The columns an integrator sees; the rule set and scorecard are the lender's
# policy and stay private.
OFFERED_FIELDS = (
    "id",
    "code",
    "version",
    "name",
    "description",
    "currency",
    "min_amount",
    "max_amount",
    "min_term",
    "max_term",
    "allowed_terms",
    "repayment_every",
    "repayment_unit",
    "interest_method",
    "amortization",
    "day_count",
    "installment_method",
    "equal_principal_rounding",
    "fees",
    "pricing_grid",
    "required_documents",
    "late_fee_text",
    "offer_valid_days",
    "application_valid_days",
)


def offered_products():
    """The products an application may be started on now: the active
    version of each code (revise_product deactivates the older ones), by
    name then code. A `.values(*OFFERED_FIELDS)` queryset: plain dicts, one
    query per page."""
    return (
        LoanProduct.objects.filter(is_active=True).order_by("name", "code").values(*OFFERED_FIELDS)
    )


def offered_product(ref: str) -> dict | None:
    """The offered product with id `ref` (ASCII digits) or code `ref`, as
    offered_products() rows; None when there is none, or that version is no
    longer offered. An id wins over a code made only of digits. One query."""
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        rows = list(offered_products().filter(Q(pk=int(ref)) | Q(code=ref)))
        return next((r for r in rows if r["id"] == int(ref)), rows[0] if rows else None)
    return offered_products().filter(code=ref).first()


def terms_offered(allowed_terms: list, min_term: int, max_term: int) -> list[int]:
    """The terms (months) an application may ask for, ascending: the
    product's allowed terms, or every whole month within its limits when it
    lists none (as services.applications accepts)."""
    if allowed_terms:
        return sorted({int(t) for t in allowed_terms if min_term <= int(t) <= max_term})
    return list(range(min_term, max_term + 1))
