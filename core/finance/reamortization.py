"""Re-amortisation: a new schedule from a loan's state on a date.

`reamortize(terms, state, on=..., next_due_date=..., remaining_term=...)`
builds the schedule of the remaining loan after any of:

- a new rate (`annual_rate`) and/or a new number of instalments (`term`);
- a prepayment of principal on `on`, applied as `reduce_installment` (same
  number of instalments, a smaller instalment) or `reduce_term` (the current
  `installment` is kept and the schedule ends as soon as it is paid, the
  last instalment taking the remainder).

Rules: the new schedule starts on `on` with the remaining principal (less
the prepayment) and keeps the original repayment frequency, due-day anchor,
interest method, amortization, day count, instalment multiple, rounding and
(if still smaller than the principal) balloon; grace and interest-free
periods are not repeated. Interest accrued up to `on` at the old rate
(`state.interest_outstanding` plus accrual from `state.interest_from`) and
the outstanding fees and penalties are due with the first new instalment
(its `interest` and `fees` columns). The first period runs from `on` to
`next_due_date` and is treated like any odd first period (see
`core.finance.schedule`), so its regular principal part is kept.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.finance.accrual import AccrualPosition, accrue
from core.finance.dates import DueDateRule, days_in_month, due_date_rule
from core.finance.enums import Amortization, PrepaymentMode, RepaymentUnit
from core.finance.errors import TermsError
from core.finance.schedule import Schedule, _build
from core.finance.terms import LoanTerms
from core.money import ZERO

__all__ = ["reamortize"]


def reamortize(
    terms: LoanTerms,
    state: AccrualPosition,
    *,
    on: date,
    next_due_date: date,
    remaining_term: int,
    installment: Decimal | None = None,
    annual_rate: Decimal | None = None,
    term: int | None = None,
    prepayment: Decimal = ZERO,
    mode: PrepaymentMode | str = PrepaymentMode.REDUCE_INSTALLMENT,
) -> Schedule:
    """The schedule of the rest of the loan (see the module docstring).

    `terms` are the loan's original terms; `installment` the current level
    instalment (or principal part for equal_principal), needed for
    `reduce_term`. Raises TermsError keyed by argument name.
    """
    errors: dict[str, str] = {}
    try:
        mode = PrepaymentMode(mode)
    except ValueError:
        errors["mode"] = 'must be "reduce_term" or "reduce_installment"'
    if isinstance(prepayment, float) or not isinstance(prepayment, Decimal | int | str):
        errors["prepayment"] = "must be a Decimal or str"
    else:
        prepayment = Decimal(str(prepayment))
        if prepayment < 0:
            errors["prepayment"] = "must not be negative"
        elif prepayment >= state.principal:
            errors["prepayment"] = "pays off the loan; quote a payoff instead"
    if on < state.interest_from:
        errors["on"] = "must not be before the state's interest_from date"
    if next_due_date <= on:
        errors["next_due_date"] = "must be after the re-amortisation date"
    if not isinstance(remaining_term, int) or remaining_term < 1:
        errors["remaining_term"] = "must be at least 1"
    reduce_term = mode is PrepaymentMode.REDUCE_TERM
    if reduce_term:
        if terms.amortization is Amortization.INTEREST_ONLY:
            errors["mode"] = "reduce_term needs amortising instalments"
        if installment is None:
            errors["installment"] = "the current instalment is needed for reduce_term"
        elif not isinstance(installment, Decimal) or not installment > 0:
            errors["installment"] = "must be a positive Decimal"
        if term is not None:
            errors["term"] = "cannot be changed with reduce_term"
    if errors:
        raise TermsError(errors)
    carried = state.interest_outstanding + accrue(
        state.principal, state.annual_rate, state.interest_from, on, state.day_count
    )
    principal = state.principal - prepayment
    balloon = terms.balloon_amount if terms.balloon_amount < principal else ZERO
    new_terms = LoanTerms(
        principal=principal,
        annual_rate=state.annual_rate if annual_rate is None else annual_rate,
        term=remaining_term if term is None else term,
        disbursement_date=on,
        first_payment_date=next_due_date,
        repayment_every=terms.repayment_every,
        repayment_unit=terms.repayment_unit,
        interest_method=terms.interest_method,
        amortization=terms.amortization,
        day_count=state.day_count,
        installment_multiple=terms.installment_multiple,
        rounding=terms.rounding,
        installment_method=terms.installment_method,
        equal_principal_rounding=terms.equal_principal_rounding,
        balloon_amount=balloon,
    )
    original = due_date_rule(
        terms.repayment_unit,
        terms.repayment_every,
        terms.disbursement_date,
        terms.first_payment_date,
    )
    rule = DueDateRule(original.unit, original.every, next_due_date, original.anchor, original.high)
    if original.unit is RepaymentUnit.SEMI_MONTHS and next_due_date.day not in (
        original.anchor,
        min(original.high, days_in_month(next_due_date.year, next_due_date.month)),
    ):
        raise TermsError({"next_due_date": "is not one of the loan's semi-monthly due days"})
    return _build(
        new_terms,
        rule=rule,
        fixed_installment=installment if reduce_term else None,
        carried_interest=carried,
        carried_fees=state.fees_outstanding + state.penalties_outstanding,
    )
