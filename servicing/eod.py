"""Servicing's end-of-day steps, registered with core.eod at start-up
(ServicingConfig.ready imports this module). In order:

- fall_due (10): instalments falling due, statuses, days past due and the
  day's delinquency rows, for the loans whose figures move with the date
  (an instalment falling due, or already past due), set-based
  (servicing.services.daily);
- late_fees (20): the loans with an instalment newly past the grace, found
  in one query, charged in one batch (fees.assess_late_fees_many);
- accrue (30): the day's interest accrual on every active loan, set-based,
  which also marks the loan closed through the date;
- charge_off (40): the automatic rule of servicing.services.chargeoff;
- statements (50): loans whose product's cycle day is today;
- autopay (60): one chunk.

Loan steps are chunked (LOAN_CHUNK loans each; their progress counts
loans). Every step is idempotent: re-running a day posts nothing new.
"""

from datetime import date

from django.db.models import F, Q

from core.eod import Chunk, id_ranges, in_chunk, register_step
from core.exceptions import Conflict
from servicing.models import Loan, LoanState
from servicing.services import daily
from servicing.services.autopay import ach_origin, collect_autopay, due_authorizations
from servicing.services.chargeoff import charge_off
from servicing.services.fees import assess_late_fees_many
from servicing.services.locks import closing_day
from servicing.services.statements import generate_statements
from servicing.services.sync import refresh_statistics

LIVE = (LoanState.ACTIVE, LoanState.OVERPAID)


# Loans per chunk of a set-based step: a chunk costs a fixed number of
# statements, so bigger chunks mean fewer transactions and less overhead.
LOAN_CHUNK = 5000
# assess_late_fees_many replays each loan it charges: smaller chunks.
LATE_FEE_CHUNK = 500


def _ranges(queryset, size: int = LOAN_CHUNK) -> list[tuple[int, int]]:
    return id_ranges(queryset.order_by("pk").values_list("pk", flat=True), size)


def _lists(ids: list[int], size: int = LOAN_CHUNK) -> list[Chunk]:
    """`ids` (ascending) as chunks of explicit id lists: the step works on
    exactly these loans, not on every loan in a range."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


# --- falling due and ageing ---------------------------------------------------------


def due_chunks(business_date: date) -> list[Chunk]:
    refresh_statistics()  # the loan steps read thousands of loans' rows at a time
    return _lists(daily.loans_to_age(business_date))


def fall_due(business_date: date, chunk: Chunk) -> dict:
    return daily.fall_due(chunk, business_date)


# --- late fees ---------------------------------------------------------------


def late_fee_chunks(business_date: date) -> list[Chunk]:
    return _lists(daily.late_fee_candidates(business_date), LATE_FEE_CHUNK)


def late_fees(business_date: date, chunk: Chunk) -> dict:
    ids = list(
        in_chunk(Loan.objects.filter(state=LoanState.ACTIVE), chunk).values_list("pk", flat=True)
    )
    created = assess_late_fees_many(dates=dict.fromkeys(ids, business_date))
    return {"loans": len(ids), "fees": sum(len(fees) for fees in created.values())}


# --- accrue ------------------------------------------------------------------


def accrue_chunks(business_date: date) -> list[Chunk]:
    return _ranges(Loan.objects.filter(state=LoanState.ACTIVE))


def accrue(business_date: date, chunk: Chunk) -> dict:
    return daily.accrue_daily(chunk, business_date)


# --- charge-off --------------------------------------------------------------


def _charge_off_candidates():
    """The rule of chargeoff.auto_charge_off: active loans at or past their
    product's charge-off days past due."""
    return Loan.objects.filter(
        state=LoanState.ACTIVE, days_past_due__gte=F("product__charge_off_days_past_due")
    )


def charge_off_chunks(business_date: date) -> list[Chunk]:
    return _ranges(_charge_off_candidates())


