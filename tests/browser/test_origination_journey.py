"""The whole origination journey in Chromium, as people see it: a borrower
signs in to the portal, applies in the four steps with the simulated
bureau's clean-file identity, is approved at once, accepts the offer,
signs with a typed name and adds a bank account; a loan officer then opens
the application in the staff UI, disburses it, finds the loan in
servicing by the borrower's name and sees the principal and the first
instalment the portal's offer showed. And a borrower withdrawing an
approved application, the confirmation box first left unticked."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers import services as customer_services
from origination.models import Application, SanctionsList
from origination.services import kyc
from servicing.selectors.ledger import clear_account_cache
from servicing.services.products import create_product as create_servicing_product
from tests.factories import PASSWORD, UserFactory
from tests.origination.closing_setup import (
    SAMPLE_SDN,
    TODAY,
    approved_application,
    make_loan_product,
    set_business_date,
)
from tests.origination.test_portal_apply import with_identity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "jordan.clean@example.com"
BORROWER_PASSWORD = "a-long-borrower-pass-1"
ROUTING = "011000015"  # passes the ABA checksum


@pytest.fixture
def lending_setup(settings, tmp_path):
    """A loan product on a servicing product, the sanctions list, the
    business date, a registered borrower and a loan officer."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    clear_account_cache()
    servicing_product = create_servicing_product(
        code="personal",
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
    )
    product = make_loan_product(servicing_product.pk)
    set_business_date(TODAY)
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)  # screening needs a list, else it refers
    borrower = customer_services.register_borrower(
        first_name="Jordan",
        last_name="Clean",
        email=EMAIL,
        date_of_birth=date(1985, 6, 15),
        password=BORROWER_PASSWORD,
        accept_electronic_records=True,
    )
    UserFactory(username="olivia", first_name="Olivia", last_name="Officer", role="loan_officer")
    yield product, borrower
    clear_account_cache()


