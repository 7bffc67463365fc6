"""Dates of birth encrypted at rest, masked everywhere, revealed only to
permitted roles through an audited read (the tax id's rules, issue 11)."""

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from core import crypto
from core.models import AuditEvent
from customers import services
from customers.models import Customer, date_of_birth_of
from tests.customers.conftest import borrower_client, make_borrower
from tests.customers.test_api import api_key_client, detail

pytestmark = pytest.mark.django_db

BORN = date(1985, 12, 10)  # conftest.person_data
PLAIN_FORMS = ("1985-12-10", "12/10/1985", "Dec 10, 1985", "December 10, 1985", "10/12/1985")
MASKED = "••/••/1985"
REVEAL_BUTTON = 'data-testid="reveal-date-of-birth"'


def assert_no_plain_dob(text: str):
    for form in PLAIN_FORMS:
        assert form not in text, form


def stored_row(customer) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer WHERE id = %s", [customer.pk])
        names = [c.name for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def reveal_events():
    return AuditEvent.objects.filter(action="customer.date_of_birth_revealed")


def test_date_of_birth_is_encrypted_at_rest_and_read_through_the_accessor(make_person):
    customer = make_person()
    row = stored_row(customer)
    assert "date_of_birth" not in row
    assert row["birth_year"] == 1985
    token = row["date_of_birth_encrypted"]
    assert token and "1985" not in token
    assert crypto.decrypt(token) == "1985-12-10"
    assert_no_plain_dob(" ".join(str(v) for v in row.values()))
    fresh = Customer.objects.get(pk=customer.pk)
    assert (date_of_birth_of(fresh), fresh.date_of_birth_masked) == (BORN, MASKED)
    assert fresh.age_on(date(2026, 12, 9)) == 40
    assert fresh.age_on(date(2026, 12, 10)) == 41
    # the audit log of the creation carries the masked form only
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT changes::text FROM core_auditevent WHERE object_type = 'customers.customer'"
        )
        logged = " ".join(r[0] for r in cursor.fetchall())
    assert MASKED in logged
    assert_no_plain_dob(logged)


def test_business_has_no_date_of_birth(make_business):
    customer = make_business()
    row = stored_row(customer)
    assert (row["date_of_birth_encrypted"], row["birth_year"]) == ("", None)
    assert date_of_birth_of(customer) is None
    assert customer.age_on(date(2026, 1, 1)) is None


def test_update_keeps_blank_and_audits_a_change_masked(make_person):
    customer = make_person()
    services.update_customer(customer=customer, changes={"date_of_birth": None, "first_name": "A"})
    customer.refresh_from_db()
    assert date_of_birth_of(customer) == BORN
    # same year: the masked pair is equal, yet the change is on record
    services.update_customer(customer=customer, changes={"date_of_birth": "1985-01-02"})
    customer.refresh_from_db()
    assert date_of_birth_of(customer) == date(1985, 1, 2)
    event = AuditEvent.objects.filter(action="customer.updated").latest("id")
    assert event.changes == {"date_of_birth": [MASKED, MASKED]}
    services.update_customer(customer=customer, changes={"date_of_birth": date(1979, 3, 4)})
    event = AuditEvent.objects.filter(action="customer.updated").latest("id")
    assert event.changes == {"date_of_birth": [MASKED, "••/••/1979"]}
    assert "1979-03-04" not in str(AuditEvent.objects.values_list("changes", flat=True))


def test_service_reveal_requires_the_permission_and_audits_first(make_person):
    from core.exceptions import PermissionDenied
    from tests.conftest import make_staff

    customer = make_person()
    for role in ("loan_officer", "servicing_agent", "collections_agent"):
        with pytest.raises(PermissionDenied):
            services.reveal_date_of_birth(customer=customer, acting_user=make_staff(role))
    assert not reveal_events().exists()
    underwriter = make_staff("underwriter")
    assert services.reveal_date_of_birth(customer=customer, acting_user=underwriter) == BORN
    event = reveal_events().get()
    assert (event.category, event.actor, event.object_id, event.metadata) == (
        "sensitive_read",
        underwriter,
        str(customer.pk),
        {"date_of_birth": MASKED},
    )
    assert event.occurred_at is not None


@pytest.mark.parametrize("role", ["loan_officer", "servicing_agent", "collections_agent"])
def test_pages_mask_the_date_of_birth_without_a_reveal_button(staff_client, make_person, role):
    customer = make_person()
    client, _ = staff_client(role)
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert MASKED in html
    assert "age " in html
    assert REVEAL_BUTTON not in html
    assert_no_plain_dob(html)
    if role != "collections_agent":  # the others may edit customers
        edit = client.get(reverse("customers:edit", args=[customer.pk])).content.decode()
        assert f"On file: {MASKED}" in edit
        assert_no_plain_dob(edit)


