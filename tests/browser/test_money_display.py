"""In Chromium, a servicing agent and then the borrower open a loan with a
payment, a 75.00 late fee and a reversed payment, clicking through as a
person would, and every amount they can read has two decimals and thousands
separators; the loan's own figures are where they should be."""

import re

import pytest
from playwright.sync_api import expect

from servicing.selectors.ledger import clear_account_cache
from tests.factories import PASSWORD, UserFactory
from tests.money_check import WELL_FORMED, is_money_label, text_problems
from tests.servicing.money_book import PASSWORD as BORROWER_PASSWORD
from tests.servicing.money_book import build_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def book():
    clear_account_cache()
    yield build_book()
    clear_account_cache()


def money_seen(page) -> str:
    """The page's visible text, checked: no amount written any other way than
    d,ddd.dd, and every data-figure amount well formed."""
    text = page.locator("main").inner_text()
    assert text_problems(text) == [], page.url
    for figure in page.locator("[data-figure]").all():
        name = figure.get_attribute("data-figure").replace("-", " ")
        if not figure.is_visible() or not is_money_label(name):
            continue  # days past due, rate, APR are figures too, not amounts
        value = figure.inner_text().strip()
        amount = re.match(r"^-?\$?([\d,.]+)$", value)
        if amount:  # a bare figure (others read "106.62 on Feb 15, 2026")
            assert WELL_FORMED.fullmatch(amount.group(1)), (page.url, value)
    return " ".join(text.split())


def test_staff_and_borrower_see_every_amount_with_two_decimals(page, book):
    loan, paid = book["loan"], book["paid"]
    principal = f"{loan.principal_balance:,}"
    assert principal != "5,709.11"  # instalment 1 paid some of it

    # A servicing agent signs in and finds the loan.
    UserFactory(username="sam", role="servicing_agent")
    page.goto("/staff/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.goto("/staff/servicing/")
    listing = money_seen(page)
    assert principal in listing
    page.get_by_role("link", name=loan.loan_number).click()
    expect(page.locator("[data-figure=principal]")).to_have_text(principal)
    expect(page.locator("[data-figure=fees]")).to_have_text("75.00")
    summary = money_seen(page)
    assert "Loan amount 5,709.11 USD" in summary
    assert "Disbursed 5,709.11" in summary

    page.get_by_role("link", name="Transactions", exact=True).click()
    expect(page.locator("#tab-transactions")).to_be_visible()
    transactions = money_seen(page)
    assert f"{paid.amount:,}" in transactions
    assert "1,250.50" in transactions and "Reversed" in transactions
    assert "75.00" in transactions

    page.get_by_role("link", name="Ledger", exact=True).click()
    expect(page.locator("#tab-ledger")).to_be_visible()
    ledger = money_seen(page)
    assert "Disbursed 5,709.11 of 5,709.11" in ledger and "1,250.50" in ledger

    page.get_by_role("link", name="Schedule", exact=True).click()
    expect(page.locator("#tab-schedule")).to_be_visible()
    money_seen(page)

    # The payoff quote kept on the loan page, then the statements list.
    quote = book["quote"]
    page.get_by_role(
        "link", name=re.compile(rf"^{re.escape(f'{quote.amount:,}')} good through")
    ).click()
    payoff = money_seen(page)
    assert f"Payoff amount {quote.amount:,}" in payoff
    page.go_back()
    page.get_by_role("link", name="All statements").click()
    statements = money_seen(page)
    assert f"{book['statement'].amount_due:,}" in statements

    # The borrower signs in to the portal and opens the same loan.
    page.context.clear_cookies()
    page.goto("/portal/login/")
    page.get_by_label("E-mail address").fill("mona@example.com")
    page.get_by_label("Password").fill(BORROWER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/portal/loans/")
    assert principal in money_seen(page)
    page.get_by_role("link", name=f"Loan {loan.loan_number}").click()
    expect(page.locator("[data-figure=principal]")).to_have_text(principal)
    expect(page.locator("[data-figure=fees]")).to_have_text("75.00")
    detail = money_seen(page)
    assert "Loan amount 5,709.11" in detail
    assert f"{paid.amount:,}" in detail and "1,250.50" in detail

    # The receipt of the payment that stood.
    page.goto(f"/portal/loans/{loan.pk}/payments/{paid.pk}/")
    expect(page.locator("[data-figure=amount]")).to_have_text(f"{paid.amount:,}")
    money_seen(page)

    # The pay page and a payoff quote for a date the borrower picks.
    page.goto(f"/portal/loans/{loan.pk}/")
    page.get_by_role("button", name="Make a payment").first.click()
    money_seen(page)
    page.goto(f"/portal/loans/{loan.pk}/")
    page.get_by_role("button", name="Payoff quote").click()
    page.goto(f"/portal/loans/{loan.pk}/payoff/?good_through=2026-04-10")
    expect(page.locator("[data-figure=total]")).to_have_text(f"{quote.amount:,}")
    expect(page.locator("[data-figure=fees]")).to_have_text("75.00")
    money_seen(page)