def _field(page, label: str):
    """The field whose label is exactly `label` (a required field's label
    ends with an asterisk)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def _sign_in_to_portal(page):
    page.goto("/portal/login/")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(BORROWER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _apply(page) -> str:
    """The four steps; returns the application reference the page shows."""
    page.goto("/portal/apply/")
    page.get_by_label("How much would you like to borrow?").fill("10000")
    page.get_by_label("Over how many months?").select_option(label="36 months")
    page.get_by_label("What is it for?").select_option(label="Debt consolidation")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="About you", exact=True)).to_be_visible()
    reference = page.locator(".page-head p.subtle").first.inner_text().split("/")[-1].strip()
    _field(page, "Social Security number").fill("412-80-9999")  # clean file
    _field(page, "Street address").fill("12 St Marks Pl")
    _field(page, "City").fill("New York")
    _field(page, "State").select_option("NY")
    _field(page, "ZIP code").fill("10003")
    _field(page, "Employment").select_option(label="Employed")
    _field(page, "Employer").fill("Acme Corp")
    _field(page, "Months with this employer").fill("60")
    _field(page, "Gross monthly income").fill("25000.00")
    _field(page, "Housing").select_option(label="Rent")
    _field(page, "Monthly rent or mortgage").fill("1500.00")
    _field(page, "Other monthly debt payments").fill("0.00")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Your consents")).to_be_visible()
    page.get_by_label("I authorize the credit report pull described above.").check()
    page.get_by_label("I agree to electronic records and signatures as described above.").check()
    page.get_by_role("button", name="I agree — continue").click()

    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(page.get_by_text("Electronic records")).to_be_visible()  # the consent is listed
    page.get_by_role("button", name="Submit my application").click()
    return reference


def test_borrower_applies_signs_and_the_officer_disburses_into_servicing(page, lending_setup):
    _sign_in_to_portal(page)
    reference = _apply(page)

    # The automatic decision approves at once and shows the offers, the asked-for term first.
    expect(page.get_by_text("Congratulations — you're approved.")).to_be_visible()
    offer = page.locator("article[data-offer]").first
    expect(offer).to_contain_text("for 36 months")
    expect(offer.get_by_role("radio")).to_be_checked()
    payment = offer.locator("strong").first.inner_text().removesuffix(" a month")
    facts = offer.locator("dl.facts")
    first_due = facts.locator("dt:text-is('First payment') + dd").inner_text()
    expect(facts.locator("dt:text-is('Amount') + dd")).to_have_text("10,000.00")
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", payment), payment
    page.get_by_role("button", name="Accept this offer").click()

    # E-records consent was given in step 3, so the offer leads straight to signing.
    expect(
        page.get_by_text("Offer accepted. Please review and sign your documents.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Review and sign")).to_be_visible()
    expect(page.get_by_text(f"({payment} a month)")).to_be_visible()
    expect(page.locator("[data-sha256]")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    page.get_by_label("Type your full name").fill("Jordan Clean")
    page.get_by_label("I agree to the loan agreement").check()
    page.get_by_role("button", name="Sign", exact=True).click()

    expect(page.get_by_role("heading", name="Your documents are signed")).to_be_visible()
    expect(page.locator("[data-signer]")).to_have_text("Jordan Clean")
    expect(page.locator("[data-state]").first).to_have_text("Documents signed")

    # The bank account the money goes to.
    page.get_by_role("button", name="Add your bank account").click()
    page.get_by_label("Routing number").fill(ROUTING)
    page.get_by_label("Account number").fill("000123456789")
    page.get_by_label("Account type").select_option(label="Checking")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your bank account is saved.")).to_be_visible()
    expect(page.get_by_text("We will send the money to the account ending 6789.")).to_be_visible()
    expect(page.locator("[data-state]").first).to_have_text("Documents signed")

    # A loan officer opens the application from the board and disburses it.
    page.context.clear_cookies()
    page.goto("/staff/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_text("Olivia Officer · Loan officer")).to_be_visible()
    page.goto("/staff/origination/applications/")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=re.compile(reference))).to_be_visible()
    page.get_by_role("button", name="Disburse and board the loan").click()
    expect(page.get_by_text("Disbursed and boarded into servicing.")).to_be_visible()
    loan_link = page.get_by_text(re.compile(r"^Boarded as loan")).locator("a[data-loan]")
    expect(loan_link).to_have_text(re.compile(r"^L-\d+$"))
    loan_number = loan_link.inner_text()

    # It is in servicing under the borrower's name, with the offer's terms.
    page.goto("/staff/servicing/")
    _field(page, "Search").fill("Jordan Clean")
    page.get_by_role("button", name="Search").click()
    row = page.locator(f"tr[data-loan='{loan_number}']")
    expect(row).to_contain_text("Jordan Clean")
    row.get_by_role("link", name=loan_number).click()

    expect(page.get_by_role("heading", name=loan_number)).to_be_visible()
    expect(page.locator("[data-figure=principal]")).to_have_text("10,000.00")
    first = page.locator("tr[data-installment='1']")
    expect(first.locator("td").nth(1)).to_have_text(first_due)
    expect(first.locator("td").nth(5)).to_have_text(payment)
    expect(page.locator("[data-figure=next-due]")).to_have_text(f"{payment} on {first_due}")

    application = Application.objects.get(reference=reference)
    assert (application.state, application.loan_number) == ("disbursed", loan_number)


def test_borrower_withdraws_an_approved_application(page, lending_setup):
    product, borrower = lending_setup
    application = approved_application(product, customer=with_identity(borrower, "412-81-9999"))
    _sign_in_to_portal(page)
    page.goto("/portal/applications/")
    page.get_by_role("link", name=application.reference).click()
    expect(page.get_by_text("Congratulations — you're approved.")).to_be_visible()

    page.get_by_text("Withdraw this application", exact=True).click()  # opens the disclosure
    page.get_by_label("Why are you withdrawing? (optional)").fill("Found a lower rate elsewhere.")
    page.get_by_role("button", name="Withdraw application").click()
    expect(page.get_by_text("Tick the box to confirm that you want to withdraw.")).to_be_visible()
    expect(page.locator("[data-state]").first).to_have_text("Approved")

    page.get_by_label("Yes, withdraw this application.").check()
    page.get_by_role("button", name="Withdraw application").click()
    expect(page.get_by_text("Your application is withdrawn.")).to_be_visible()
    expect(page.get_by_text("This application is withdrawn.")).to_be_visible()
    expect(page.locator("[data-state]").first).to_have_text("Withdrawn")
    expect(page.locator("#timeline li").last).to_contain_text("Application withdrawn")
    expect(page.get_by_role("button", name="Accept this offer")).to_have_count(0)
    expect(page.get_by_text("Withdraw this application", exact=True)).to_have_count(0)
    application.refresh_from_db()
    assert (application.state, application.withdraw_reason) == (
        "withdrawn",
        "Found a lower rate elsewhere.",
    )
