"""String enums of the engine's options; each value is the API's spelling."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AllocationMethod",
    "Amortization",
    "Component",
    "ExcessHandling",
    "FeeTreatment",
    "InterestMethod",
    "PrepaymentMode",
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
