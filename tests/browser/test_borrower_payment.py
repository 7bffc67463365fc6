"""A borrower pays the next instalment by card in the portal, in Chromium,
and sees the principal drop by exactly the instalment's principal; a
servicing agent then reverses it as a posting error through the staff
confirm form and sees the principal restored."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers import services as customer_services
from servicing.boarding import BoardingTerms, board_loan
from servicing.models import Payment
from servicing.selectors.ledger import clear_account_cache
from servicing.services.products import create_product
from tests.factories import PASSWORD, UserFactory
from tests.servicing.conftest import set_business_date

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BORROWER_PASSWORD = "a-long-borrower-pass-1"


def _money(amount: Decimal) -> str:
    return f"{amount:,}"


@pytest.fixture
def funded_loan():
    clear_account_cache()
    customer = customer_services.register_borrower(
        first_name="Paula",
        last_name="Payer",
        email="paula@example.com",
        date_of_birth=date(1985, 3, 2),
        password=BORROWER_PASSWORD,
        accept_electronic_records=True,
    )
    product = create_product(
        code="personal",
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
        nsf_fee_amount=Decimal("30.00"),
    )
    set_business_date(date(2026, 1, 15))
    loan = board_loan(
        terms=BoardingTerms(
            origination_reference="APP-BROWSER-1",
            customer_id=customer.pk,
            product_id=product.pk,
            principal=Decimal("1200.00"),
            annual_rate=Decimal("0.12"),
            term=12,
            disbursement_date=date(2026, 1, 15),
        )
    )
    set_business_date(date(2026, 2, 15))
    yield loan
    clear_account_cache()


def test_borrower_pays_by_card_and_agent_reverses_it(page, funded_loan):
    loan = funded_loan
    first = loan.installments.get(number=1)
    instalment = first.principal_due + first.interest_due
    after_payment = Decimal("1200.00") - first.principal_due

    # The borrower signs in and opens the loan.
    page.goto("/portal/login/")
    page.get_by_label("E-mail address").fill("paula@example.com")
    page.get_by_label("Password").fill(BORROWER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/portal/loans/")
    page.get_by_role("link", name=f"Loan {loan.loan_number}").click()
    expect(page.locator("[data-figure=principal]")).to_have_text("1,200.00")
    expect(page.locator("[data-figure=next-due]")).to_contain_text(_money(instalment))

    # Pays the next instalment with the test card.
    page.get_by_role("button", name="Make a payment").first.click()
    expect(page.get_by_label("Amount")).to_have_value(str(instalment))
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2030")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay now").click()

    expect(page.locator("[data-figure=paid-principal]")).to_have_text(_money(first.principal_due))
    expect(page.locator("[data-figure=paid-interest]")).to_have_text(_money(first.interest_due))
    expect(page.locator("[data-figure=principal]")).to_have_text(_money(after_payment))
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.channel, payment.method) == (instalment, "portal", "card")

    # A servicing agent reverses it as a posting error.
    page.context.clear_cookies()
    UserFactory(username="sam", role="servicing_agent")
    page.goto("/staff/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.goto(f"/staff/servicing/{loan.pk}/?tab=transactions")
    expect(page.locator("[data-figure=principal]")).to_have_text(_money(after_payment))
    page.get_by_role("button", name="Reverse").click()
    page.get_by_label("Reason").select_option(label="Posting error")
    page.get_by_role("button", name="Reverse payment").click()

    expect(page.locator("[data-figure=principal]")).to_have_text("1,200.00")
    payment.refresh_from_db()
    assert (payment.status, payment.reversal_reason) == ("reversed", "posting_error")
    loan.refresh_from_db()
    assert loan.principal_balance == Decimal("1200.00")
    assert loan.fees_balance == Decimal("0.00")  # a posting error charges no NSF fee
