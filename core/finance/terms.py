"""Loan terms: the frozen, validated input of `build_schedule` and `tila`.

Field names are the quote API's. Units: money is `Decimal` in whole cents;
`annual_rate` is a nominal annual rate as a decimal fraction (0.0725 for
7.25 %); `term` is the number of instalments; periods are `repayment_every`
x `repayment_unit` (semi-months: twice a month, `repayment_every` must be 1).
Strings are accepted for the enum fields and amounts (the API passes JSON
values through); floats are refused for money. Every problem found is
reported at once in `TermsError.errors`, keyed by field name.

Two conventions published schedules differ on (rules in
`core.finance.schedule`):

- `installment_method`: "nominal_rate" (the default) solves the level
  instalment with one nominal periodic rate; "period_rates" solves it over
  each period's own rate (annual rate x the day count's year fraction of that
  period, e.g. actual days / 365), as Apache Fineract's progressive schedule
  does; "period_rates_adjusted" adds Fineract's EMI adjustment step. Only for
  equal_installments with declining_balance interest.
- `equal_principal_rounding`: "cents" (the default) rounds an equal-principal
  schedule's principal part to the cent (`installment_multiple` applies to
  level instalments only); "installment_multiple" rounds it to the instalment
  multiple, as schedules built before this setting existed did.

Fees are charged at origination and treated as:

- withheld: deducted from the cash disbursed (the note is the principal);
- financed: added to the note (the balance that bears interest is
  principal + financed fees);
- paid_separately: paid in cash at closing, outside the loan.

`finance_charge=True` marks a prepaid finance charge (Regulation Z
1026.4/1026.18(b)): whatever its treatment it is deducted from the amount
financed. Non-finance-charge fees that are financed or withheld are part of
the amount financed (credit extended on the borrower's behalf).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.finance.daycount import DayCount, parse_day_count
from core.finance.enums import (
    Amortization,
    FeeTreatment,
    InstallmentMethod,
    InterestMethod,
    PrincipalRounding,
    RepaymentUnit,
)
from core.finance.errors import TermsError
from core.money import CENT, ROUNDING_MODES

__all__ = [
    "ENGINE_SETTINGS",
    "MAX_ANNUAL_RATE",
    "MAX_TERM",
    "Fee",
    "LoanTerms",
    "installment_method_error",
    "product_terms",
]

MAX_ANNUAL_RATE = Decimal(10)  # 1,000 %: anything above is a percent passed as a fraction
MAX_TERM = 10_000


def _decimal(value: object, name: str, errors: dict[str, str]) -> Decimal | None:
    if isinstance(value, (bool, float)):
        errors[name] = "must be a decimal string or Decimal, not a float"
        return None
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors[name] = f"{value!r} is not a number"
        return None
    if not result.is_finite():
        errors[name] = "must be a finite number"
        return None
    return result


def _cents(value: object, name: str, errors: dict[str, str]) -> Decimal | None:
    result = _decimal(value, name, errors)
    if result is not None and result != result.quantize(CENT):
        errors[name] = "must be a whole number of cents"
        return None
    return None if result is None else result.quantize(CENT)


def _integer(value: object, name: str, errors: dict[str, str]) -> int | None:
    if isinstance(value, bool):
        errors[name] = "must be an integer"
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    errors[name] = "must be an integer"
    return None


def _date(value: object, name: str, errors: dict[str, str]) -> date | None:
    if isinstance(value, datetime):
        errors[name] = "must be a date, not a datetime"
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors[name] = "must be a date (YYYY-MM-DD)"
    return None


def _choice(enum_type, value: object, name: str, errors: dict[str, str]):
    try:
        return enum_type(value)
    except ValueError:
        names = ", ".join(f'"{member.value}"' for member in enum_type)
        errors[name] = f"unknown value {value!r}; use one of {names}"
        return None


@dataclass(frozen=True)
class Fee:
    """An origination fee. See the module docstring for `treatment`."""

    name: str
    amount: Decimal
    treatment: FeeTreatment = FeeTreatment.WITHHELD
    finance_charge: bool = True

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        amount = _cents(self.amount, "amount", errors)
        treatment = _choice(FeeTreatment, self.treatment, "treatment", errors)
        if not isinstance(self.name, str) or not self.name.strip():
            errors["name"] = "must be a non-empty string"
        if amount is not None and amount < 0:
            errors["amount"] = "must not be negative"
        if not isinstance(self.finance_charge, bool):
            errors["finance_charge"] = "must be true or false"
        if errors:
            raise TermsError({"fees": _fee_message(self.name, errors)})
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "treatment", treatment)


def _fee_message(name: object, errors: dict[str, str]) -> str:
    parts = "; ".join(f"{key} {message}" for key, message in errors.items())
    return f"fee {name!r}: {parts}"


def _fees(value: object, errors: dict[str, str]) -> tuple[Fee, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        errors["fees"] = "must be a list of fees"
        return ()
    result = []
    for item in value:
        try:
            result.append(item if isinstance(item, Fee) else Fee(**item))
        except TermsError as exc:
            errors["fees"] = exc.errors["fees"]
        except TypeError as exc:
            errors["fees"] = f"each fee needs name, amount, treatment, finance_charge ({exc})"
    return tuple(result)


@dataclass(frozen=True, kw_only=True)
class LoanTerms:
    """Validated loan terms; constructing one with bad values raises TermsError."""

    principal: Decimal
    annual_rate: Decimal
    term: int
    disbursement_date: date
    repayment_every: int = 1
    repayment_unit: RepaymentUnit = RepaymentUnit.MONTHS
    first_payment_date: date | None = None
    interest_method: InterestMethod = InterestMethod.DECLINING_BALANCE
    amortization: Amortization = Amortization.EQUAL_INSTALLMENTS
    day_count: DayCount = DayCount.THIRTY_360
    installment_multiple: Decimal = CENT
    rounding: str = "half_up"
    installment_method: InstallmentMethod = InstallmentMethod.NOMINAL_RATE
    equal_principal_rounding: PrincipalRounding = PrincipalRounding.CENTS
    grace_principal_periods: int = 0
    grace_interest_periods: int = 0
    interest_free_periods: int = 0
    balloon_amount: Decimal = Decimal("0.00")
    fees: tuple[Fee, ...] = field(default=())

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        values = {
            "principal": _cents(self.principal, "principal", errors),
            "annual_rate": _decimal(self.annual_rate, "annual_rate", errors),
            "term": _integer(self.term, "term", errors),
            "disbursement_date": _date(self.disbursement_date, "disbursement_date", errors),
            "repayment_every": _integer(self.repayment_every, "repayment_every", errors),
            "repayment_unit": _choice(RepaymentUnit, self.repayment_unit, "repayment_unit", errors),
            "first_payment_date": None
            if self.first_payment_date is None
            else _date(self.first_payment_date, "first_payment_date", errors),
            "interest_method": _choice(
                InterestMethod, self.interest_method, "interest_method", errors
            ),
            "amortization": _choice(Amortization, self.amortization, "amortization", errors),
            "installment_multiple": _decimal(
                self.installment_multiple, "installment_multiple", errors
            ),
            "installment_method": _choice(
                InstallmentMethod, self.installment_method, "installment_method", errors
            ),
            "equal_principal_rounding": _choice(
                PrincipalRounding, self.equal_principal_rounding, "equal_principal_rounding", errors
            ),
            "grace_principal_periods": _integer(
                self.grace_principal_periods, "grace_principal_periods", errors
            ),
            "grace_interest_periods": _integer(
                self.grace_interest_periods, "grace_interest_periods", errors
            ),
            "interest_free_periods": _integer(
                self.interest_free_periods, "interest_free_periods", errors
            ),
            "balloon_amount": _cents(self.balloon_amount, "balloon_amount", errors),
            "fees": _fees(self.fees, errors),
        }
        try:
            values["day_count"] = parse_day_count(self.day_count)
        except TermsError as exc:
            errors.update(exc.errors)
        if self.rounding not in ROUNDING_MODES:
            names = ", ".join(f'"{mode}"' for mode in ROUNDING_MODES)
            errors["rounding"] = f"unknown rounding mode {self.rounding!r}; use one of {names}"
        _check(values, errors)
        if errors:
            raise TermsError(errors)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def financed_fees(self) -> Decimal:
        return sum(
            (fee.amount for fee in self.fees if fee.treatment is FeeTreatment.FINANCED),
            Decimal("0.00"),
        )

    @property
    def withheld_fees(self) -> Decimal:
        return sum(
            (fee.amount for fee in self.fees if fee.treatment is FeeTreatment.WITHHELD),
            Decimal("0.00"),
        )

    @property
    def loan_amount(self) -> Decimal:
        """The note: the balance that bears interest from disbursement."""
        return self.principal + self.financed_fees

    @property
    def disbursed_amount(self) -> Decimal:
        """Cash paid out to (or for) the borrower at disbursement."""
        return self.principal - self.withheld_fees

    @property
    def prepaid_finance_charges(self) -> Decimal:
        return sum((fee.amount for fee in self.fees if fee.finance_charge), Decimal("0.00"))

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def installment_method_error(method: object, amortization: object, interest_method: object):
    """Why `method` cannot go with the amortization and interest method (a
    message), or None. None values (unknown or not given) are not judged.
    A per-period-rate method solves a level instalment on the declining
    balance; products check their settings with this too."""
    if method in (None, InstallmentMethod.NOMINAL_RATE) or (
        amortization in (None, Amortization.EQUAL_INSTALLMENTS)
        and interest_method in (None, InterestMethod.DECLINING_BALANCE)
    ):
        return None
    return (
        f'"{method}" solves a level instalment: it needs equal_installments amortization '
        'and declining_balance interest; use "nominal_rate" otherwise'
    )


def _check(v: dict[str, object], errors: dict[str, str]) -> None:
    """Cross-field rules; `v` holds the coerced values (None where invalid)."""
    principal, rate, term = v["principal"], v["annual_rate"], v["term"]
    if principal is not None and principal <= 0:
        errors["principal"] = "must be greater than zero"
    if rate is not None and not 0 <= rate < MAX_ANNUAL_RATE:
        errors["annual_rate"] = (
            "must be a decimal fraction from 0 up to 10 (1,000 %), e.g. 0.0725 for 7.25 %"
        )
    if term is not None and not 1 <= term <= MAX_TERM:
        errors["term"] = f"must be between 1 and {MAX_TERM} instalments"
    every = v["repayment_every"]
    if every is not None and every < 1:
        errors["repayment_every"] = "must be at least 1"
    if v["repayment_unit"] is RepaymentUnit.SEMI_MONTHS and every not in (None, 1):
        errors["repayment_every"] = "must be 1 for semi-monthly repayments"
    disbursed, first = v["disbursement_date"], v["first_payment_date"]
    if disbursed is not None and first is not None and first <= disbursed:
        errors["first_payment_date"] = "must be after the disbursement date"
    method_error = installment_method_error(
        v["installment_method"], v["amortization"], v["interest_method"]
    )
    if method_error:
        errors["installment_method"] = method_error
    multiple = v["installment_multiple"]
    if multiple is not None and (multiple <= 0 or multiple % CENT != 0):
        errors["installment_multiple"] = "must be a positive multiple of 0.01"
    for name in ("grace_principal_periods", "grace_interest_periods", "interest_free_periods"):
        count = v[name]
        if count is None:
            continue
        if count < 0:
            errors[name] = "must not be negative"
        elif term is not None and term >= 1 and count >= term:
            errors[name] = "must be less than the term"
    balloon = v["balloon_amount"]
    if balloon is not None:
        if balloon < 0:
            errors["balloon_amount"] = "must not be negative"
        elif v["amortization"] is Amortization.INTEREST_ONLY and balloon > 0:
            errors["balloon_amount"] = "is implied by interest-only amortization; leave it 0"
        elif principal is not None and principal > 0 and balloon >= principal:
            errors["balloon_amount"] = "must be less than the principal"
    fees = v["fees"]
    if fees and principal is not None and principal > 0 and "fees" not in errors:
        withheld = sum(f.amount for f in fees if f.treatment is FeeTreatment.WITHHELD)
        if withheld >= principal:
            errors["fees"] = "withheld fees must be less than the principal"


# The engine settings a loan product carries (an origination LoanProduct and
# a servicing product both have them as attributes of these names).
ENGINE_SETTINGS = (
    "repayment_every",
    "repayment_unit",
    "interest_method",
    "amortization",
    "day_count",
    "installment_multiple",
    "rounding",
    "installment_method",
    "equal_principal_rounding",
)


def product_terms(
    product: Any,
    *,
    principal: Any,
    annual_rate: Any,
    term: Any,
    disbursement_date: Any,
    first_payment_date: Any = None,
    fees: Any = (),
    settings: Mapping[str, Any] | None = None,
    **options: Any,
) -> LoanTerms:
    """The engine's LoanTerms for a loan on `product` with the approved
    amount, rate and term: the one constructor origination (decision,
    offers) and servicing (boarding) use. `product` is any object with the
    ENGINE_SETTINGS as attributes; `settings` overrides those of them it
    gives a value other than None. `fees` are Fee objects or Fee keyword
    dicts; `options` are further LoanTerms fields (grace periods, balloon).
    Raises TermsError like LoanTerms."""
    given = settings or {}
    return LoanTerms(
        principal=principal,
        annual_rate=annual_rate,
        term=term,
        disbursement_date=disbursement_date,
        first_payment_date=first_payment_date,
        fees=fees,
        **{
            name: given[name] if given.get(name) is not None else getattr(product, name)
            for name in ENGINE_SETTINGS
        },
        **options,
    )
