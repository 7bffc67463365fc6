"""Servicing's end-of-day steps, registered with core.eod at start-up
(ServicingConfig.ready imports this module).

In order: accrue (replay each live loan to the business date: accruals of
instalments falling due, days past due), late_fees, charge_off (the
automatic rule of servicing.services.chargeoff), statements (loans whose
product's cycle day is today), autopay (one chunk). Loan steps are chunked
by id range, CHUNK_SIZE loans each (their progress counts loans), and every
per-loan service they call is idempotent, so re-running a day posts nothing
new.
"""

from datetime import date

from django.db.models import F

from core.eod import Chunk, id_ranges, in_chunk, register_step
from core.exceptions import Conflict
from servicing.models import JournalEntry, Loan, LoanState
from servicing.services.autopay import ach_origin, collect_autopay, due_authorizations
from servicing.services.chargeoff import charge_off
from servicing.services.fees import assess_late_fees
from servicing.services.statements import generate_statement
from servicing.services.sync import lock_loans, refresh_statistics, sync_loans

LIVE = (LoanState.ACTIVE, LoanState.OVERPAID)


def _ranges(queryset) -> list[tuple[int, int]]:
    return id_ranges(queryset.order_by("pk").values_list("pk", flat=True))


# --- accrue ------------------------------------------------------------------


def accrue_chunks(business_date: date) -> list[Chunk]:
    refresh_statistics()  # the loan steps read 500 loans' rows at a time
    return _ranges(Loan.objects.filter(state__in=LIVE))


def accrue(business_date: date, chunk: Chunk) -> dict:
    """Sync the chunk's live loans as of `business_date`, set-based (the
    caller's transaction; the loans locked in id order)."""
    ids = list(
        in_chunk(Loan.objects.filter(state__in=LIVE), chunk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    entries = in_chunk(JournalEntry.objects.all(), chunk, "loan_id")
    before = entries.count()
    sync_loans(list(lock_loans(ids).values()), as_of=business_date)
    return {"loans": len(ids), "entries": entries.count() - before}


# --- late fees ---------------------------------------------------------------


def late_fee_chunks(business_date: date) -> list[Chunk]:
    return _ranges(Loan.objects.filter(state=LoanState.ACTIVE))


def late_fees(business_date: date, chunk: Chunk) -> dict:
    ids = in_chunk(Loan.objects.filter(state=LoanState.ACTIVE), chunk).order_by("pk")
    loans = fees = 0
    for loan_id in ids.values_list("pk", flat=True):
        loans += 1
        fees += len(assess_late_fees(loan=Loan(pk=loan_id), business_date=business_date))
    return {"loans": loans, "fees": fees}


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
    """Live loans whose product bills on this day of the month, disbursed
    before it, with no statement of this date yet."""
    return Loan.objects.filter(
        state__in=LIVE,
        product__statement_cycle_day=business_date.day,
        disbursement_date__lt=business_date,
    ).exclude(statements__statement_date=business_date)


def statement_chunks(business_date: date) -> list[Chunk]:
    return _ranges(_statement_due(business_date))


def statements(business_date: date, chunk: Chunk) -> dict:
    made = 0
    for loan in (
        in_chunk(_statement_due(business_date), chunk).select_related("product").order_by("pk")
    ):
        generate_statement(loan=loan, statement_date=business_date)
        made += 1
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


register_step("accrue", 10, chunks=accrue_chunks, run=accrue, unit="loans")
register_step("late_fees", 20, chunks=late_fee_chunks, run=late_fees, unit="loans")
register_step("charge_off", 30, chunks=charge_off_chunks, run=charge_off_step, unit="loans")
register_step("statements", 40, chunks=statement_chunks, run=statements, unit="loans")
register_step("autopay", 50, chunks=autopay_chunks, run=autopay)
