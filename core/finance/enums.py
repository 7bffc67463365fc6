"""String enums of the engine's options; each value is the API's spelling."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AllocationMethod",
    "Amortization",
    "Component",
    "ExcessHandling",
    "FeeTreatment",
    "InstallmentMethod",
    "InterestMethod",
    "PrepaymentMode",
    "PrincipalRounding",
    "RepaymentUnit",
]


class RepaymentUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    SEMI_MONTHS = "semi_months"


class InterestMethod(StrEnum):
    DECLINING_BALANCE = "declining_balance"
    FLAT = "flat"


class InstallmentMethod(StrEnum):
    """How the level (equal_installments) instalment is solved; see core.finance.schedule."""

    NOMINAL_RATE = "nominal_rate"  # one nominal periodic rate: annual rate / periods per year
    PERIOD_RATES = "period_rates"  # each period's own rate: annual rate x its year fraction
    # period_rates plus Fineract's one-step EMI adjustment of a far-off last instalment
    PERIOD_RATES_ADJUSTED = "period_rates_adjusted"


class PrincipalRounding(StrEnum):
    """How an equal_principal schedule rounds its principal part."""

    CENTS = "cents"  # (amount - balloon) / instalments, to the cent; the last takes the residue
    INSTALLMENT_MULTIPLE = "installment_multiple"  # to installment_multiple (before issue 13)


class Amortization(StrEnum):
    EQUAL_INSTALLMENTS = "equal_installments"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_ONLY = "interest_only"


class FeeTreatment(StrEnum):
    WITHHELD = "withheld"
    FINANCED = "financed"
    PAID_SEPARATELY = "paid_separately"


class PrepaymentMode(StrEnum):
    REDUCE_TERM = "reduce_term"
    REDUCE_INSTALLMENT = "reduce_installment"


class Component(StrEnum):
    FEES = "fees"
    PENALTIES = "penalties"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AllocationMethod(StrEnum):
    HORIZONTAL = "horizontal"  # due-date order: oldest instalment first, then the next
    VERTICAL = "vertical"  # component first: one component across all instalments


class ExcessHandling(StrEnum):
    PREPAYMENT = "prepayment"
    UNAPPLIED = "unapplied"
