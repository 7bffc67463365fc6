"""Modification types beyond rate and term, through the real modification
service (propose, which applies at once within the approval limit): payment
deferral with interest capitalised or deferred, due-date change, and a fee
waived as part of a modification. Each: the new schedule, the ledger
postings (accounts and amounts), balanced entries, verify_ledger clean; and
one invalid request per type that is refused and writes nothing.

The loan: 1,200.00 at 12% over 12 months from 2026-01-15 (106.62 a month,
30/360), instalment 1 paid on its due date, modified on 2026-03-01 (16 days
of interest, 5.90, accrued on the 1,105.38 left).
"""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from core.exceptions import ValidationFailed
from core.models import AuditEvent
from servicing.models import JournalEntry, LoanEvent, Modification, Posting, ProductAccount
from servicing.services.fees import assess_fee
from servicing.services.modifications import propose_modification
from servicing.services.payments import post_payment
from tests.conftest import make_staff
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal
MODIFIED_ON = date(2026, 3, 1)
# 16 days (30/360) of 12% on the 1,105.38 left after instalment 1
PART_PERIOD_INTEREST = (D("1105.38") * D("0.12") * 16 / 360).quantize(D("0.01"))


@pytest.fixture
def loan(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan, amount=D("106.62"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    set_business_date(MODIFIED_ON)
    loan.refresh_from_db()
    assert loan.principal_balance == D("1105.38")
    return loan


@pytest.fixture
def agent(db):
    return make_staff("servicing_agent")


def modify(loan, agent, **kw):
    mod = propose_modification(loan=loan, user=agent, effective_date=MODIFIED_ON, **kw)
    assert mod.status == Modification.Status.APPLIED
    loan.refresh_from_db()
    return mod


def schedule(loan):
    return [
        (i.number, i.due_date, i.principal_due, i.interest_due, i.status)
        for i in loan.installments.order_by("number")
    ]


def lines(loan, source):
    """{(role, component, instalment): debit - credit} of a source's entries."""
    roles = dict(
        ProductAccount.objects.filter(product_id=loan.product_id).values_list("account_id", "role")
    )
    out = {}
    for p in Posting.objects.filter(loan=loan, entry__source=source):
        key = (roles[p.account_id], p.component, p.installment_number)
        out[key] = out.get(key, D("0")) + p.debit - p.credit
    return out


def assert_balanced(loan):
    for entry in JournalEntry.objects.filter(loan=loan):
        sums = entry.postings.aggregate(d=Sum("debit"), c=Sum("credit"))
        assert sums["d"] == sums["c"], entry.source
    total = Posting.objects.filter(loan=loan).aggregate(d=Sum("debit"), c=Sum("credit"))
    assert total["d"] == total["c"]


def assert_verified():
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("1 loans checked, 0 mismatches (")


def counts(loan):
    return (
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        Modification.objects.count(),
        AuditEvent.objects.count(),
        schedule(loan),
    )


def refused(loan, agent, field, message=None, **kw):
    before = counts(loan)
    with pytest.raises(ValidationFailed) as exc:
        propose_modification(loan=loan, user=agent, **{"effective_date": MODIFIED_ON, **kw})
    assert field in exc.value.fields
    if message:
        assert exc.value.fields[field] == [message]
    assert counts(loan) == before


def test_deferral_with_interest_capitalised(loan, agent):
    mod = modify(loan, agent, defer_installments=2, capitalise_interest=True)
    assert mod.preview["capitalised_interest"] == str(PART_PERIOD_INTEREST) == "5.90"
    assert mod.preview["carried_interest"] == "0.00"
    rows = schedule(loan)
    assert len(rows) == 12
    assert rows[0] == (1, date(2026, 2, 15), D("94.62"), D("12.00"), "paid")
    # Mar 15 and Apr 15 skipped: the next due date is two periods later and
    # maturity moves out two months; the term is kept.
    assert rows[1] == (2, date(2026, 5, 15), D("96.08"), D("27.41"), "not_due")
    assert rows[2] == (3, date(2026, 6, 15), D("97.04"), D("10.15"), "not_due")
    assert rows[-1][1] == date(2027, 3, 15)
    # the capitalised interest is now principal to be repaid
    assert sum(r[2] for r in rows[1:]) == D("1105.38") + D("5.90")
    assert loan.principal_balance == D("1111.28")
    assert loan.interest_balance == D("0.00")
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 5, 15), D("123.49"))
    # principal receivable debited, interest income credited (the accrued
    # part-period interest was never a receivable, so income is recognised)
    assert lines(loan, f"event:{mod.event_id}") == {
        ("principal_receivable", "principal", None): D("5.90"),
        ("interest_income", "", None): D("-5.90"),
    }
    assert JournalEntry.objects.get(source=f"event:{mod.event_id}").entry_type == "modification"
    assert_balanced(loan)
    assert_verified()


