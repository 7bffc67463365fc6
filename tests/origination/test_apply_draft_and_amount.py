# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""/portal/apply/ with an application already in progress offers to resume
it and starts no second one (the page, a posted form, the service); once it
is withdrawn a new one can start. An amount outside the product's limits,
negative included, is refused with the product's range, in the portal, the
staff form and the API alike, with nothing written."""

import re

import pytest
from django.urls import reverse

from core.exceptions import Conflict
from core.models import AuditEvent
from origination.models import Application, ApplicationEvent, ApplicationState
from origination.services import applications as app_services
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    _closing_env,
    make_customer,
    servicing_product,
)
from tests.origination.test_api_applications import api, create  # noqa: F401
from tests.origination.test_portal_apply import LOAN, borrower, client_for, product  # noqa: F401
from tests.origination.test_staff_pages import NEW, staff

pytestmark = pytest.mark.django_db
S = ApplicationState
RANGE = "Enter an amount between 1,000.00 and 35,000.00."


def written():
    return (
        Application.objects.count(),
        ApplicationEvent.objects.count(),
        AuditEvent.objects.filter(action="application.created").count(),
    )


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def start(client, product):
    response = client.post(reverse("portal:apply"), {"product": str(product.pk), **LOAN})
    assert response.status_code == 302
    return Application.objects.order_by("-pk").first()


# --- one application in progress ------------------------------------------------------------


def test_the_apply_page_offers_to_resume_the_draft_and_no_new_form(product):
    customer = borrower()
    client = client_for(customer)
    draft = start(client, product)

    page = client.get(reverse("portal:apply"))
    assert page.status_code == 200
    html = page.content.decode()
    body = text(page)
    assert "You have an application in progress" in body
    assert draft.reference in body and "10,000.00" in body
    about = reverse("portal:apply-about", args=[draft.pk])
    link = re.search(r'<a href="([^"]+)"[^>]*data-resume[^>]*>([^<]+)</a>', html)
    assert link and link.groups() == (about, "Resume your application")
    # no form that would start a second one
    assert 'name="requested_amount"' not in html and "Save and continue" not in html
    # the way to start afresh is to withdraw this one, from its page
    assert f'href="{reverse("portal:application-detail", args=[draft.pk])}"' in html


def test_posting_the_first_step_again_starts_no_second_draft(product):
    customer = borrower()
    client = client_for(customer)
    draft = start(client, product)
    before = written()
    response = client.post(
        reverse("portal:apply"),
        {"product": str(product.pk), **LOAN, "requested_amount": "12000.00"},
    )
    assert response.status_code == 409
    assert "Resume your application" in text(response)
    assert written() == before
    draft.refresh_from_db()
    assert str(draft.requested_amount) == "10000.00"  # the draft is untouched


def test_the_portal_service_refuses_a_second_draft_but_staff_may_start_one(product):
    customer = borrower()
    client = client_for(customer)
    draft = start(client, product)
    before = written()
    with pytest.raises(Conflict) as caught:
        app_services.start_portal_application(
            applicant=customer,
            product=product,
            data={"requested_amount": "5000.00", "requested_term": 36},
        )
    assert caught.value.code == "application_in_progress"
    assert draft.reference in caught.value.message
    assert written() == before
    # a loan officer may still open another one for the customer
    other = app_services.start_application(
        applicant=customer,
        product=product,
        channel=Application.Channel.STAFF,
        data={"requested_amount": "5000.00", "requested_term": 36},
    )
    assert other.state == S.DRAFT


def test_after_withdrawing_the_draft_a_new_application_can_start(product):
    customer = borrower()
    client = client_for(customer)
    draft = start(client, product)
    response = client.post(
        reverse("portal:application-withdraw", args=[draft.pk]), {"confirm": "on"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.WITHDRAWN
    page = client.get(reverse("portal:apply"))
    assert 'name="requested_amount"' in page.content.decode()
    second = start(client, product)
    assert second.pk != draft.pk and second.state == S.DRAFT


# --- the amount's range ---------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["-5", "-1000.00", "0", "50", "35000.01"])
def test_the_portal_states_the_products_range(product, amount):
    client = client_for(borrower())
    response = client.post(
        reverse("portal:apply"), {"product": str(product.pk), **LOAN, "requested_amount": amount}
    )
    assert response.context["form"].errors["requested_amount"] == [RANGE]
    body = text(response)
    assert RANGE in body
    assert "≥" not in body and "greater than or equal" not in body
    assert written() == (0, 0, 0)


def test_the_portal_states_the_range_with_other_errors_at_once(product):
    client = client_for(borrower())
    response = client.post(
        reverse("portal:apply"),
        {"product": str(product.pk), **LOAN, "requested_amount": "-5", "requested_term": ""},
    )
    errors = response.context["form"].errors
    assert errors["requested_amount"] == [RANGE]
    assert "requested_term" in errors
    assert written() == (0, 0, 0)


@pytest.mark.parametrize("amount", ["-5.00", "0.00", "500000.00"])
def test_the_staff_form_states_the_products_range(product, amount):
    client, _ = staff("loan_officer")
    customer = make_customer("Grace", "Hopper")
    response = client.post(
        reverse("origination:application-new"),
        {**NEW, "customer": customer.pk, "product": product.pk, "requested_amount": amount},
    )
    assert response.status_code == 400
    body = text(response)
    assert RANGE in body
    assert "greater than or equal" not in body
    assert written() == (0, 0, 0)


@pytest.mark.parametrize("amount", ["-5.00", "0.00", "50.00"])
def test_the_api_states_the_products_range(api, product, amount):
    response = create(api, make_customer(), key=f"k-{amount}", requested_amount=amount)
    assert response.status_code == 400
    assert response.json()["fields"] == {"requested_amount": RANGE}
    assert set(response.json()) == {"code", "message", "fields"}
    assert written() == (0, 0, 0)
