"""The demo loan portfolio: the promised mix, idempotent, and a clean ledger."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from customers.demo import load_demo_customers
from servicing.demo import load_demo_loans, profile_of
from servicing.models import JournalEntry, Loan, LoanEvent, LoanState, Modification, Payment
from servicing.selectors.ledger import clear_account_cache
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio():
    set_business_date(date(2026, 6, 15))
    load_demo_customers(count=8)
    clear_account_cache()
    return load_demo_loans(count=30)


def test_demo_portfolio_has_the_promised_mix(portfolio):
    loans = Loan.objects.filter(origination_reference__startswith="DEMO-")
    assert len(portfolio) == loans.count() == 30
    assert {loan.origination_reference for loan in portfolio} == {f"DEMO-{n}" for n in range(1, 31)}
    assert loans.values("customer").distinct().count() > 1
    for loan in loans:
        assert 1000 <= loan.principal <= 35000
        assert 0.06 <= float(loan.annual_rate) <= 0.2999
        assert 12 <= loan.term <= 60
        assert date(2024, 12, 1) <= loan.disbursement_date <= date(2026, 6, 15)
    assert loans.filter(state=LoanState.PAID_OFF).exists()
    assert loans.filter(state=LoanState.CHARGED_OFF).count() == 1
    assert loans.get(state=LoanState.CHARGED_OFF).origination_reference == "DEMO-3"
    delinquent = loans.filter(state=LoanState.ACTIVE, days_past_due__gt=30)
    assert delinquent.count() >= 2
    assert {profile_of(int(loan.origination_reference[5:])) for loan in delinquent} == {
        "delinquent"
    }
    assert Modification.objects.filter(loan__in=loans, requires_approval=False).exists()
    assert LoanEvent.objects.filter(loan__in=loans, kind=LoanEvent.Kind.MODIFICATION).exists()
    nsf = Payment.objects.filter(loan__in=loans, reversal_reason=Payment.ReversalReason.NSF)
    assert nsf.count() == 1
    nsf_loan = nsf.get().loan
    nsf_loan.refresh_from_db()
    assert nsf_loan.days_past_due == 0  # the returned payment and its fee were made good
    late_fees = LoanEvent.objects.filter(
        loan__in=loans, kind=LoanEvent.Kind.FEE, details__fee_kind="late"
    )
    assert late_fees.exists()
    # on-time loans are current
    on_time = [
        loan for loan in loans if profile_of(int(loan.origination_reference[5:])) == "on_time"
    ]
    assert on_time and all(loan.days_past_due == 0 for loan in on_time)


def test_demo_portfolio_is_idempotent_and_verifies(portfolio):
    counts = (
        Loan.objects.count(),
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
    )
    again = load_demo_loans(count=30)
    assert [loan.pk for loan in again] == [loan.pk for loan in portfolio]
    assert counts == (
        Loan.objects.count(),
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
    )
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "30 loans checked, 0 mismatches" in out.getvalue()