def charge_off_step(business_date: date, chunk: Chunk) -> dict:
    charged = 0
    for loan_id in (
        in_chunk(_charge_off_candidates(), chunk).order_by("pk").values_list("pk", flat=True)
    ):
        loan = charge_off(
            loan=Loan(pk=loan_id),
            user=None,
            reason=f"Automatic charge-off on {business_date.isoformat()}: "
            "days past due at the product's limit.",
        )
        if loan.state == LoanState.CHARGED_OFF:
            charged += 1
    return {"charged_off": charged}


# --- statements --------------------------------------------------------------


def _statement_due(business_date: date):
    """Live loans billed on this day of the month (their product's cycle day,
    or with a product cycle of 0 their own due day: Loan.statement_cycle_day),
    disbursed before it, with no statement of this date yet."""
    own_day = Q(first_payment_date__day=business_date.day)
    if business_date.day == 28:
        own_day |= Q(first_payment_date__day__gt=28)
    return (
        Loan.objects.filter(state__in=LIVE, disbursement_date__lt=business_date)
        .filter(
            Q(product__statement_cycle_day=business_date.day)
            | Q(product__statement_cycle_day=0) & own_day
        )
        .exclude(statements__statement_date=business_date)
    )


def statement_chunks(business_date: date) -> list[Chunk]:
    return _ranges(_statement_due(business_date))


def statements(business_date: date, chunk: Chunk) -> dict:
    """The chunk's statements as rows, set-based (statements.generate_statements);
    each PDF is rendered on its first download, outside any end-of-day
    transaction (statement_pdf)."""
    ids = list(in_chunk(_statement_due(business_date), chunk).values_list("pk", flat=True))
    made = generate_statements(dates={loan_id: [business_date] for loan_id in ids})
    return {"statements": made}


# --- autopay -----------------------------------------------------------------


def autopay_chunks(business_date: date) -> list[Chunk]:
    return [(None, None)]


def autopay(business_date: date, chunk: Chunk) -> dict:
    """collect_autopay for the day. With ACH not configured (the integration
    is off) and nothing due, there is nothing to do; with debits due it
    fails the step rather than let the day pass without collecting them."""
    try:
        ach_origin()
    except Conflict:
        if not due_authorizations(business_date):
            return {"posted": 0, "already": 0, "skipped": 0, "not_configured": 1}
        raise
    result = collect_autopay(business_date=business_date)
    return {
        "posted": len(result.posted),
        "already": result.already,
        "skipped": len(result.skipped),
        "files": 1 if result.file else 0,
    }


def _closing(run):
    """The step's run, with the writes it calls not catching loans up (end
    of day is closing them, one date at a time: servicing.services.locks)."""

    def step(business_date: date, chunk: Chunk) -> dict:
        with closing_day():
            return run(business_date, chunk)

    step.__name__ = run.__name__
    step.__doc__ = run.__doc__
    return step


def _items(queryset):
    """The `items` of a loan step: the ids of the chunk's loans in the step's
    scope, so core.eod can retry halves of a failing chunk down to the one
    loan at fault (recorded and skipped; the rest commit)."""

    def items(business_date: date, chunk: Chunk) -> list[int]:
        return list(
            in_chunk(queryset(business_date), chunk).order_by("pk").values_list("pk", flat=True)
        )

    return items


def _active(business_date: date):
    return Loan.objects.filter(state=LoanState.ACTIVE)


register_step(
    "fall_due", 10, chunks=due_chunks, run=_closing(fall_due), unit="loans", items=_items(_active)
)
register_step(
    "late_fees",
    20,
    chunks=late_fee_chunks,
    run=_closing(late_fees),
    unit="loans",
    items=_items(_active),
)
register_step(
    "accrue", 30, chunks=accrue_chunks, run=_closing(accrue), unit="loans", items=_items(_active)
)
register_step(
    "charge_off",
    40,
    chunks=charge_off_chunks,
    run=_closing(charge_off_step),
    unit="loans",
    items=_items(lambda d: _charge_off_candidates()),
)
register_step(
    "statements",
    50,
    chunks=statement_chunks,
    run=_closing(statements),
    unit="loans",
    items=_items(_statement_due),
)
register_step("autopay", 60, chunks=autopay_chunks, run=_closing(autopay))
