"""Reads of the loan products admin: products by code with their versions,
one version with its context (applications priced on it, the servicing
product it boards onto)."""

from dataclasses import dataclass, field

from django.db.models import Count

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
