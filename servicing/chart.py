"""The standard chart of accounts every product maps its roles to.

Created by migration 0002 and again after every migrate/flush (post_migrate),
so a test run that truncates tables between transactional tests gets it back,
just as the staff role groups are re-synced."""

ACCOUNTS = (
    ("1100", "Cash clearing", "asset"),
    ("1200", "Loan principal receivable", "asset"),
    ("1210", "Interest receivable", "asset"),
    ("1215", "Accrued interest receivable", "asset"),
    ("1220", "Fees receivable", "asset"),
    ("1230", "Penalties receivable", "asset"),
    ("2100", "Unapplied funds", "liability"),
    ("2200", "Borrower overpayments", "liability"),
    ("4100", "Interest income", "income"),
    ("4200", "Fee income", "income"),
    ("4300", "Recovery income", "income"),
    ("5100", "Charge-off expense", "expense"),
)


def ensure_chart(GLAccount) -> None:
    """Create any missing standard account (`GLAccount` may be a historical model)."""
    existing = set(GLAccount.objects.values_list("code", flat=True))
    GLAccount.objects.bulk_create(
        GLAccount(code=code, name=name, kind=kind)
        for code, name, kind in ACCOUNTS
        if code not in existing
    )


def ensure_chart_after_migrate(sender, **kwargs) -> None:
    from servicing.models import GLAccount

    ensure_chart(GLAccount)
