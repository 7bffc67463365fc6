"""Pure loan math: day counts, schedules, APR, TILA, accrual, payoff,
re-amortisation and payment allocation.

No Django, no database, no clock: every function is a function of its
arguments, taking and returning frozen dataclasses of Decimals, dates, ints
and enums. Money is Decimal in cents and is rounded only through
`core.money` (see `core.finance._rounding`); rates are annual decimal
fractions (Decimal("0.0725") for 7.25 %). Bad input raises `TermsError`
(a ValueError) whose `errors` dict is keyed by API field name.

Modules: daycount (conventions), dates (due-date rules), enums, terms
(LoanTerms, Fee), schedule + _balance (build_schedule), unitperiod +
appendix_j (the Regulation Z Appendix J APR), disclosure (tila), accrual
(accrual, payoff), reamortization (reamortize), allocation (allocate),
_rounding (the bridge to core.money), errors; servicing (replay: a loan's
servicing state as a pure function of its schedule and event history).
"""

from core.finance.accrual import AccrualPosition, Payoff, accrue, accrued_interest_exact, payoff
from core.finance.allocation import DEFAULT_ORDER, Allocation, AllocationLine, Due, allocate
from core.finance.appendix_j import AprResult, apr
from core.finance.dates import DueDateRule, add_months, due_date_rule
from core.finance.daycount import (
    DayCount,
    accrual_fraction,
    daily_rate,
    year_fraction,
    year_fraction_exact,
)
from core.finance.disclosure import PaymentGroup, TilaDisclosure, tila
from core.finance.enums import (
    AllocationMethod,
    Amortization,
    Component,
    ExcessHandling,
    FeeTreatment,
    InstallmentMethod,
    InterestMethod,
    PrepaymentMode,
    PrincipalRounding,
    RepaymentUnit,
)
from core.finance.errors import AprError, FinanceError, TermsError
from core.finance.reamortization import reamortize
from core.finance.schedule import Schedule, ScheduleRow, build_schedule, periods_per_year
from core.finance.servicing import (
    CreditApplication,
    Event,
    EventEffect,
    FeeEffect,
    FeeEvent,
    FeeState,
    InstallmentState,
    Line,
    LoanSetup,
    ModificationEffect,
    ModificationEvent,
    PaymentEffect,
    PaymentEvent,
    PeriodicArrear,
    RefundEffect,
    RefundEvent,
    ServicingError,
    ServicingState,
    WaiverEffect,
    WaiverEvent,
    replay,
)
from core.finance.terms import (
    ENGINE_SETTINGS,
    Fee,
    LoanTerms,
    installment_method_error,
    product_terms,
)
from core.finance.unitperiod import UnitPeriod, periods_from_start, unit_period

__all__ = [
    "DEFAULT_ORDER",
    "ENGINE_SETTINGS",
    "AccrualPosition",
    "Allocation",
    "AllocationLine",
    "AllocationMethod",
    "Amortization",
    "AprError",
    "AprResult",
    "Component",
    "CreditApplication",
    "DayCount",
    "Due",
    "DueDateRule",
    "Event",
    "EventEffect",
    "ExcessHandling",
    "Fee",
    "FeeEffect",
    "FeeEvent",
    "FeeState",
    "FeeTreatment",
    "FinanceError",
    "InstallmentMethod",
    "InstallmentState",
    "InterestMethod",
    "Line",
    "LoanSetup",
    "LoanTerms",
    "ModificationEffect",
    "ModificationEvent",
    "PaymentEffect",
    "PaymentEvent",
    "PaymentGroup",
    "Payoff",
    "PeriodicArrear",
    "PrepaymentMode",
    "PrincipalRounding",
    "RefundEffect",
    "RefundEvent",
    "RepaymentUnit",
    "Schedule",
    "ScheduleRow",
    "ServicingError",
    "ServicingState",
    "TermsError",
    "TilaDisclosure",
    "UnitPeriod",
    "WaiverEffect",
    "WaiverEvent",
    "accrual_fraction",
    "accrue",
    "accrued_interest_exact",
    "add_months",
    "allocate",
    "apr",
    "build_schedule",
    "daily_rate",
    "due_date_rule",
    "installment_method_error",
    "payoff",
    "periods_from_start",
    "periods_per_year",
    "product_terms",
    "reamortize",
    "replay",
    "tila",
    "unit_period",
    "year_fraction",
    "year_fraction_exact",
]
