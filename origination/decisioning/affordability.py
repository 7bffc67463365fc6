"""Affordability: debt-to-income and payment-to-income, in exact Decimal.

All amounts are monthly, in the application's currency, as Decimal (or int
or str; floats are refused). Ratios are fractions (0.3625, not 36.25%),
rounded half-up to 4 places; money is rounded half-up to the cent.

`housing_cost` is rent, or the housing payment *not* already reported by the
bureau; the caller must not pass a mortgage payment that also appears in
`bureau_monthly_obligations`, or it is counted twice.

Joint applications (an applicant and a co-applicant) are assessed on the
household: the stated incomes are added and so are both subjects' bureau
obligations (`co_applicant_income`, `co_applicant_bureau_obligations`), and
DTI/PTI are taken on the combined figures. An account the two share appears
on both credit files and is then counted twice (conservative). The credit
score the policy and the scorecard use for a joint application is the lower
of the two subjects' scores (origination.decisioning.joint.decision_score);
affordability itself does not look at scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.money import CENT

RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Affordability:
    """The result of `assess_affordability`.

    dti: all monthly obligations including the proposed payment / income.
    pti: the proposed payment / income.
    residual_income: income minus all obligations (may be negative).
    income_zero: True when income is zero; dti and pti are then None (the
    rules engine sees them as missing and refers).
    gross_monthly_income and total_obligations are the combined (household)
    figures for a joint application; applicant_income / co_applicant_income
    and the two bureau obligations show how they were made up (the
    co-applicant's are None without a co-applicant).
    """

    gross_monthly_income: Decimal
    total_obligations: Decimal
    dti: Decimal | None
    pti: Decimal | None
    residual_income: Decimal
    income_zero: bool
    applicant_income: Decimal | None = None
    co_applicant_income: Decimal | None = None
    applicant_bureau_obligations: Decimal | None = None
    co_applicant_bureau_obligations: Decimal | None = None

    @property
    def joint(self) -> bool:
        return self.co_applicant_bureau_obligations is not None or (
            self.co_applicant_income is not None
        )

    def breakdown(self) -> dict[str, object]:
        """How the combined income and bureau obligations were made up."""
        return {
            "applicant_income": self.applicant_income,
            "co_applicant_income": self.co_applicant_income,
            "combined_income": self.gross_monthly_income,
            "applicant_bureau_obligations": self.applicant_bureau_obligations,
            "co_applicant_bureau_obligations": self.co_applicant_bureau_obligations,
        }

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
    co_applicant_income: object = None,
    co_applicant_bureau_obligations: object = None,
) -> Affordability:
    """Debt-to-income (back-end, including the proposed payment) and payment-to-income.

    For a joint application pass the co-applicant's stated monthly income
    (None when it is not captured separately, i.e. already included in
    `gross_monthly_income`) and their bureau monthly obligations: DTI and PTI
    are then on the combined income and the combined obligations."""
    own_income = _amount("gross_monthly_income", gross_monthly_income)
    own_bureau = _amount("bureau_monthly_obligations", bureau_monthly_obligations)
    co_income = (
        None if co_applicant_income is None else _amount("co_applicant_income", co_applicant_income)
    )
    co_bureau = (
        None
        if co_applicant_bureau_obligations is None
        else _amount("co_applicant_bureau_obligations", co_applicant_bureau_obligations)
    )
    income = own_income + (co_income or 0)
    bureau = own_bureau + (co_bureau or 0)
    housing = _amount("housing_cost", housing_cost)
    other = _amount("other_obligations", other_obligations)
    payment = _amount("proposed_payment", proposed_payment)

    total = (housing + bureau + other + payment).quantize(CENT, rounding=ROUND_HALF_UP)
    residual = (income - total).quantize(CENT, rounding=ROUND_HALF_UP)
    parts = {
        "applicant_income": own_income.quantize(CENT, rounding=ROUND_HALF_UP),
        "co_applicant_income": (
            None if co_income is None else co_income.quantize(CENT, rounding=ROUND_HALF_UP)
        ),
        "applicant_bureau_obligations": own_bureau.quantize(CENT, rounding=ROUND_HALF_UP),
        "co_applicant_bureau_obligations": (
            None if co_bureau is None else co_bureau.quantize(CENT, rounding=ROUND_HALF_UP)
        ),
    }
    if income == 0:
        return Affordability(
            gross_monthly_income=income.quantize(CENT),
            total_obligations=total,
            dti=None,
            pti=None,
            residual_income=residual,
            income_zero=True,
            **parts,
        )
    return Affordability(
        gross_monthly_income=income.quantize(CENT, rounding=ROUND_HALF_UP),
        total_obligations=total,
        dti=ratio(housing + bureau + other + payment, income),
        pti=ratio(payment, income),
        residual_income=residual,
        income_zero=False,
        **parts,
    )


def amount_to_income(amount: object, gross_monthly_income: object) -> Decimal | None:
    """Requested amount as a multiple of monthly income (4 places); None if income is zero."""
    principal = _amount("amount", amount)
    income = _amount("gross_monthly_income", gross_monthly_income)
    if income == 0:
        return None
    return ratio(principal, income)
