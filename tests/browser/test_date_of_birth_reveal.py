"""In Chromium: a loan officer sees a customer's date of birth masked with
the age and no Reveal button; an underwriter clicks Reveal and the full date
replaces the mask in place (htmx), with the read in the audit log."""

from datetime import date

import pytest
from playwright.sync_api import expect

from core.models import AuditEvent
from customers import services
from tests.browser.test_staff_customer import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_masked_for_an_officer_and_revealed_in_place_for_an_underwriter(page):
    customer = services.create_customer(
        data={
            "kind": "person",
            "first_name": "Grace",
            "last_name": "Hopper",
            "date_of_birth": date(1986, 12, 9),
            "tax_id": "123-45-6789",
        }
    )
    UserFactory(username="olive", role="loan_officer")
    UserFactory(username="uma", role="underwriter")

    sign_in(page, "olive")
    page.goto(f"/staff/customers/{customer.pk}/")
    dob = page.locator(f"#date-of-birth-{customer.pk}")
    expect(dob).to_contain_text("••/••/1986")
    expect(dob).to_contain_text("age ")
    expect(page.locator("main")).not_to_contain_text("12/09/1986")
    expect(page.get_by_test_id("reveal-date-of-birth")).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, "uma")
    page.goto(f"/staff/customers/{customer.pk}/")
    page.get_by_test_id("reveal-date-of-birth").click()
    expect(page.get_by_test_id("date-of-birth-revealed")).to_have_text("12/09/1986")
    expect(page.locator(f"#date-of-birth-{customer.pk}")).to_contain_text(
        "recorded in the audit log"
    )
    event = AuditEvent.objects.get(action="customer.date_of_birth_revealed")
    assert (event.actor.username, event.object_id) == ("uma", str(customer.pk))
