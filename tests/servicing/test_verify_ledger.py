"""manage.py verify_ledger: caches re-derived from postings and a replay."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from servicing.models import Loan
from servicing.services.payments import post_payment, reverse_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, on, **kw):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff", **kw
    ).payment


def run(*args):
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def run_failing(*args):
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_ledger", *args, stdout=out)
    return out.getvalue(), excinfo.value


@pytest.fixture
def busy_loans(make_loan):
    """Three loans: untouched, backdated-and-reversed, overpaid."""
    today = date(2026, 3, 20)  # boarded (and so synced) as of today
    plain = make_loan("APP-1", business_date=today)
    busy = make_loan("APP-2", business_date=today)
    over = make_loan("APP-3", principal="500.00", term=6, business_date=today)
    pay(busy, "106.62", date(2026, 3, 16))
    feb = pay(busy, "106.62", date(2026, 2, 15))
    reverse_payment(payment=feb, reason="nsf")
    pay(over, "600.00", date(2026, 3, 1))
    return plain, busy, over


def test_consistent_data_passes(busy_loans):
    out = run()
    assert out.splitlines()[-1].startswith("3 loans checked, 0 mismatches (")
    assert Loan.objects.get(origination_reference="APP-3").state == "overpaid"


def test_small_chunks_cover_every_loan(busy_loans):
    assert run("--chunk-size", "2").splitlines()[-1].startswith("3 loans checked, 0 mismatches")


def test_tampered_cache_is_reported_with_both_values(busy_loans):
    _, busy, _ = busy_loans
    busy.refresh_from_db()
    assert busy.principal_balance == D("1105.38")
    Loan.objects.filter(pk=busy.pk).update(principal_balance=D("1100.00"))
    out, error = run_failing()
    lines = out.splitlines()
    assert f"{busy.loan_number} principal_balance: cached 1100.00, ledger 1105.38" in lines
    assert f"{busy.loan_number} principal_balance: cached 1100.00, replay 1105.38" in lines
    assert lines[-1].startswith("3 loans checked, 2 mismatches (")
    assert error.returncode == 1
    assert str(error) == "2 mismatches on 1 loan."


def test_tampered_credit_and_arrears(busy_loans):
    _, _, over = busy_loans
    over.refresh_from_db()
    assert over.overpayment_balance > 0
    Loan.objects.filter(pk=over.pk).update(overpayment_balance=D("0.00"), days_past_due=3)
    out, _ = run_failing("--loan", over.loan_number)
    lines = out.splitlines()
    expected = over.overpayment_balance
    assert f"{over.loan_number} overpayment_balance: cached 0.00, ledger {expected}" in lines
    assert f"{over.loan_number} overpayment_balance: cached 0.00, replay {expected}" in lines
    assert f"{over.loan_number} days_past_due: cached 3, replay 0" in lines
    assert lines[-1].startswith("1 loans checked, 3 mismatches (")


def test_one_loan_option(busy_loans):
    plain, busy, _ = busy_loans
    Loan.objects.filter(pk=busy.pk).update(interest_balance=D("0.00"))
    assert (
        run("--loan", plain.loan_number)
        .splitlines()[-1]
        .startswith("1 loans checked, 0 mismatches")
    )
    out, _ = run_failing("--loan", busy.loan_number)
    assert f"{busy.loan_number} interest_balance: cached 0.00, ledger 11.05" in out


def test_unknown_loan_number():
    with pytest.raises(CommandError, match="No loan L-9999999"):
        call_command("verify_ledger", "--loan", "L-9999999", stdout=StringIO())


def test_stale_cache_after_the_date_moves_is_reported(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))  # instalment 1 fell due; nobody synced
    out, _ = run_failing()
    assert f"{loan.loan_number} days_past_due: cached 0, replay 5" in out.splitlines()


def test_chunk_events_equal_the_sync_conversion(busy_loans):
    from servicing.management.commands.verify_ledger import chunk_engine_events
    from servicing.services.sync import engine_events

    loans = list(busy_loans)
    chunk = chunk_engine_events(min(loan.pk for loan in loans), max(loan.pk for loan in loans))
    for loan in loans:
        assert chunk.get(loan.pk, []) == engine_events(loan)
    # the busy loan: the March payment and the NSF fee (the reversed one left out)
    assert [type(e).__name__ for e in chunk[loans[1].pk]] == ["PaymentEvent", "FeeEvent"]


@pytest.fixture
def part_paid_loan(make_loan):
    """Instalment 1 (Feb 15) partly paid, instalment 2 (Mar 15) unpaid, as of Mar 20."""
    loan = make_loan("APP-9", business_date=date(2026, 3, 20))
    pay(loan, "50.00", date(2026, 2, 15))
    loan.refresh_from_db()
    return loan


def test_clean_book_with_partly_paid_and_past_due_instalments(part_paid_loan):
    loan = part_paid_loan
    rows = {i.number: i for i in loan.installments.all()}
    assert rows[1].status == "partially_paid"
    # interest first: 12.00 of interest, then 38.00 of principal
    assert (rows[1].interest_paid, rows[1].principal_paid) == (D("12.00"), D("38.00"))
    assert rows[2].status == "past_due"
    assert rows[2].principal_paid + rows[2].interest_paid == D("0.00")
    assert rows[3].status == "not_due"
    assert loan.days_past_due == 33
    assert run().splitlines()[-1].startswith("1 loans checked, 0 mismatches (")


def test_tampered_installment_paid_amount_is_reported(part_paid_loan):
    from servicing.models import Installment

    loan = part_paid_loan
    Installment.objects.filter(loan=loan, number=1).update(principal_paid=D("40.00"))
    out, error = run_failing()
    lines = out.splitlines()
    assert f"{loan.loan_number} installment 1 principal_paid: cached 40.00, ledger 38.00" in lines
    assert f"{loan.loan_number} installment 1 principal_paid: cached 40.00, replay 38.00" in lines
    assert lines[-1].startswith("1 loans checked, 2 mismatches (")
    assert str(error) == "2 mismatches on 1 loan."


def test_tampered_installment_status_is_reported_by_the_replay(part_paid_loan):
    from servicing.models import Installment

    loan = part_paid_loan
    Installment.objects.filter(loan=loan, number=2).update(status="paid")
    out, _ = run_failing("--loan", loan.loan_number)
    lines = out.splitlines()
    assert f"{loan.loan_number} installment 2 status: cached paid, replay past_due" in lines
    assert lines[-1].startswith("1 loans checked, 1 mismatches (")


def test_missing_installment_row_is_reported(part_paid_loan):
    from servicing.models import Installment

    loan = part_paid_loan
    Installment.objects.filter(loan=loan, number=12).delete()
    out, _ = run_failing()
    assert f"{loan.loan_number} installment 12: cached missing, replay present" in out.splitlines()
