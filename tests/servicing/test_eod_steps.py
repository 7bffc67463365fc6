"""Servicing's end-of-day steps, run through core.eod.run_end_of_day on a
loan boarded by the real services (1,200.00 at 12% over 12 months,
disbursed 2026-01-15, instalments of 106.62 due on the 15th)."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.test import override_settings

from core.businessdate import get_business_date
from core.eod import run_end_of_day, totals
from core.models import AuditEvent, EodChunk, EodRun
from servicing.eod import late_fees, statements
from servicing.models import (
    AchBatchFile,
    AchEntry,
    JournalEntry,
    Loan,
    LoanEvent,
    LoanState,
    Payment,
    Posting,
    ServicingProduct,
    Statement,
)
from servicing.services.autopay import set_up_autopay
from servicing.services.payments import post_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db


def entries(loan):
    return list(
        JournalEntry.objects.filter(loan=loan)
        .order_by("id")
        .values_list("source", "entry_type", "effective_date")
    )


def test_due_instalment_accrues_and_ages(make_loan):
    loan = make_loan()
    assert entries(loan) == [("disbursement", "disbursement", date(2026, 1, 15))]
    set_business_date(date(2026, 2, 15))

    run = run_end_of_day(date(2026, 2, 15))

    assert run.status == EodRun.Status.COMPLETED
    assert get_business_date() == date(2026, 2, 16)
    # No close ran before (no daily accruals): the instalment's 12.00 is
    # recognised as it falls due, and the second period's first day accrues.
    assert entries(loan)[1:] == [
        ("accrual:1", "accrual", date(2026, 2, 15)),
        ("daily:2026-02-15", "accrual", date(2026, 2, 15)),
    ]
    lines = Posting.objects.filter(entry__source="accrual:1").order_by("account__code")
    assert [(p.account.code, p.debit, p.credit, p.installment_number) for p in lines] == [
        ("1210", D("12.00"), D("0.00"), 1),
        ("4100", D("0.00"), D("12.00"), None),
    ]
    loan.refresh_from_db()
    assert (loan.interest_balance, loan.days_past_due, loan.next_due_amount) == (
        D("12.00"),
        0,
        D("106.62"),
    )
    # period 2: Feb 15 - Mar 15, 28 days, 11.05 of interest; day 1 accrues 0.39
    assert loan.accrued_interest == D("0.39")
    assert totals(run)["fall_due"] == {"loans": 1, "replayed": 0, "entries": 1, "delinquent": 0}
    assert totals(run)["accrue"] == {"loans": 1, "entries": 1}

    # the next day: one day past due, and only the day's accrual is posted
    run = run_end_of_day()
    assert run.business_date == date(2026, 2, 16)
    loan.refresh_from_db()
    assert loan.days_past_due == 1
    assert loan.accrued_interest == D("0.79")  # round(11.05 x 2 / 28)
    assert totals(run)["fall_due"] == {"loans": 1, "replayed": 0, "entries": 0, "delinquent": 1}
    assert totals(run)["accrue"] == {"loans": 1, "entries": 1}
    assert entries(loan)[3:] == [("daily:2026-02-16", "accrual", date(2026, 2, 16))]
    assert get_business_date() == date(2026, 2, 17)


def test_paid_loan_is_not_late(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan, amount=D("106.62"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    set_business_date(date(2026, 2, 26))
    run = run_end_of_day()
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    # the late-fee step looks only at loans with an instalment past the grace
    assert "late_fees" not in totals(run)
    assert not LoanEvent.objects.filter(loan=loan, kind="fee").exists()


def test_late_fee_once_even_when_the_day_is_rerun(make_loan):
    loan = make_loan()
    # due Feb 15, grace 10 days: nothing on Feb 25, the fee on Feb 26
    set_business_date(date(2026, 2, 25))
    run_end_of_day()
    assert not LoanEvent.objects.filter(loan=loan, kind="fee").exists()

    run = run_end_of_day()
    assert run.business_date == date(2026, 2, 26)
    fees = LoanEvent.objects.filter(loan=loan, kind="fee")
    assert [(f.amount, f.effective_date, f.details["installment_number"]) for f in fees] == [
        (D("25.00"), date(2026, 2, 26), 1)
    ]
    assert totals(run)["late_fees"] == {"loans": 1, "fees": 1}

    # re-running the completed day is a no-op; so is running its step again
    again = run_end_of_day(date(2026, 2, 26))
    assert again.pk == run.pk
    assert late_fees(date(2026, 2, 26), (loan.pk, loan.pk)) == {"loans": 1, "fees": 0}
    # and the next day does not charge instalment 1 again
    run_end_of_day()
    assert LoanEvent.objects.filter(loan=loan, kind="fee").count() == 1
    assert (
        EodChunk.objects.filter(step="late_fees", run__business_date=date(2026, 2, 26)).count() == 1
    )
    loan.refresh_from_db()
    assert loan.fees_balance == D("25.00")
    assert get_business_date() == date(2026, 2, 28)


def test_charge_off_threshold_charges_off(make_loan, product):
    ServicingProduct.objects.filter(pk=product.pk).update(charge_off_days_past_due=30)
    loan = make_loan()
    other = make_loan("APP-2")
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=other, amount=D("106.62"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    set_business_date(date(2026, 3, 16))

    run = run_end_of_day()  # 29 days past due: not yet
    loan.refresh_from_db()
    assert (loan.state, loan.days_past_due) == (LoanState.ACTIVE, 29)
    assert totals(run).get("charge_off") is None

    run = run_end_of_day()  # Mar 17: 30 days past due
    assert run.business_date == date(2026, 3, 17)
    loan.refresh_from_db()
    other.refresh_from_db()
    assert loan.state == LoanState.CHARGED_OFF
    assert other.state == LoanState.ACTIVE
    assert totals(run)["charge_off"] == {"charged_off": 1}
    event = LoanEvent.objects.get(loan=loan, kind="charge_off")
    # principal 1,200.00 + interest of two instalments + the late fee on the first
    assert event.details["receivables"] == {
        "principal_receivable": "1200.00",
        "interest_receivable": str(loan_interest(loan)),
        "fees_receivable": "25.00",
    }
    assert event.amount == D("1225.00") + loan_interest(loan)
    assert event.effective_date == date(2026, 3, 17)
    entry = JournalEntry.objects.get(loan=loan, source="charge_off")
    assert entry.effective_date == date(2026, 3, 17)
    assert AuditEvent.objects.filter(action="loan.charge_off", object_id=str(loan.pk)).count() == 1

    # the next day leaves the charged-off loan alone
    posted = JournalEntry.objects.filter(loan=loan).count()
    run_end_of_day()
    assert JournalEntry.objects.filter(loan=loan).count() == posted


def loan_interest(loan: Loan) -> D:
    return sum(
        Posting.objects.filter(
            loan=loan, entry__entry_type="accrual", account__code="1210"
        ).values_list("debit", flat=True),
        D("0.00"),
    )


def test_statement_on_cycle_day_once(make_loan, product):
    loan = make_loan()
    set_business_date(date(2026, 2, 28))
    run = run_end_of_day()  # not the cycle day (1st): no statement
    assert "statements" not in totals(run)
    assert not Statement.objects.exists()

    run = run_end_of_day()  # Mar 1
    assert run.business_date == date(2026, 3, 1)
    statement = Statement.objects.get(loan=loan)
    assert statement.statement_date == date(2026, 3, 1)
    assert (statement.period_start, statement.period_end) == (date(2026, 2, 2), date(2026, 3, 1))
    assert statement.past_due_amount == D("131.62")  # instalment 1 and its late fee
    assert totals(run)["statements"] == {"statements": 1}

    # running the step again for the same date makes nothing new
    assert statements(date(2026, 3, 1), (loan.pk, loan.pk)) == {"statements": 0}
    assert run_end_of_day(date(2026, 3, 1)).pk == run.pk
    assert Statement.objects.count() == 1
    assert AuditEvent.objects.filter(action="statement.generated").count() == 1


ACH = {
    "ACH_DESTINATION_ROUTING": "011000015",
    "ACH_DESTINATION_NAME": "Federal Reserve Bank",
    "ACH_ODFI_ROUTING": "021000021",
    "ACH_ORIGIN_NAME": "Acme Lending",
    "ACH_COMPANY_NAME": "Acme Lending",
    "ACH_COMPANY_ID": "1234567890",
}


def _authorize(loan):
    with override_settings(**ACH):
        return set_up_autopay(
            loan=loan,
            routing="122000247",
            account="000123456789",
            account_type="checking",
            authorization_text_version="2026-01",
            ip_address="203.0.113.9",
            user_agent="pytest",
            channel="staff",
        )


def test_autopay_collects_the_due_debit_once(make_loan):
    loan = make_loan()
    _authorize(loan)
    set_business_date(date(2026, 2, 15))
    with override_settings(**ACH):
        run = run_end_of_day()
        assert run_end_of_day(date(2026, 2, 15)).pk == run.pk
    assert totals(run)["autopay"] == {"posted": 1, "already": 0, "skipped": 0, "files": 1}
    assert [(e.amount, e.collection_date) for e in AchEntry.objects.all()] == [
        (D("106.62"), date(2026, 2, 15))
    ]
    assert AchBatchFile.objects.count() == 1
    loan.refresh_from_db()
    assert (loan.days_past_due, loan.next_due_date) == (0, date(2026, 3, 15))


def test_autopay_due_without_ach_configured_fails_the_run(make_loan):
    loan = make_loan()
    _authorize(loan)
    set_business_date(date(2026, 2, 15))
    with override_settings(**dict.fromkeys(ACH, "")):
        run = run_end_of_day()
    assert run.status == EodRun.Status.FAILED
    assert run.error.startswith("autopay chunk 0: Conflict: ACH is not configured")
    assert not AchEntry.objects.exists()
    assert not Payment.objects.filter(loan=loan).exists()
    assert get_business_date() == date(2026, 2, 15)
    # the loan steps before it are done and are not redone when it resumes
    done = dict(EodChunk.objects.filter(run=run).values_list("step", "status"))
    # (no late fee is due yet, so that step had no chunk to do)
    assert done == {
        "expire_applications": "done",
        "fall_due": "done",
        "accrue": "done",
        "autopay": "failed",
    }
    with override_settings(**ACH):
        run = run_end_of_day()
    assert run.status == EodRun.Status.COMPLETED
    assert AchEntry.objects.count() == 1
    assert get_business_date() == date(2026, 2, 16)
