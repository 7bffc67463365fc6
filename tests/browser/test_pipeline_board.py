"""The staff pipeline board in Chromium at 1280x800: every column is on
screen (no horizontal scrolling of the page or of the board), the cards
carry no list bullets, and the metrics panel opened at its own address is a
whole styled page with a title."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from origination.models import NON_FINAL_STATES
from tests.factories import PASSWORD, UserFactory
from tests.origination.test_applications import CLEAN, draft, person, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}

LAYOUT = """
() => {
  const board = document.querySelector('.board');
  const columns = [...board.querySelectorAll('[data-column]')];
  const off = columns.filter(c => {
    const r = c.getBoundingClientRect();
    return r.left < 0 || r.right > window.innerWidth;
  }).map(c => c.dataset.column + ' ' + Math.round(c.getBoundingClientRect().right));
  const bullets = [...board.querySelectorAll('li')].filter(li => {
    const s = getComputedStyle(li);
    return s.display === 'list-item' && s.listStyleType !== 'none';
  }).map(li => li.innerText.slice(0, 20) + ': ' + getComputedStyle(li).listStyleType);
  return {
    page_scroll: document.documentElement.scrollWidth - window.innerWidth,
    board_scroll: board.scrollWidth - board.clientWidth,
    columns: columns.length, off, bullets,
  };
}
"""


@pytest.fixture
def officer_page(browser, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    draft(person(CLEAN))
    draft(person("411-23-9999", first="Grace", last="Hopper", email="grace@example.com"))
    submitted(person("421-23-9999", first="Alan", last="Turing", email="alan@example.com"))
    UserFactory(username="olive", role="loan_officer")
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/staff/login/")
    page.get_by_label("Username").fill("olive")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    yield page
    context.close()


def test_the_board_fits_the_screen_without_bullets(officer_page):
    page = officer_page
    page.goto(reverse("origination:application-board"))
    expect(page.locator("[data-app]").first).to_be_visible()
    expect(page.locator("#metrics-title")).to_be_visible()  # the htmx panel arrived
    layout = page.evaluate(LAYOUT)
    assert layout["columns"] == len(NON_FINAL_STATES), layout
    assert layout["page_scroll"] <= 0, layout
    assert layout["board_scroll"] <= 0, layout
    assert layout["off"] == [], layout
    assert layout["bullets"] == [], layout
    # each card is readable: at least 12rem wide
    for card in page.locator(".app-card").all():
        assert card.bounding_box()["width"] >= 12 * 16 - 1


def test_the_metrics_page_opened_directly_is_a_styled_page(officer_page):
    page = officer_page
    page.goto(reverse("origination:application-metrics"))
    expect(page).to_have_title(re.compile(r"^Pipeline metrics"))
    expect(page.get_by_role("heading", name="Pipeline metrics", level=1)).to_be_visible()
    # the staff layout and its stylesheets are there: the side navigation and Pico's font
    expect(page.get_by_role("navigation").first).to_be_visible()
    assert page.evaluate("() => document.styleSheets.length") >= 2
    expect(page.locator("[data-metric=time_to_decision]")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Back to the applications"))).to_be_visible()
