"""Deterministic demo loan portfolio, built through the real services.

`load_demo_loans()` boards `count` loans for the demo customers (several for
some), with amounts from 1,000 to 35,000, rates from 6% to 29.99%, terms of
12 to 60 months and disbursement dates spread over the 18 months before
today's business date, then posts their payment history with the payment,
fee, modification and charge-off services. The business date is not moved:
every historic payment is dated on or before it (which the services allow,
as for a payment received by post), and the product's late fee is charged
by `assess_late_fees` for the historic day end-of-day would have charged it.

The mix (loans 2 to 9 always tell the special stories; the rest are
drawn): most pay on time; about 12% paid some instalments a few weeks late
(and were charged the late fee); about 8% stopped paying 64, 94 or 124
days ago and are delinquent now; about 5% paid off early; about 3% had
their rate cut by a modification under the approval limit; exactly one was
charged off; one had a payment returned NSF.

Idempotent: loan n is keyed on origination reference "DEMO-<n>", and a loan
that exists is left alone, so a second run adds nothing. The missing loans
are boarded and seasoned set-based (board_loans, then one post_payments
batch per instalment round), in one transaction.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from core import context
from core.businessdate import get_business_date
from core.money import ZERO
from customers.models import Customer
from servicing.boarding import BoardingTerms, board_loans
from servicing.models import Installment, Loan, LoanState, Payment, ServicingProduct
from servicing.services.chargeoff import charge_off
from servicing.services.fees import assess_late_fees_many
from servicing.services.modifications import preview_modification, propose_modification
from servicing.services.payments import PaymentRow, post_payments, reverse_payment
from servicing.services.payoff import compute_payoff
from servicing.services.products import create_product
from servicing.services.statements import generate_statements

DEFAULT_SEED = 2026
PRODUCT_CODE = "personal"
REFERENCE_PREFIX = "DEMO-"

TERMS = (12, 18, 24, 36, 36, 48, 60)
DELINQUENT_DAYS = (64, 94, 124)  # stopped paying this long ago: 30+, 60+, 90+ days past due

ON_TIME = "on_time"
LATE = "late"
DELINQUENT = "delinquent"
PAID_OFF = "paid_off"
MODIFIED = "modified"
CHARGED_OFF = "charged_off"
NSF = "nsf"

# the youngest a loan of each profile can be, in days since disbursement
MIN_AGE = {
    ON_TIME: 20,
    LATE: 120,
    DELINQUENT: 220,
    PAID_OFF: 120,
    MODIFIED: 150,
    CHARGED_OFF: 330,
    NSF: 75,
}
MAX_AGE = 540  # about 18 months


@dataclass(frozen=True)
class DemoLoanPlan:
    number: int
    profile: str
    customer_id: int
    principal: Decimal
    annual_rate: Decimal
    term: int
    disbursement_date: date
    stop_days: int = 0  # DELINQUENT / CHARGED_OFF: no payment due in the last stop_days
    late_every: int = 0  # LATE: every n-th instalment paid late
    payoff_after: int = 0  # PAID_OFF: instalments paid before the payoff
    modify_after: int = 0  # MODIFIED: instalments paid before the modification

    @property
    def reference(self) -> str:
        return f"{REFERENCE_PREFIX}{self.number}"


def demo_product() -> ServicingProduct:
    """The demo servicing product (latest version of "personal"), created if missing."""
    product = ServicingProduct.objects.filter(code=PRODUCT_CODE).order_by("-version").first()
    if product is not None:
        return product
    return create_product(
        code=PRODUCT_CODE,
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
        late_fee_grace_days=10,
        nsf_fee_amount=Decimal("30.00"),
    )


# the first loans tell every story, whatever the count; the rest are drawn
FIXED_PROFILES = {
    2: PAID_OFF,
    3: CHARGED_OFF,
    4: DELINQUENT,
    5: NSF,
    6: LATE,
    8: MODIFIED,
    9: DELINQUENT,
}
DRAWN = ((PAID_OFF, 0.05), (MODIFIED, 0.03), (DELINQUENT, 0.08), (LATE, 0.12))


def profile_of(number: int, seed: int = DEFAULT_SEED) -> str:
    """The story of demo loan `number` (1-based; deterministic for the seed,
    and the same whatever the portfolio's size)."""
    if number in FIXED_PROFILES:
        return FIXED_PROFILES[number]
    draw = random.Random(f"{seed}:profile:{number}").random()
    for profile, share in DRAWN:
        if draw < share:
            return profile
        draw -= share
    return ON_TIME


def demo_plans(
    *, count: int, customer_ids: list[int], today: date, seed: int = DEFAULT_SEED
) -> list[DemoLoanPlan]:
    """The terms and story of each demo loan (pure, deterministic)."""
    if not customer_ids:
        return []
    plans = []
    for number in range(1, count + 1):
        profile = profile_of(number, seed)
        rng = random.Random(f"{seed}:loan:{number}")
        age = rng.randint(MIN_AGE[profile], MAX_AGE)
        plans.append(
            DemoLoanPlan(
                number=number,
                profile=profile,
                customer_id=customer_ids[rng.randrange(len(customer_ids))],
                principal=Decimal(rng.randrange(1000, 35001, 50)).quantize(ZERO),
                annual_rate=Decimal(rng.randint(600, 2999)) / Decimal(10000),
                term=rng.choice(
                    TERMS
                    if profile in (ON_TIME, LATE)
                    # the story needs the loan still running today
                    else tuple(t for t in TERMS if t * 30 > age + 90) or (TERMS[-1],)
                ),
                disbursement_date=today - timedelta(days=age),
                stop_days=(
                    rng.choice(DELINQUENT_DAYS)
                    if profile == DELINQUENT
                    else (200 if profile == CHARGED_OFF else 0)
                ),
                late_every=rng.choice((2, 3, 4)) if profile == LATE else 0,
                payoff_after=rng.randint(1, 3) if profile == PAID_OFF else 0,
                modify_after=rng.randint(2, 4) if profile == MODIFIED else 0,
            )
        )
    return plans


@dataclass
class _Story:
    """One demo loan being seasoned: where its history has got to."""

    plan: DemoLoanPlan
    loan: Loan
    rng: random.Random
    paid: int = 0  # payments posted so far (they number the references)
    last_paid: Payment | None = None
    done: bool = False


@dataclass(frozen=True)
class DemoLoanResult:
    loans: list[Loan]
    boarded: int  # loans this call created (the rest existed)
    payments: int  # payments it posted


def load_demo_loans(*, count: int = 300, seed: int = DEFAULT_SEED) -> list[Loan]:
    """Board and season `count` demo loans; returns them in plan order.
    Loans that already exist (by origination reference) are returned untouched."""
    return season_demo_loans(count=count, seed=seed).loans


def season_demo_loans(*, count: int = 300, seed: int = DEFAULT_SEED) -> DemoLoanResult:
    """`load_demo_loans`, also saying how much it wrote.

    Set-based: the missing loans are boarded together (board_loans), then
    their histories advance one instalment per round, every loan at once,
    each round's payments posted in one batch (post_payments). The rare
    stories' steps (late fees, a modification, a payoff quote, the NSF
    return, the charge-off) call their own services per loan. Each loan
    sees the same sequence of events, amounts and dates as if its history
    were posted payment by payment. One transaction: a failure leaves no
    half-seasoned loan."""
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    if not customer_ids or count <= 0:
        return DemoLoanResult(loans=[], boarded=0, payments=0)
    today = get_business_date()
    plans = demo_plans(count=count, customer_ids=customer_ids, today=today, seed=seed)
    existing = {
        loan.origination_reference: loan
        for loan in Loan.objects.filter(origination_reference__startswith=REFERENCE_PREFIX)
    }
    missing = [plan for plan in plans if plan.reference not in existing]
    payments = 0
    if missing:
        product = demo_product()
        with context.system_actor("demo"), transaction.atomic():
            payments = _season(missing, product, today)
        existing.update(
            (loan.origination_reference, loan)
            for loan in Loan.objects.filter(
                origination_reference__in=[plan.reference for plan in missing]
            )
        )
    return DemoLoanResult(
        loans=[existing[plan.reference] for plan in plans],
        boarded=len(missing),
        payments=payments,
    )


def cycle_dates(*, after: date, through: date, cycle_day: int) -> list[date]:
    """Every statement cycle date (day `cycle_day` of a month) strictly after
    `after` and on or before `through` (pure)."""
    out = []
    year, month = after.year, after.month
    if after.day >= cycle_day:
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    while (day := date(year, month, cycle_day)) <= through:
        out.append(day)
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return out


def load_demo_statements(loans: list[Loan]) -> int:
    """The statements the demo loans' histories imply: one per cycle date
    from disbursement to today's business date (to the payoff for a loan
    paid off, as end of day bills only live loans), made set-based by the
    statements service with their PDFs rendered on first download.
    Idempotent: dates that have a statement are skipped. Returns how many
    were made."""
    if not loans:
        return 0
    today = get_business_date()
    ended = {LoanState.PAID_OFF, LoanState.CLOSED}
    last_paid = dict(
        Payment.objects.filter(
            loan__in=[loan for loan in loans if loan.state in ended],
            status=Payment.Status.POSTED,
        )
        .values_list("loan_id")
        .annotate(last=Max("received_on"))
    )
    products = ServicingProduct.objects.in_bulk({loan.product_id for loan in loans})
    dates = {
        loan.pk: cycle_dates(
            after=loan.disbursement_date,
            through=last_paid.get(loan.pk, today) if loan.state in ended else today,
            cycle_day=products[loan.product_id].statement_cycle_day
            or min(loan.first_payment_date.day, 28),
        )
        for loan in loans
    }
    with context.system_actor("demo"):
        return generate_statements(dates=dates)


def _outstanding(inst: Installment) -> Decimal:
    return (
        inst.principal_due
        + inst.interest_due
        + inst.fees_due
        + inst.penalties_due
        - inst.principal_paid
        - inst.interest_paid
        - inst.fees_paid
        - inst.penalties_paid
    )


def _payment(story: _Story, amount: Decimal, on: date, method: str = "ach") -> PaymentRow:
    story.paid += 1
    return PaymentRow(
        loan_id=story.loan.pk,
        amount=amount,
        received_on=on,
        method=method,
        channel="autopay" if method == "ach" else "staff",
        reference=f"DEMO-PMT-{story.plan.reference}-{story.paid}",
        excess="prepayment",
    )


def _post(rows: list[tuple[_Story, PaymentRow]]) -> int:
    """Post a round's payments in one batch; each story keeps its last payment."""
    if not rows:
        return 0
    results = post_payments([row for _, row in rows])
    for (story, _), result in zip(rows, results, strict=True):
        if not isinstance(result, Payment):  # pragma: no cover - the stories keep loans payable
            raise RuntimeError(f"{story.plan.reference}: {result}")
        story.last_paid = result
    return len(rows)


def _season(plans: list[DemoLoanPlan], product: ServicingProduct, today: date) -> int:
    """Board `plans` and post their histories; returns the payments posted."""
    loans = board_loans(
        terms=[
            BoardingTerms(
                origination_reference=plan.reference,
                customer_id=plan.customer_id,
                product_id=product.pk,
                principal=plan.principal,
                annual_rate=plan.annual_rate,
                term=plan.term,
                disbursement_date=plan.disbursement_date,
                underwriting_notes="Demo portfolio loan.",
            )
            for plan in plans
        ]
    )
    stories = [
        _Story(plan=plan, loan=loan, rng=random.Random(f"history:{plan.reference}"))
        for plan, loan in zip(plans, loans, strict=True)
    ]
    posted = 0
    number = 0
    while live := [story for story in stories if not story.done]:
        number += 1
        posted += _post(_round(live, number, product, today))
    final = []
    for story in stories:
        if story.plan.profile == NSF and story.last_paid is not None:
            reverse_payment(
                payment=story.last_paid,
                reason="nsf",
                note="Demo: the bank returned the ACH debit.",
            )
            # the borrower brought the money in by card the same business day
            amount = story.last_paid.amount + product.nsf_fee_amount
            final.append((story, _payment(story, amount, today, method="card")))
    posted += _post(final)
    for story in stories:
        if story.plan.profile == CHARGED_OFF:
            charge_off(loan=story.loan, reason="Demo: no payment for more than 180 days.")
    return posted


def _instalments(stories: list[_Story], number: int) -> dict[int, Installment]:
    return {
        inst.loan_id: inst
        for inst in Installment.objects.filter(
            loan_id__in=[story.loan.pk for story in stories], number=number
        )
    }


def _round(
    stories: list[_Story], number: int, product: ServicingProduct, today: date
) -> list[tuple[_Story, PaymentRow]]:
    """Instalment `number` of every live story: the per-loan services its
    story calls for, then the payments to post (amounts read after them)."""
    grace = product.late_fee_grace_days
    instalments = _instalments(stories, number)
    due: list[tuple[_Story, date, str]] = []  # (story, paid on, method) once amounts are known
    payoffs: list[tuple[_Story, date]] = []
    reread: list[_Story] = []
    late_fees: dict[int, date] = {}  # loan id -> the day end-of-day charged its late fee
    for story in stories:
        plan, rng = story.plan, story.rng
        inst = instalments.get(story.loan.pk)
        if inst is None or inst.due_date > today:
            story.done = True
            continue
        if plan.stop_days and inst.due_date >= today - timedelta(days=plan.stop_days):
            # stopped paying: end-of-day charged the late fee after the grace period
            fee_day = inst.due_date + timedelta(days=grace + 1)
            if fee_day <= today:
                late_fees[story.loan.pk] = fee_day
            continue
        if plan.profile == PAID_OFF and story.paid == plan.payoff_after:
            on = min(today, inst.due_date - timedelta(days=rng.randint(1, 10)))
            payoffs.append((story, max(on, story.loan.disbursement_date + timedelta(days=1))))
            story.done = True
            continue
        if plan.profile == MODIFIED and story.paid == plan.modify_after:
            _modify(story.loan, min(today, inst.due_date - timedelta(days=5)), plan)
            reread.append(story)
        late = plan.late_every and inst.number % plan.late_every == 0
        if late and inst.due_date + timedelta(days=grace + 1) <= today:
            late_fees[story.loan.pk] = inst.due_date + timedelta(days=grace + 1)
            on = inst.due_date + timedelta(days=rng.randint(grace + 4, 28))
            if on > today:
                continue  # not yet paid: a few days past due
            reread.append(story)
        else:
            on = inst.due_date  # the autopay debit (early money would be a prepayment)
        due.append((story, on, "ach"))
    # a story's modification and its late fee never fall on one instalment
    assess_late_fees_many(dates=late_fees)
    if reread:
        instalments.update(_instalments(reread, number))
    rows = []
    for story, on in payoffs:
        total = compute_payoff(story.loan, on)["total"]
        rows.append((story, _payment(story, total, on, method="check")))
    for story, on, method in due:
        amount = _outstanding(instalments[story.loan.pk])
        if amount > 0:
            rows.append((story, _payment(story, amount, on, method=method)))
    return rows


def _modify(loan: Loan, effective: date, plan: DemoLoanPlan) -> None:
    """Cut the rate by up to 3 points, as far as the approval limit allows."""
    loan.refresh_from_db()
    for cut in (Decimal("0.03"), Decimal("0.02"), Decimal("0.01"), Decimal("0.005")):
        rate = max(plan.annual_rate - cut, Decimal("0.04"))
        preview = preview_modification(loan=loan, effective_date=effective, annual_rate=rate)
        if not preview.requires_approval:
            propose_modification(
                loan=loan,
                user=None,
                effective_date=effective,
                annual_rate=rate,
                note="Demo: hardship rate reduction.",
            )
            return
