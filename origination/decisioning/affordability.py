"""Affordability: debt-to-income and payment-to-income, in exact Decimal.

All amounts are monthly, in the application's currency, as Decimal (or int
or str; floats are refused). Ratios are fractions (0.3625, not 36.25%),
rounded half-up to 4 places; money is rounded half-up to the cent.

`housing_cost` is rent, or the housing payment *not* already reported by the
bureau; the caller must not pass a mortgage payment that also appears in
`bureau_monthly_obligations`, or it is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RATIO_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Affordability:
    """The result of `assess_affordability`.

    dti: all monthly obligations including the proposed payment / income.
    pti: the proposed payment / income.
    residual_income: income minus all obligations (may be negative).
    income_zero: True when income is zero; dti and pti are then None (the
    rules engine sees them as missing and refers).
    """

    gross_monthly_income: Decimal
    total_obligations: Decimal
    dti: Decimal | None
    pti: Decimal | None
    residual_income: Decimal
    income_zero: bool

    def variables(self) -> dict[str, object]:
        """The policy-rule variables this assessment supplies."""
        return {
            "dti": self.dti,
            "pti": self.pti,
            "monthly_income": self.gross_monthly_income,
            "residual_income": self.residual_income,
        }


def _amount(name: str, value: object) -> Decimal:
    if isinstance(value, float | bool):
        raise TypeError(f"{name}: pass a Decimal, int or str, not {type(value).__name__}")
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite amount")
    if amount < 0:
        raise ValueError(f"{name} may not be negative")
    return amount


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator, half-up to 4 places; denominator must be non-zero."""
    return (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def assess_affordability(
    *,
    gross_monthly_income: object,
    housing_cost: object,
    bureau_monthly_obligations: object,
    other_obligations: object,
    proposed_payment: object,
) -> Affordability:
    """Debt-to-income (back-end, including the proposed payment) and payment-to-income."""
    income = _amount("gross_monthly_income", gross_monthly_income)
    housing = _amount("housing_cost", housing_cost)
    bureau = _amount("bureau_monthly_obligations", bureau_monthly_obligations)
    other = _amount("other_obligations", other_obligations)
    payment = _amount("proposed_payment", proposed_payment)

    total = (housing + bureau + other + payment).quantize(CENT, rounding=ROUND_HALF_UP)
    residual = (income - total).quantize(CENT, rounding=ROUND_HALF_UP)
    if income == 0:
        return Affordability(
            gross_monthly_income=income.quantize(CENT),
            total_obligations=total,
            dti=None,
            pti=None,
            residual_income=residual,
            income_zero=True,
        )
    return Affordability(
        gross_monthly_income=income.quantize(CENT, rounding=ROUND_HALF_UP),
        total_obligations=total,
        dti=ratio(housing + bureau + other + payment, income),
        pti=ratio(payment, income),
        residual_income=residual,
        income_zero=False,
    )


def amount_to_income(amount: object, gross_monthly_income: object) -> Decimal | None:
    """Requested amount as a multiple of monthly income (4 places); None if income is zero."""
    principal = _amount("amount", amount)
    income = _amount("gross_monthly_income", gross_monthly_income)
    if income == 0:
        return None
    return ratio(principal, income)
