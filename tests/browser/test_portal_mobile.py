"""The borrower portal on a phone (375x812, touch), in Chromium: the apply
steps, the loan page and the pay page scroll only vertically, every main
navigation link is on screen and tappable, the form fields take (nearly)
the whole width and the primary button is visible without zooming; a card
payment made on the phone really posts."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from servicing.models import Payment
from tests.browser.test_borrower_payment import BORROWER_PASSWORD as PAYER_PASSWORD
from tests.browser.test_borrower_payment import funded_loan  # noqa: F401
from tests.browser.test_origination_journey import _field, _sign_in_to_portal, lending_setup  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def assert_fits_the_phone(page, what: str):
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " scale: window.visualViewport ? window.visualViewport.scale : 1,"
        " wrap: getComputedStyle(document.querySelector('.portal-header nav ul:last-child'))"
        ".flexWrap, sheets: document.styleSheets.length})"
    )
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e =>"
        " e.getBoundingClientRect().right > 376).filter(e => ![...e.children].some(c =>"
        " c.getBoundingClientRect().right > 376)).slice(0, 12).map(e =>"
        " e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert sizes["inner"] == PHONE["width"], (what, sizes, wide)  # the page is not zoomed out
    assert sizes["scroll"] <= sizes["inner"], (what, sizes)  # no horizontal scrolling
    assert sizes["scale"] == 1, (what, sizes)


def assert_navigation_usable(page, what: str):
    nav = page.get_by_role("navigation", name="Portal")
    expect(nav).to_be_visible()
    items = nav.locator("a, button")
    assert items.count() >= 3, what
    for i in range(items.count()):
        item = items.nth(i)
        expect(item).to_be_visible()
        box = item.bounding_box()
        label = item.inner_text()
        assert box is not None, (what, label)
        # wholly on screen horizontally, and big enough to tap
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, (what, label, box)
        assert box["height"] >= 24 and box["width"] >= 24, (what, label, box)


def assert_full_width(page, locator, what: str):
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box["width"] >= 0.8 * PHONE["width"], (what, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, (what, box)


def assert_button_on_screen(page, button, what: str):
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    expect(button).to_be_in_viewport()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, (what, box)
    assert box["height"] >= 24, (what, box)


def test_the_apply_steps_fit_a_phone(phone, lending_setup):  # noqa: F811
    page = phone
    _sign_in_to_portal(page)
    assert_fits_the_phone(page, "home")
    assert_navigation_usable(page, "home")

    page.goto("/portal/apply/")
    assert_fits_the_phone(page, "apply: loan")
    assert_navigation_usable(page, "apply: loan")
    amount = page.get_by_label("How much would you like to borrow?")
    assert_full_width(page, amount, "amount")
    assert_full_width(page, page.get_by_label("Over how many months?"), "term")
    assert_full_width(page, page.get_by_label("What is it for?"), "purpose")
    save = page.get_by_role("button", name="Save and continue")
    assert_button_on_screen(page, save, "apply: loan")

    amount.tap()
    amount.fill("10000")
    page.get_by_label("Over how many months?").select_option(label="36 months")
    page.get_by_label("What is it for?").select_option(label="Debt consolidation")
    save.tap()

    expect(page.get_by_role("heading", name="About you", exact=True)).to_be_visible()
    assert_fits_the_phone(page, "apply: about you")
    for label in ("Social Security number", "Street address", "City", "ZIP code", "Employer"):
        assert_full_width(page, _field(page, label), label)
    assert_button_on_screen(
        page, page.get_by_role("button", name="Save and continue"), "apply: about you"
    )


def test_the_loan_and_pay_pages_fit_a_phone_and_the_payment_posts(phone, funded_loan):  # noqa: F811
    page = phone
    loan = funded_loan
    first = loan.installments.get(number=1)
    instalment = first.principal_due + first.interest_due

    page.goto("/portal/login/")
    assert_fits_the_phone(page, "login")
    assert_full_width(page, page.get_by_label("E-mail address"), "e-mail")
    page.get_by_label("E-mail address").fill("paula@example.com")
    page.get_by_label("Password").fill(PAYER_PASSWORD)
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto("/portal/loans/")
    assert_fits_the_phone(page, "loans")
    page.get_by_role("link", name=f"Loan {loan.loan_number}").tap()
    expect(page.locator("[data-figure=principal]")).to_have_text("1,200.00")
    assert_fits_the_phone(page, "loan page")
    assert_navigation_usable(page, "loan page")
    expect(page.locator("[data-figure=principal]")).to_be_in_viewport()
    pay = page.get_by_role("button", name="Make a payment").first
    assert_button_on_screen(page, pay, "loan page")

    pay.tap()
    expect(page.get_by_label("Amount")).to_have_value(str(instalment))
    assert_fits_the_phone(page, "pay page")
    assert_navigation_usable(page, "pay page")
    for label in ("Amount", "Card number"):
        assert_full_width(page, page.get_by_label(label), label)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2030")
    page.get_by_label("Security code").fill("123")
    pay_now = page.get_by_role("button", name="Pay now")
    assert_button_on_screen(page, pay_now, "pay page")
    pay_now.tap()

    after = Decimal("1200.00") - first.principal_due
    expect(page.locator("[data-figure=principal]")).to_have_text(f"{after:,}")
    assert_fits_the_phone(page, "after paying")
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.channel) == (instalment, "portal")
