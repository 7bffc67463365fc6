"""LoanTerms validation: every bad field is reported at once, keyed by API
name; and product_terms, the one constructor of a loan's engine terms from a
product's settings and the approved amount, rate and term (origination's
decision and offers, servicing's boarding)."""

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.finance import (
    ENGINE_SETTINGS,
    Amortization,
    DayCount,
    Fee,
    FeeTreatment,
    InterestMethod,
    LoanTerms,
    RepaymentUnit,
    TermsError,
    build_schedule,
    product_terms,
)

GOOD = {
    "principal": "10000",
    "annual_rate": "0.0725",
    "term": 12,
    "disbursement_date": date(2024, 1, 15),
}


def errors(**changes):
    with pytest.raises(TermsError) as info:
        LoanTerms(**{**GOOD, **changes})
    assert isinstance(info.value, ValueError)
    return info.value.errors


def test_strings_are_coerced_to_decimals_enums_and_dates():
    terms = LoanTerms(
        **{**GOOD, "disbursement_date": "2024-01-15"},
        repayment_unit="weeks",
        day_count="actual/365",
        amortization="equal_principal",
        fees=[{"name": "origination", "amount": "100", "treatment": "financed"}],
    )
    assert terms.principal == Decimal("10000.00")
    assert terms.annual_rate == Decimal("0.0725")
    assert terms.disbursement_date == date(2024, 1, 15)
    assert terms.repayment_unit is RepaymentUnit.WEEKS
    assert terms.day_count is DayCount.ACTUAL_365
    assert terms.amortization is Amortization.EQUAL_PRINCIPAL
    assert terms.fees == (Fee("origination", Decimal("100"), FeeTreatment.FINANCED, True),)
    assert terms.loan_amount == Decimal("10100.00")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"principal": "0"}, "principal", "greater than zero"),
        ({"principal": "-5"}, "principal", "greater than zero"),
        ({"principal": "100.001"}, "principal", "whole number of cents"),
        ({"principal": 100.0}, "principal", "not a float"),
        ({"principal": "abc"}, "principal", "not a number"),
        ({"annual_rate": "-0.01"}, "annual_rate", "decimal fraction"),
        ({"annual_rate": "12"}, "annual_rate", "decimal fraction"),
        ({"term": 0}, "term", "between 1 and"),
        ({"term": "x"}, "term", "integer"),
        ({"repayment_every": 0}, "repayment_every", "at least 1"),
        ({"repayment_unit": "fortnights"}, "repayment_unit", "unknown value"),
        (
            {"repayment_unit": "semi_months", "repayment_every": 2},
            "repayment_every",
            "semi-monthly",
        ),
        ({"first_payment_date": date(2024, 1, 15)}, "first_payment_date", "after"),
        ({"first_payment_date": date(2024, 1, 1)}, "first_payment_date", "after"),
        ({"disbursement_date": datetime(2024, 1, 15)}, "disbursement_date", "not a datetime"),
        ({"interest_method": "simple"}, "interest_method", "unknown value"),
        ({"amortization": "bullet"}, "amortization", "unknown value"),
        ({"day_count": "act/365"}, "day_count", "unknown day count convention"),
        ({"installment_multiple": "0"}, "installment_multiple", "positive multiple"),
        ({"installment_multiple": "0.001"}, "installment_multiple", "positive multiple"),
        ({"rounding": "nearest"}, "rounding", "unknown rounding mode"),
        ({"grace_principal_periods": 12}, "grace_principal_periods", "less than the term"),
        ({"grace_interest_periods": -1}, "grace_interest_periods", "not be negative"),
        ({"interest_free_periods": 13}, "interest_free_periods", "less than the term"),
        ({"balloon_amount": "10000"}, "balloon_amount", "less than the principal"),
        ({"balloon_amount": "-1"}, "balloon_amount", "not be negative"),
        (
            {"amortization": "interest_only", "balloon_amount": "100"},
            "balloon_amount",
            "interest-only",
        ),
        ({"fees": [{"name": "x", "amount": "-1"}]}, "fees", "must not be negative"),
        ({"fees": [{"name": "x", "amount": "1", "treatment": "rolled"}]}, "fees", "treatment"),
        ({"fees": [{"name": "", "amount": "1"}]}, "fees", "name"),
        ({"fees": "origination"}, "fees", "list of fees"),
        ({"fees": [Fee("all", Decimal("10000"))]}, "fees", "less than the principal"),
    ],
)
def test_bad_terms_name_the_field(changes, field, message):
    found = errors(**changes)
    assert field in found
    assert message in found[field]