def test_reveal_page_for_an_underwriter_is_audited(staff_client, make_person):
    customer = make_person()
    client, underwriter = staff_client("underwriter")
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert REVEAL_BUTTON in html
    assert_no_plain_dob(html)  # the button alone reveals nothing
    url = reverse("customers:reveal-date-of-birth", args=[customer.pk])
    assert client.get(url).status_code == 405  # GET never reveals
    assert not reveal_events().exists()
    response = client.post(url, HTTP_HX_REQUEST="true", HTTP_X_REQUEST_ID="req-dob-1")
    assert response.status_code == 200
    assert '<span class="revealed" data-testid="date-of-birth-revealed">12/10/1985</span>' in (
        response.content.decode()
    )
    assert "no-store" in response["Cache-Control"]
    event = reveal_events().get()
    assert (event.actor, event.object_id, event.request_id, event.category) == (
        underwriter,
        str(customer.pk),
        "req-dob-1",
        "sensitive_read",
    )
    full = client.post(url)  # without htmx: a page of its own
    assert full.status_code == 200 and "Full date of birth" in full.content.decode()
    assert reveal_events().count() == 2


@pytest.mark.parametrize("role", ["loan_officer", "servicing_agent", "collections_agent"])
def test_reveal_refused_with_403_and_nothing_audited(staff_client, make_person, role):
    customer = make_person()
    client, _ = staff_client(role)
    response = client.post(
        reverse("customers:reveal-date-of-birth", args=[customer.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert_no_plain_dob(response.content.decode())
    assert not reveal_events().exists()


def test_reveal_without_a_date_on_file_is_404(staff_client, make_business):
    customer = make_business()
    client, _ = staff_client("manager")
    response = client.post(reverse("customers:reveal-date-of-birth", args=[customer.pk]))
    assert response.status_code == 404
    api = client.post(f"/api/v1/customers/{customer.pk}/reveal-date-of-birth/")
    assert (api.status_code, api.json()["code"]) == (404, "no_date_of_birth")
    assert not reveal_events().exists()


@pytest.mark.parametrize("role", ["loan_officer", "underwriter", "manager"])
def test_api_detail_is_masked_for_every_role(staff_client, make_person, role):
    customer = make_person()
    client, _ = staff_client(role)
    response = client.get(detail(customer.pk))
    body = response.json()
    assert response.status_code == 200
    assert body["date_of_birth_masked"] == MASKED
    assert "date_of_birth" not in body
    assert_no_plain_dob(response.content.decode())
    listing = client.get("/api/v1/customers/").content.decode()
    assert_no_plain_dob(listing)


def test_api_reveal_for_permitted_staff_only(staff_client, make_person):
    customer = make_person()
    url = f"/api/v1/customers/{customer.pk}/reveal-date-of-birth/"
    officer, _ = staff_client("loan_officer")
    refused = officer.post(url)
    assert refused.status_code == 403
    assert_no_plain_dob(refused.content.decode())
    key = api_key_client("customers:read", "customers:write")
    assert key.post(url).status_code == 403
    assert not reveal_events().exists()

    client, manager = staff_client("manager")
    response = client.post(url)
    assert response.status_code == 200
    assert response.json() == {
        "customer_number": customer.customer_number,
        "date_of_birth": "1985-12-10",
    }
    assert response["Cache-Control"] == "no-store"
    assert reveal_events().get().actor == manager


def test_api_create_takes_the_date_and_answers_masked(staff_client):
    client, _ = staff_client("loan_officer")
    response = client.post(
        "/api/v1/customers/",
        {
            "kind": "person",
            "first_name": "Dorothy",
            "last_name": "Vaughan",
            "date_of_birth": "1980-09-20",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["date_of_birth_masked"] == "••/••/1980"
    assert "1980-09-20" not in response.content.decode()
    customer = Customer.objects.get(customer_number=response.json()["customer_number"])
    assert date_of_birth_of(customer) == date(1980, 9, 20)


def test_portal_home_shows_the_borrower_the_masked_date(db):
    customer = make_borrower("dob.borrower@example.com")
    html = borrower_client(customer).get(reverse("portal:home")).content.decode()
    assert "••/••/1990" in html
    assert "1990-05-17" not in html and "May 17, 1990" not in html
