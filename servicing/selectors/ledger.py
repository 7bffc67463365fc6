"""Ledger reads: the GL account each role of a product posts to, a loan's
balances per account role, and the trial balance across all loans. Nothing
here writes; `servicing.services.ledger` writes the entries these read."""

from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import Q, Sum

from core.exceptions import DomainError
from core.money import ZERO
from servicing.models import AccountRole, GLAccount, Loan, Posting, ProductAccount


@lru_cache(maxsize=256)
def accounts_for_product(product_id: int) -> dict[str, int]:
    """role -> GL account id for a product (cached); DomainError if the
    product's chart lacks a role."""
    mapping = dict(
        ProductAccount.objects.filter(product_id=product_id).values_list("role", "account_id")
    )
    missing = set(AccountRole.values) - set(mapping)
    if missing:
        raise DomainError(
            f"Product {product_id} has no GL account for {', '.join(sorted(missing))}.",
            code="chart_incomplete",
        )
    return mapping


def clear_account_cache() -> None:
    accounts_for_product.cache_clear()


def balances_by_role(loan: Loan, *, as_of: date | None = None) -> dict[str, Decimal]:
    """Debit-minus-credit per account role from the postings (as of a date)."""
    accounts = {v: k for k, v in accounts_for_product(loan.product_id).items()}
    postings = Posting.objects.filter(loan=loan)
    if as_of is not None:
        postings = postings.filter(effective_date__lte=as_of)
    rows = postings.values("account_id").annotate(d=Sum("debit"), c=Sum("credit"))
    out = dict.fromkeys(AccountRole.values, ZERO)
    for row in rows:
        out[accounts[row["account_id"]]] = row["d"] - row["c"]
    return out


def gl_trial_balance(*, as_of: date | None = None) -> list[dict]:
    """Every GL account's debits, credits and balance across all loans."""
    filt = Q() if as_of is None else Q(postings__effective_date__lte=as_of)
    return list(
        GLAccount.objects.annotate(
            debits=Sum("postings__debit", filter=filt), credits=Sum("postings__credit", filter=filt)
        )
        .values("code", "name", "kind", "debits", "credits")
        .order_by("code")
    )