def test_all_problems_are_reported_together():
    found = errors(principal="0", term=0, day_count="x", rounding="y")
    assert set(found) == {"principal", "term", "day_count", "rounding"}


def test_terms_are_frozen():
    terms = LoanTerms(**GOOD)
    with pytest.raises(AttributeError):
        terms.principal = Decimal(1)


# --- product_terms ---------------------------------------------------------------

PRODUCT = SimpleNamespace(
    repayment_every=1,
    repayment_unit="months",
    interest_method="declining_balance",
    amortization="equal_installments",
    day_count="30/360",
    installment_multiple=Decimal("0.01"),
    rounding="half_up",
    installment_method="nominal_rate",
    equal_principal_rounding="cents",
)
APPROVED = {
    "principal": Decimal("10000.00"),
    "annual_rate": Decimal("0.12"),
    "term": 12,
    "disbursement_date": date(2026, 1, 15),
}
ORIGINATION_FEE = {
    "name": "Origination",
    "amount": Decimal("200.00"),
    "treatment": "withheld",
    "finance_charge": True,
}


def test_the_products_engine_settings_and_the_approved_terms():
    terms = product_terms(PRODUCT, **APPROVED, fees=[ORIGINATION_FEE])
    assert terms.principal == Decimal("10000.00")
    assert terms.annual_rate == Decimal("0.12")
    assert terms.term == 12
    assert terms.repayment_every == 1
    assert terms.repayment_unit is RepaymentUnit.MONTHS
    assert terms.interest_method is InterestMethod.DECLINING_BALANCE
    assert terms.amortization is Amortization.EQUAL_INSTALLMENTS
    assert terms.day_count is DayCount.THIRTY_360
    assert terms.installment_multiple == Decimal("0.01")
    assert terms.rounding == "half_up"
    assert terms.first_payment_date is None
    [fee] = terms.fees
    assert (fee.name, fee.amount, fee.treatment) == (
        "Origination",
        Decimal("200.00"),
        FeeTreatment.WITHHELD,
    )
    schedule = build_schedule(terms)
    assert schedule.installment == Decimal("888.49")  # 10000 x 0.01 / (1 - 1.01^-12) = 888.4879
    assert schedule.due_dates[0] == date(2026, 2, 15)
    assert schedule.payments[-1] == Decimal("888.47")
    assert schedule.total_interest == Decimal("661.86")
    assert schedule.disbursed_amount == Decimal("9800.00")  # the fee is withheld


def test_equals_the_loan_terms_written_out_by_hand():
    assert product_terms(PRODUCT, **APPROVED, first_payment_date=date(2026, 3, 1)) == LoanTerms(
        **APPROVED,
        first_payment_date=date(2026, 3, 1),
        **{name: getattr(PRODUCT, name) for name in ENGINE_SETTINGS},
    )


def test_settings_given_override_the_product_and_none_leaves_the_products():
    terms = product_terms(
        PRODUCT,
        **APPROVED,
        settings={"amortization": "interest_only", "day_count": None, "repayment_unit": None},
    )
    assert terms.amortization is Amortization.INTEREST_ONLY
    assert terms.day_count is DayCount.THIRTY_360
    assert terms.repayment_unit is RepaymentUnit.MONTHS
    schedule = build_schedule(terms)
    assert schedule.installment is None
    assert (schedule.payments[0], schedule.payments[-1]) == (Decimal("100.00"), Decimal("10100.00"))


def test_further_loan_terms_fields_pass_through():
    terms = product_terms(PRODUCT, **APPROVED, grace_principal_periods=2, balloon_amount="500.00")
    assert (terms.grace_principal_periods, terms.balloon_amount) == (2, Decimal("500.00"))


def test_bad_values_raise_terms_error_keyed_by_field():
    with pytest.raises(TermsError) as caught:
        product_terms(PRODUCT, **{**APPROVED, "term": 0}, settings={"rounding": "sideways"})
    assert set(caught.value.errors) == {"term", "rounding"}
