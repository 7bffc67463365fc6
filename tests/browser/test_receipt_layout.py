"""The portal's payment receipt, in Chromium at a phone's and a desktop's
width: after a real card payment every card on the receipt holds its
content (nothing scrolls inside it, nothing sticks out of it) and the amount
is shown whole."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.test_borrower_payment import (
    BORROWER_PASSWORD,
    funded_loan,  # noqa: F401
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}

# For every card of the receipt, the descendants that overflow: content wider
# than their own box (scrollWidth > clientWidth) or a box reaching outside the
# card's. Half a pixel of slack absorbs sub-pixel rounding.
OVERFLOWS = """
() => [...document.querySelectorAll('main .cards article')].flatMap(card => {
  const c = card.getBoundingClientRect();
  const name = card.querySelector('h3') ? card.querySelector('h3').innerText : '?';
  return [card, ...card.querySelectorAll('*')].flatMap(e => {
    const r = e.getBoundingClientRect();
    const found = [];
    if (e.scrollWidth > e.clientWidth + 0.5 && getComputedStyle(e).display !== 'inline') {
      found.push(`${name}: ${e.tagName} scrolls ${e.scrollWidth} > ${e.clientWidth}`);
    }
    if (e !== card && r.width > 0 && (r.left < c.left - 0.5 || r.right > c.right + 0.5)) {
      const span = (b) => `${Math.round(b.left)}..${Math.round(b.right)}`;
      const what = `${name}: ${e.tagName} '${e.innerText.slice(0, 30)}'`;
      found.push(`${what} ${span(r)} outside ${span(c)}`);
    }
    return found;
  });
})
"""

# The amount cell: its text fits its box and the box lies inside its card and
# the viewport, so no digit is clipped.
AMOUNT = """
() => {
  const dd = document.querySelector('[data-figure=amount]');
  const card = dd.closest('article').getBoundingClientRect();
  const r = dd.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(dd);
  const text = range.getBoundingClientRect();
  return {
    fits: dd.scrollWidth <= dd.clientWidth,
    inside: r.left >= card.left - 0.5 && r.right <= card.right + 0.5,
    text_inside: text.left >= r.left - 0.5 && text.right <= r.right + 0.5
      && text.right <= window.innerWidth,
    overflow: getComputedStyle(dd).overflow,
    ellipsis: getComputedStyle(dd).textOverflow,
    width: r.width, text_width: text.width,
  };
}
"""


@pytest.mark.parametrize("viewport", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_the_receipt_holds_its_content(browser, live_server, funded_loan, viewport):  # noqa: F811
    loan = funded_loan
    first = loan.installments.get(number=1)
    instalment = first.principal_due + first.interest_due
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[viewport])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/portal/login/")
        page.get_by_label("E-mail address").fill("paula@example.com")
        page.get_by_label("Password").fill(BORROWER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/portal/loans/{loan.pk}/pay/")
        page.get_by_label("Card number").fill("4242 4242 4242 4242")
        page.get_by_label("Expiry month").fill("12")
        page.get_by_label("Expiry year").fill("2030")
        page.get_by_label("Security code").fill("123")
        page.get_by_role("button", name="Pay now").click()

        amount = page.locator("[data-figure=amount]")
        expect(amount).to_contain_text(f"{instalment:,}")
        assert Decimal(amount.inner_text().replace(",", "")) == instalment
        assert page.locator("main .cards article").count() == 3
        overflows = page.evaluate(OVERFLOWS)
        assert overflows == [], "\n".join(overflows)
        shown = page.evaluate(AMOUNT)
        assert shown["fits"] and shown["inside"] and shown["text_inside"], shown
        assert shown["ellipsis"] != "ellipsis", shown
        # the page itself does not scroll sideways
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
            viewport
        )
    finally:
        context.close()
