"""Servicing products: create a product (version 1) or a new version."""

from django.db import transaction

from core import audit
from core.models import AuditCategory
from servicing.models import AccountRole, GLAccount, ProductAccount, ServicingProduct

# The standard chart (migration 0002): role -> account code.
DEFAULT_CHART = {
    AccountRole.CASH: "1100",
    AccountRole.PRINCIPAL: "1200",
    AccountRole.INTEREST: "1210",
    AccountRole.FEES: "1220",
    AccountRole.PENALTIES: "1230",
    AccountRole.UNAPPLIED: "2100",
    AccountRole.OVERPAYMENT: "2200",
    AccountRole.INTEREST_INCOME: "4100",
    AccountRole.FEE_INCOME: "4200",
    AccountRole.RECOVERY: "4300",
    AccountRole.CHARGE_OFF: "5100",
}
DEFAULT_ORDER = ["fees", "penalties", "interest", "principal"]


@transaction.atomic
def create_product(
    *, code: str, name: str, acting_user=None, chart=None, **settings
) -> ServicingProduct:
    """A new product, or the next version of `code` if it exists.

    `settings` are ServicingProduct fields; `chart` maps AccountRole to GL
    account codes (default: the standard chart)."""
    latest = ServicingProduct.objects.filter(code=code).order_by("-version").first()
    settings.setdefault("allocation_order", DEFAULT_ORDER)
    product = ServicingProduct.objects.create(
        code=code, name=name, version=(latest.version + 1) if latest else 1, **settings
    )
    if latest:
        ServicingProduct.objects.filter(code=code).exclude(pk=product.pk).update(is_active=False)
    codes = {**DEFAULT_CHART, **(chart or {})}
    accounts = dict(GLAccount.objects.filter(code__in=codes.values()).values_list("code", "pk"))
    ProductAccount.objects.bulk_create(
        ProductAccount(product=product, role=role, account_id=accounts[code])
        for role, code in codes.items()
    )
    audit.record(
        action="servicing_product.created",
        category=AuditCategory.CONFIG,
        obj=product,
        changes={"version": [latest.version if latest else None, product.version]},
        actor=acting_user,
    )
    return product