def test_deferral_with_interest_deferred(loan, agent):
    mod = modify(loan, agent, defer_installments=2)
    assert mod.preview["capitalised_interest"] == "0.00"
    assert mod.preview["carried_interest"] == "5.90"
    rows = schedule(loan)
    assert rows[1] == (2, date(2026, 5, 15), D("95.57"), D("33.17"), "not_due")
    assert rows[2] == (3, date(2026, 6, 15), D("96.52"), D("10.10"), "not_due")
    assert rows[-1][1] == date(2027, 3, 15)
    # nothing capitalised: the principal to repay is unchanged and the
    # carried and holiday interest are due with the first new instalment
    assert sum(r[2] for r in rows[1:]) == D("1105.38")
    assert loan.principal_balance == D("1105.38")
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 5, 15), D("128.74"))
    # no money moves on the modification date: no entry for the event, and
    # the interest is recognised only when instalment 2 falls due
    assert not JournalEntry.objects.filter(source=f"event:{mod.event_id}").exists()
    assert not JournalEntry.objects.filter(loan=loan, source="accrual:2").exists()
    assert_balanced(loan)
    assert_verified()
    # when it falls due the whole 33.17 is accrued to interest receivable
    set_business_date(date(2026, 5, 15))
    post_payment(
        loan=loan, amount=D("128.74"), received_on=date(2026, 5, 15), method="ach", channel="staff"
    )
    assert lines(loan, "accrual:2") == {
        ("interest_receivable", "interest", 2): D("33.17"),
        ("interest_income", "", None): D("-33.17"),
    }
    assert loan.installments.get(number=2).status == "paid"
    assert_balanced(loan)
    assert_verified()


def test_due_date_change(loan, agent):
    mod = modify(loan, agent, next_due_date=date(2026, 3, 25))
    rows = schedule(loan)
    assert len(rows) == 12
    # re-anchored on the 25th; the first period runs 38 days from Feb 15
    assert rows[1] == (2, date(2026, 3, 25), D("95.57"), D("14.74"), "not_due")
    assert [r[1] for r in rows[2:4]] == [date(2026, 4, 25), date(2026, 5, 25)]
    assert rows[-1][1] == date(2027, 1, 25)
    assert all(r[3] == D("106.62") - r[2] or r[0] in (2, 12) for r in rows[2:])
    assert loan.principal_balance == D("1105.38")
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 3, 25), D("110.31"))
    assert not JournalEntry.objects.filter(source=f"event:{mod.event_id}").exists()
    assert_balanced(loan)
    assert_verified()


def test_fee_waiver_as_a_modification(loan, agent):
    fee = assess_fee(
        loan=loan, amount=D("25.00"), kind="other", note="Document copy", user=make_staff("manager")
    )
    loan.refresh_from_db()
    assert loan.fees_balance == D("25.00")
    mod = modify(loan, agent, waive_fee_event_id=fee.pk)
    assert mod.preview["waived_fee"] == "25.00"
    waiver = LoanEvent.objects.get(loan=loan, kind="waiver")
    assert waiver.amount == D("25.00")
    assert waiver.details["fee_event_id"] == fee.pk
    assert waiver.details["reason"] == f"Modification {mod.pk}"
    assert loan.fees_balance == D("0.00")
    row = loan.installments.get(number=2)
    assert (row.fees_due, row.fees_paid) == (D("0.00"), D("0.00"))
    # the fee on instalment 2 cancelled: fees receivable credited, fee income debited
    assert lines(loan, f"event:{fee.pk}") == {
        ("fees_receivable", "fees", 2): D("25.00"),
        ("fee_income", "", None): D("-25.00"),
    }
    assert lines(loan, f"event:{waiver.pk}") == {
        ("fees_receivable", "fees", 2): D("-25.00"),
        ("fee_income", "", None): D("25.00"),
    }
    assert JournalEntry.objects.get(source=f"event:{waiver.pk}").entry_type == "fee_waived"
    # The modification event itself re-amortises the rest mid-period with
    # the part-period interest carried: the dates stay, instalment 2 is
    # 106.63 (was 106.62: a cent of rounding), nothing is capitalised.
    rows = schedule(loan)
    assert rows[1] == (2, date(2026, 3, 15), D("95.57"), D("11.06"), "not_due")
    assert rows[-1][1] == date(2027, 1, 15)
    assert not JournalEntry.objects.filter(source=f"event:{mod.event_id}").exists()
    assert_balanced(loan)
    assert_verified()


def test_invalid_capitalised_deferral_is_refused(loan, agent):
    refused(
        loan,
        agent,
        "defer_installments",
        "Defer from 0 to 12 instalments.",
        defer_installments=13,
        capitalise_interest=True,
    )


def test_invalid_deferred_interest_deferral_is_refused(loan, agent):
    # a deferral dated after today's business date
    refused(loan, agent, "effective_date", defer_installments=2, effective_date=date(2026, 3, 2))


def test_invalid_due_date_change_is_refused(loan, agent):
    refused(
        loan,
        agent,
        "next_due_date",
        "The next due date must be after the effective date.",
        next_due_date=MODIFIED_ON,
    )


def test_invalid_fee_waiver_is_refused(loan, agent):
    payment = LoanEvent.objects.get(loan=loan, kind="payment")  # not a fee
    refused(
        loan,
        agent,
        "waive_fee_event_id",
        "Choose a fee that is still owed.",
        waive_fee_event_id=payment.pk,
    )
