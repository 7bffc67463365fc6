"""The declared decision variables: the only names rules and scorecards may use.

Each variable has a type ("int", "decimal", "bool" or "str") and a
description with its unit. Ratios are fractions (0.43), money is monthly and
in the application's currency. A value of None means "not known", which the
rules engine treats as missing (and refers).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

VariableType = Literal["int", "decimal", "bool", "str"]


@dataclass(frozen=True)
class Variable:
    name: str
    type: VariableType
    description: str


def _v(name: str, type_: VariableType, description: str) -> tuple[str, Variable]:
    return name, Variable(name, type_, description)


VARIABLES: dict[str, Variable] = dict(
    [
        _v("score", "int", "Bureau credit score (e.g. 300-850); missing on a no-hit or thin file"),
        _v(
            "dti",
            "decimal",
            "Debt-to-income: all monthly obligations incl. the new payment / income",
        ),
        _v("pti", "decimal", "Payment-to-income: the proposed monthly payment / income"),
        _v("monthly_income", "decimal", "Stated gross monthly income"),
        _v("residual_income", "decimal", "Monthly income left after all obligations"),
        _v("amount", "decimal", "Requested principal amount"),
        _v("amount_to_income", "decimal", "Requested amount / gross monthly income"),
        _v("term", "int", "Requested term in months"),
        _v("employment_months", "int", "Months with the current employer"),
        _v(
            "delinquencies_24m",
            "int",
            "Late months (30+ days) on bureau trade lines, last 24 months",
        ),
        _v("delinquencies_90_24m", "int", "Late months of 90+ days, last 24 months"),
        _v("public_records", "int", "Number of public records on the bureau file"),
        _v("has_bankruptcy", "bool", "A bankruptcy public record is on the bureau file"),
        _v("inquiries_6m", "int", "Credit inquiries in the last 6 months"),
        _v("oldest_trade_months", "int", "Age in months of the oldest trade line"),
        _v("bureau_monthly_obligations", "decimal", "Monthly payments on open bureau trade lines"),
        _v("thin_file", "bool", "Bureau file too small or young to score"),
        _v("no_credit_file", "bool", "The bureau found no file for the applicant"),
        _v("bureau_unavailable", "bool", "The bureau could not be reached after retries"),
        _v("age", "int", "Applicant age in whole years on the application date"),
        _v("residential_status", "str", "own | rent | with_family | other"),
        _v("scorecard_points", "int", "Total points from the application scorecard"),
        _v("kyc_passed", "bool", "Identity checks (tax id, age, address) passed"),
        _v("sanctions_hit", "bool", "Sanctions screening found a potential match"),
    ]
)


class VariableTypeError(TypeError):
    """A variable's value has the wrong type for its declaration."""


def coerce(variable: Variable, value: Any) -> Any:
    """Normalise `value` for comparison: numbers to Decimal, bools and strings as is.

    Floats are refused (exactness), bools are not numbers, numeric strings
    are accepted. Raises VariableTypeError naming the variable.
    """
    if variable.type == "bool":
        if not isinstance(value, bool):
            raise VariableTypeError(f"{variable.name} must be true or false, got {value!r}")
        return value
    if variable.type == "str":
        if not isinstance(value, str):
            raise VariableTypeError(f"{variable.name} must be a string, got {value!r}")
        return value
    if isinstance(value, bool | float):
        raise VariableTypeError(
            f"{variable.name} must be a Decimal, int or numeric string, got {value!r}"
        )
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise VariableTypeError(f"{variable.name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise VariableTypeError(f"{variable.name} must be finite, got {value!r}")
    if variable.type == "int" and number != number.to_integral_value():
        raise VariableTypeError(f"{variable.name} must be a whole number, got {value!r}")
    return number


def json_safe(value: Any) -> Any:
    """Decimal -> str, tuples -> lists, for storing traces as JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
