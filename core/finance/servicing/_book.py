"""The state `replay` mutates while it runs (internal to
`core.finance.servicing`, whose docstring states the rules).

The current schedule is held as parallel lists (row i is instalment i + 1):
due date, period start, days, opening balance, principal, interest,
interest charged, `extra`, closing balance, and the principal and interest
paid. `extra` is the interest due on a row that was not accrued over that
row's own period (interest carried into a re-amortised first row; for
grace-interest rows the deferral, negative on the deferring rows), so the
interest earned before the first not-yet-due row but not yet due is the
sum of `extra` over the not-yet-due rows. Assessed fees are `_Fee` records
attached to a row. `due_ptr` is the number of rows whose due date has been
reached; `first_open` the first due row that may still owe something.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.finance.enums import AllocationMethod, Component, ExcessHandling
from core.finance.schedule import Schedule
from core.finance.servicing.events import FeeEvent, LoanSetup
from core.finance.servicing.results import CreditApplication, Line, PeriodicArrear
from core.money import ZERO

FEES, PENALTIES, INTEREST, PRINCIPAL = (
    Component.FEES,
    Component.PENALTIES,
    Component.INTEREST,
    Component.PRINCIPAL,
)
UNAPPLIED = ExcessHandling.UNAPPLIED
HORIZONTAL = AllocationMethod.HORIZONTAL
# A due is (number, due_date, fees, penalties, interest, principal), as `Due`'s fields.
_SLOT = {FEES: 2, PENALTIES: 3, INTEREST: 4, PRINCIPAL: 5}


def _due_order(due: tuple) -> tuple:
    return due[1], due[0]


class _Fee:
    __slots__ = ("amount", "assessed_on", "event_id", "kind", "paid", "penalty", "row", "waived")

    def __init__(self, event: FeeEvent, row: int) -> None:
        self.event_id = event.id
        self.kind = event.kind
        self.penalty = event.penalty
        self.assessed_on = event.effective_date
        self.amount = event.amount
        self.waived = ZERO
        self.paid = ZERO
        self.row = row

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.waived - self.paid


class Book:
    """The schedule, payments, fees and credit of one loan during a replay."""

    def __init__(self, setup: LoanSetup) -> None:
        self.setup = setup
        self.terms = setup.terms
        self.rule_terms = setup.terms  # terms whose due-date rule the schedule follows
        self.order = setup.allocation_order
        self.method = setup.allocation_method
        self.day_count = setup.terms.day_count
        self.rate = setup.terms.annual_rate
        self.installment = setup.schedule.installment
        (due, start, days, opening, prin, intr, chg, extra, closing) = setup._columns
        self.due, self.start, self.days = list(due), list(start), list(days)
        self.opening, self.prin, self.intr = list(opening), list(prin), list(intr)
        self.chg, self.extra, self.closing = list(chg), list(extra), list(closing)
        self.ppaid = [ZERO] * len(due)
        self.ipaid = [ZERO] * len(due)
        self.recs: dict[int, list[_Fee]] = {}  # row -> fees attached, in assessment order
        self.fees: dict[int, _Fee] = {}
        self.due_ptr = 0
        self.first_open = 0
        self.unapplied = ZERO
        self.overpaid = ZERO
        self.capitalised = ZERO
        self.credit_apps: list[CreditApplication] = []
        # Delinquency's deemed allocation (package docstring, "Delinquency"):
        # the principal and interest paid per row with every cent applied to
        # instalments deemed applied to periodic payments before fees, and
        # the `reserve` of such cents no periodic payment due could take yet.
        self.dipaid = [ZERO] * len(due)
        self.dppaid = [ZERO] * len(due)
        self.reserve = ZERO
        self.d_first = 0  # first row whose deemed periodic payment may be unpaid
        self.pi_order = tuple(c for c in self.order if c in (INTEREST, PRINCIPAL))
        self.late_grace = setup.late_fee_grace_days
        self.late_ptr = 0  # rows whose late-fee grace period has been checked
        self.late: list[PeriodicArrear] = []

    # -- amounts owed ---------------------------------------------------------

    def _fee_out(self, row: int) -> tuple[Decimal, Decimal]:
        fees = penalties = ZERO
        for rec in self.recs.get(row, ()):
            if rec.penalty:
                penalties += rec.amount - rec.waived - rec.paid
            else:
                fees += rec.amount - rec.waived - rec.paid
        return fees, penalties

    def _row_out(self, row: int) -> Decimal:
        out = self.prin[row] - self.ppaid[row] + self.intr[row] - self.ipaid[row]
        if row in self.recs:
            fees, penalties = self._fee_out(row)
            out += fees + penalties
        return out

    def _dues(self) -> list[tuple]:
        """What is owed now, as `Due` field tuples: instalments reached in full,
        other instalments' assessed fees."""
        reached = self.due_ptr
        i = self.first_open
        while i < reached and not self._row_out(i):
            i += 1
        self.first_open = i
        dues = []
        prin, ppaid, intr, ipaid = self.prin, self.ppaid, self.intr, self.ipaid
        due, recs = self.due, self.recs
        for j in range(i, reached):
            fees, penalties = self._fee_out(j) if j in recs else (ZERO, ZERO)
            principal = prin[j] - ppaid[j]
            interest = intr[j] - ipaid[j]
            if principal or interest or fees or penalties:
                dues.append((j + 1, due[j], fees, penalties, interest, principal))
        for j in sorted(recs):
            if j >= reached:
                fees, penalties = self._fee_out(j)
                if fees or penalties:
                    dues.append((j + 1, due[j], fees, penalties, ZERO, ZERO))
        return dues

    def _apply(self, lines) -> tuple[Line, ...]:
        """Record `lines` ((number, component, amount) triples) as paid."""
        out = []
        applied = ZERO
        for number, component, amount in lines:
            applied += amount
            row = number - 1
            if component is INTEREST:
                self.ipaid[row] += amount
            elif component is PRINCIPAL:
                self.ppaid[row] += amount
            else:
                left, penalty = amount, component is PENALTIES
                for rec in self.recs[row]:
                    if rec.penalty is penalty and left:
                        paid = min(left, rec.amount - rec.waived - rec.paid)
                        rec.paid += paid
                        left -= paid
            out.append(Line(number, component, amount))
        if applied:
            self._deem(applied)
        return tuple(out)

    def _deem(self, amount: Decimal) -> None:
        """Deem `amount` (cents just applied to instalments, fees included) plus
        the reserve applied to the periodic payments (principal and interest)
        of the rows reached, by the setup's method and its order of interest
        and principal; what none of them takes (fees' share) is the reserve."""
        left = self.reserve + amount
        if left <= 0:
            self.reserve = left
            return
        prin, intr, dppaid, dipaid = self.prin, self.intr, self.dppaid, self.dipaid
        i, reached = self.d_first, self.due_ptr
        while i < reached and dppaid[i] == prin[i] and dipaid[i] == intr[i]:
            i += 1
        self.d_first = i
        rows = range(i, reached)
        if self.method is HORIZONTAL:
            steps = [(j, c) for j in rows for c in self.pi_order]
        else:
            steps = [(j, c) for c in self.pi_order for j in rows]
        for j, component in steps:
            if not left:
                break
            if component is INTEREST:
                owed = intr[j] - dipaid[j]
                paid = owed if owed < left else left
                dipaid[j] += paid
            else:
                owed = prin[j] - dppaid[j]
                paid = owed if owed < left else left
                dppaid[j] += paid
            left -= paid
        self.reserve = left

    def _allocate(self, amount: Decimal) -> tuple[tuple[Line, ...], Decimal]:
        """Pay `amount` over what is owed now; returns the lines and the rest.

        The waterfall of `core.finance.allocate` (instalments by due date then
        number; horizontal: each instalment's components in order, vertical:
        each component across instalments), run on plain tuples because
        building validated `Due`s costs more than the replay itself; a
        property test holds the two equal.
        """
        dues = self._dues()
        if len(dues) > 1:
            dues.sort(key=_due_order)
        if self.method is HORIZONTAL or len(dues) == 1:
            steps = [(due, c) for due in dues for c in self.order]
        else:
            steps = [(due, c) for c in self.order for due in dues]
        left, lines = amount, []
        for due, component in steps:
            if not left:
                break
            owed = due[_SLOT[component]]
            if owed:
                paid = owed if owed < left else left
                left -= paid
                lines.append((due[0], component, paid))
        return self._apply(lines), left

    def _use_credit(self, amount: Decimal) -> tuple[Decimal, Decimal]:
        from_unapplied = min(amount, self.unapplied)
        self.unapplied -= from_unapplied
        self.overpaid -= amount - from_unapplied
        return from_unapplied, amount - from_unapplied

    def _apply_credit(self, on: date, event_id: int | None) -> CreditApplication | None:
        credit = self.unapplied + self.overpaid
        if not credit:
            return None
        lines, left = self._allocate(credit)
        if not lines:
            return None
        from_unapplied, from_over = self._use_credit(credit - left)
        return CreditApplication(
            on=on,
            event_id=event_id,
            lines=lines,
            from_unapplied=from_unapplied,
            from_overpayment=from_over,
        )

    def advance(self, to: date) -> None:
        """Reach every due date up to `to`, applying credit on each."""
        due, n = self.due, len(self.due)
        i = self.due_ptr
        while i < n and due[i] <= to:
            day = due[i]
            while i < n and due[i] == day:
                i += 1
            self.due_ptr = i
            if self.reserve > 0:
                self._deem(ZERO)
            if self.unapplied or self.overpaid:
                application = self._apply_credit(day, None)
                if application is not None:
                    self.credit_apps.append(application)
        # Rows whose grace period (due date + late_grace days) ended before
        # `to`: late if their periodic payment is not paid in full by then.
        # Rows already due are never rebuilt, so the pointer stays valid.
        last = to.toordinal() - self.late_grace
        j = self.late_ptr
        while j < self.due_ptr and due[j].toordinal() < last:
            unpaid = self.prin[j] - self.dppaid[j] + self.intr[j] - self.dipaid[j]
            if unpaid > 0:
                self.late.append(PeriodicArrear(j + 1, due[j], unpaid))
            j += 1
        self.late_ptr = j

    def _future(self) -> tuple[int, Decimal, Decimal, date]:
        """First not-yet-due row, the principal not yet due, the interest earned
        before that row's period start but not yet due, and that period start.
        (Principal is only ever paid on rows already due, so none of it is paid.)"""
        k = self.due_ptr
        principal = sum(self.prin[k:], ZERO)
        earned = sum(self.extra[k:], ZERO)
        start = self.start[k] if k < len(self.due) else None
        return k, principal, earned, start

    def periodic_arrears(self) -> tuple[PeriodicArrear, ...]:
        """The rows reached whose principal and interest are not paid in full
        by the deemed allocation."""
        prin, ppaid, intr, ipaid, due = self.prin, self.dppaid, self.intr, self.dipaid, self.due
        arrears = []
        for i in range(self.d_first, self.due_ptr):
            unpaid = prin[i] - ppaid[i] + intr[i] - ipaid[i]
            if unpaid > 0:
                arrears.append(PeriodicArrear(i + 1, due[i], unpaid))
        return tuple(arrears)

    def _paid_off(self) -> bool:
        return all(not self._row_out(i) for i in range(self.first_open, len(self.due)))

    # -- schedule surgery -------------------------------------------------------

    def _truncate(self, k: int) -> None:
        for column in (self.due, self.start, self.days, self.opening, self.prin, self.intr,
                       self.chg, self.extra, self.closing, self.ppaid, self.ipaid,
                       self.dppaid, self.dipaid):  # fmt: skip
            del column[k:]

    def _rehome_fees(self, k: int, moved: dict[int, list[_Fee]]) -> None:
        """Attach fees of replaced rows (row >= k) to the same row number if it
        still exists, else to the last row."""
        last = len(self.due) - 1
        for row in sorted(moved):
            target = row if row <= last else last
            for rec in moved[row]:
                rec.row = target
                self.recs.setdefault(target, []).append(rec)
        self.first_open = min(self.first_open, k)

    def _detach(self, k: int) -> dict[int, list[_Fee]]:
        return {row: self.recs.pop(row) for row in [r for r in self.recs if r >= k]}

    def _replace(self, k: int, schedule: Schedule, carried: Decimal) -> None:
        """Replace rows k.. by `schedule`, whose first row carries `carried`."""
        moved = self._detach(k)
        self._truncate(k)
        due = schedule.due_dates
        n = len(due)
        self.due.extend(due)
        self.start.append(schedule.terms.disbursement_date)
        self.start.extend(due[:-1])
        self.days.extend(schedule.days)
        self.opening.extend(schedule.opening_balances)
        self.prin.extend(schedule.principal_parts)
        self.intr.extend(schedule.interest_parts)
        self.chg.extend(schedule.interest_charged)
        self.extra.append(carried)
        self.extra.extend([ZERO] * (n - 1))
        self.closing.extend(schedule.closing_balances)
        self.ppaid.extend([ZERO] * n)
        self.ipaid.extend([ZERO] * n)
        self.dppaid.extend([ZERO] * n)
        self.dipaid.extend([ZERO] * n)
        self.installment = schedule.installment
        self._rehome_fees(k, moved)
