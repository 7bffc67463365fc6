"""Payment allocation: a pure waterfall over what is due.

`allocate(amount, dues, ...)` splits a payment over the instalments due,
and returns every cent's destination as `AllocationLine(number, due_date,
component, amount)` plus the excess.

- Components are fees, penalties, interest and principal; `order` is the
  component order (default fees, penalties, interest, principal).
- method "horizontal" (due-date order): the oldest instalment is paid in
  full, component by component in `order`, before the next one.
  "vertical" (component first): the first component is paid across all
  instalments, oldest first, then the next component, and so on.
- Instalments are taken oldest first (by due date, then number).
- Excess after every due is paid is a `prepayment` (of principal, capped at
  `prepayable` when given; the rest stays unapplied) or `unapplied` credit,
  per `excess`.

Amounts are Decimal cents and never negative; the result conserves every
cent: sum(lines) + prepayment + unapplied == amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.finance.enums import AllocationMethod, Component, ExcessHandling
from core.finance.errors import TermsError
from core.money import ZERO

__all__ = ["DEFAULT_ORDER", "Allocation", "AllocationLine", "Due", "allocate"]


DEFAULT_ORDER = (Component.FEES, Component.PENALTIES, Component.INTEREST, Component.PRINCIPAL)


def _cents(value: object, field: str) -> Decimal:
    if isinstance(value, (float, bool)):
        raise TermsError({field: "must be a Decimal or str, not a float"})
    result = value if isinstance(value, Decimal) else Decimal(str(value))
    if not result.is_finite() or result < 0 or result != result.quantize(Decimal("0.01")):
        raise TermsError({field: "must be a non-negative whole number of cents"})
    return result.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Due:
    """What one instalment still owes, by component."""

    number: int
    due_date: date
    fees: Decimal = ZERO
    penalties: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def __post_init__(self) -> None:
        for component in Component:
            value = _cents(getattr(self, component.value), f"dues.{component.value}")
            object.__setattr__(self, component.value, value)

    @property
    def total(self) -> Decimal:
        return self.fees + self.penalties + self.interest + self.principal


@dataclass(frozen=True)
class AllocationLine:
    number: int
    due_date: date
    component: Component
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    amount: Decimal
    lines: tuple[AllocationLine, ...]
    prepayment: Decimal
    unapplied: Decimal
    remaining: tuple[Due, ...]  # the dues after this payment, same order as given

    @property
    def applied(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def to_component(self, component: Component | str) -> Decimal:
        component = Component(component)
        return sum((ln.amount for ln in self.lines if ln.component is component), ZERO)

    def to_installment(self, number: int) -> dict[Component, Decimal]:
        split = dict.fromkeys(Component, ZERO)
        for line in self.lines:
            if line.number == number:
                split[line.component] += line.amount
        return split


def allocate(
    amount: Decimal,
    dues: Sequence[Due],
    *,
    order: Sequence[Component | str] = DEFAULT_ORDER,
    method: AllocationMethod | str = AllocationMethod.HORIZONTAL,
    excess: ExcessHandling | str = ExcessHandling.UNAPPLIED,
    prepayable: Decimal | None = None,
) -> Allocation:
    """Split `amount` over `dues` (see the module docstring)."""
    amount = _cents(amount, "amount")
    try:
        components = tuple(Component(c) for c in order)
    except ValueError as exc:
        raise TermsError({"order": str(exc)}) from exc
    if sorted(components) != sorted(Component):
        raise TermsError({"order": "must list fees, penalties, interest and principal once each"})
    try:
        method = AllocationMethod(method)
        excess = ExcessHandling(excess)
    except ValueError as exc:
        raise TermsError({"method": str(exc)}) from exc
    owed = [{c: getattr(due, c.value) for c in Component} for due in dues]
    ordered = sorted(range(len(dues)), key=lambda k: (dues[k].due_date, dues[k].number))
    if method is AllocationMethod.HORIZONTAL:
        steps = [(k, c) for k in ordered for c in components]
    else:
        steps = [(k, c) for c in components for k in ordered]
    left = amount
    lines = []
    for k, component in steps:
        if not left:
            break
        open_amount = owed[k][component]
        if open_amount:
            paid = open_amount if open_amount < left else left
            owed[k][component] = open_amount - paid
            left -= paid
            lines.append(AllocationLine(dues[k].number, dues[k].due_date, component, paid))
    prepayment = ZERO
    if excess is ExcessHandling.PREPAYMENT and left:
        cap = left if prepayable is None else min(left, _cents(prepayable, "prepayable"))
        prepayment, left = cap, left - cap
    remaining = tuple(
        Due(due.number, due.due_date, **{c.value: owed[k][c] for c in Component})
        for k, due in enumerate(dues)
    )
    return Allocation(
        amount=amount,
        lines=tuple(lines),
        prepayment=prepayment,
        unapplied=left,
        remaining=remaining,
    )
