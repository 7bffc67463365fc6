"""A loan officer signs in through the real login page in Chromium, creates a
customer through the form, and finds them in the customer list."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/staff/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()


def test_loan_officer_creates_customer_and_sees_it_in_the_list(page):
    UserFactory(username="olivia", first_name="Olivia", last_name="Ortiz", role="loan_officer")
    sign_in(page, "olivia")

    # The home page shows the loan officer's work areas and nothing else.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Olivia")
    nav = page.get_by_role("navigation", name="Staff areas")
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)

    nav.get_by_role("link", name="Customers").click()
    page.get_by_role("button", name="New customer").click()

    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Date of birth").fill("1986-12-09")
    page.get_by_label("Tax id", exact=True).fill("123-45-6789")
    page.get_by_label("Email", exact=True).fill("Grace.Hopper@Example.COM")
    page.get_by_label("Phone", exact=True).fill("(212) 555-0143")
    page.get_by_role("button", name="Create customer").click()

    # The new customer's page, with the tax id masked and the email normalised.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grace Hopper")
    body = page.locator("main")
    expect(body).to_contain_text("6789")
    expect(body).not_to_contain_text("123-45-6789")
    expect(body).to_contain_text("grace.hopper@example.com")

    customer = Customer.objects.get(last_name="Hopper")
    assert customer.tax_id_last4 == "6789"

    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Customers").click()
    row = page.locator("table tr", has_text="Grace Hopper")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(customer.customer_number)
    expect(row).to_contain_text("6789")
    expect(row).not_to_contain_text("123-45")


def test_invalid_tax_id_shows_a_form_error_in_the_browser(page):
    UserFactory(username="olivia2", role="loan_officer")
    sign_in(page, "olivia2")
    page.goto("/staff/customers/new/")
    page.get_by_label("First name").fill("Bad")
    page.get_by_label("Last name").fill("Number")
    page.get_by_label("Date of birth").fill("1980-01-01")
    page.get_by_label("Tax id", exact=True).fill("000-12-3456")
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator(".field-invalid")).to_contain_text("SSN")
    assert not Customer.objects.filter(last_name="Number").exists()
