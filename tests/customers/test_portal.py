"""Borrower portal: sign-up, account home, profile, and isolation."""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from customers import services
from customers.models import Address, Consent, Customer, Phone, date_of_birth_of
from tests.customers.conftest import borrower_client, make_borrower
from users.models import User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "first_name": "Bea",
    "last_name": "Borrower",
    "email": "Bea.Borrower@Example.com",
    "date_of_birth": "1991-07-04",
    "password": "a-long-borrower-pass-1",
    "password_confirm": "a-long-borrower-pass-1",
    "accept_electronic_records": "on",
}


def rows():
    return (
        User.objects.count(),
        Customer.objects.count(),
        Consent.objects.count(),
        Phone.objects.count(),
        Address.objects.count(),
        AuditEvent.objects.count(),
    )


def test_signup_creates_borrower_and_customer_and_signs_in(client):
    assert client.get(reverse("portal:signup")).status_code == 200
    response = client.post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    user = User.objects.get()
    customer = Customer.objects.get()
    assert (user.username, user.kind, customer.user, customer.legal_name) == (
        "bea.borrower@example.com",
        "borrower",
        user,
        "Bea Borrower",
    )
    assert str(date_of_birth_of(customer)) == "1991-07-04"
    assert int(client.session["_auth_user_id"]) == user.pk
    consent = customer.consents.get()
    assert (consent.purpose, consent.granted, consent.source, consent.ip_address) == (
        "electronic_records",
        True,
        "portal",
        "127.0.0.1",
    )
    home = client.get(reverse("portal:home")).content.decode()
    assert "Hello, Bea" in home and customer.customer_number in home
    assert "Welcome, Bea. Your account is ready." in home
    # a signed-in borrower is sent home rather than shown the form again
    assert client.get(reverse("portal:signup"))["Location"] == reverse("portal:home")


def test_signup_with_taken_email_is_a_form_error(client):
    make_borrower("bea.borrower@example.com")
    before = rows()
    response = client.post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "email": ["An account with this email already exists. Sign in instead."]
    }
    assert rows() == before
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"password_confirm": "something-else-1"},
            {"password_confirm": ["The two passwords do not match."]},
        ),
        (
            {"accept_electronic_records": ""},
            {
                "accept_electronic_records": [
                    "You must agree to receive records electronically to use the portal."
                ]
            },
        ),
        (
            {"date_of_birth": "2012-01-01"},
            {"date_of_birth": ["The customer must be at least 18 years old."]},
        ),
        ({"email": "bea@"}, {"email": ["Enter a valid email address."]}),
        ({"email": ""}, {"email": ["Enter your email address."]}),
    ],
)
def test_signup_refusals(client, overrides, errors):
    response = client.post(reverse("portal:signup"), {**SIGNUP, **overrides})
    assert response.context["form"].errors == errors
    assert rows() == (0, 0, 0, 0, 0, 0)


def test_portal_requires_a_borrower(client, staff_client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    staff, _ = staff_client("manager")
    assert staff.get(reverse("portal:home")).status_code == 403


def test_borrower_without_customer_gets_404(db):
    orphan = User.objects.create_user(
        "orphan@example.com", "orphan@example.com", "x", kind="borrower"
    )
    client = Client()
    client.force_login(orphan)
    assert client.get(reverse("portal:home")).status_code == 404
    assert client.get(reverse("portal:profile")).status_code == 404


def test_second_borrower_sees_only_their_own_data(db):
    first = make_borrower("first@example.com", first_name="Fiona", last_name="First")
    services.update_customer(customer=first, changes={"tax_id": "123-45-6789"})
    services.add_phone(customer=first, data={"number": "(212) 555-0111"})
    second = make_borrower("second@example.com", first_name="Sam", last_name="Second")
    client = borrower_client(second)

    home = client.get(reverse("portal:home")).content.decode()
    profile = client.get(reverse("portal:profile")).content.decode()
    assert "Hello, Sam" in home and second.customer_number in home
    assert 'value="second@example.com"' in profile
    for html in (home, profile):
        assert first.customer_number not in html
        assert "Fiona" not in html and "(212) 555-0111" not in html and "6789" not in html
    # Staff pages and the API about the first customer are closed to borrowers.
    assert client.get(reverse("customers:detail", args=[first.pk])).status_code == 403
    assert client.get(f"/api/v1/customers/{first.pk}/").status_code == 403
    # Editing the profile touches only the second borrower's record.
    client.post(
        reverse("portal:profile"),
        {
            "email": "sam@example.com",
            "phone_number": "",
            "preferred_channel": "email",
            "preferred_language": "en",
        },
    )
    first.refresh_from_db()
    assert first.email == "first@example.com"
    assert Customer.objects.get(pk=second.pk).email == "sam@example.com"


def test_home_shows_masked_tax_id_and_preferences(db):
    customer = make_borrower("masked@example.com")
    services.update_customer(customer=customer, changes={"tax_id": "536-90-4399"})
    html = borrower_client(customer).get(reverse("portal:home")).content.decode()
    assert '<span class="masked">•••-••-4399</span>' in html
    assert "536-90-4399" not in html and "536904399" not in html
    assert 'Electronic records and disclosures: <span class="badge ok">Yes</span>' in html


def test_profile_update_records_contact_preferences_and_consents(db):
    customer = make_borrower("profile@example.com")
    client = borrower_client(customer)
    page = client.get(reverse("portal:profile"))
    assert page.context["form"].initial["consent_email__electronic_records"] is True
    payload = {
        "email": "New.Address@Example.com",
        "phone_number": "(617) 555-0142",
        "address_line1": "42 Beacon St",
        "address_line2": "",
        "address_city": "Boston",
        "address_state": "MA",
        "address_postal_code": "02108",
        "preferred_channel": "sms",
        "preferred_language": "es",
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
        "consent_email__electronic_records": "on",
        "consent_sms__servicing": "on",
    }
    response = client.post(reverse("portal:profile"), payload, REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.email, customer.preferred_channel, customer.preferred_language) == (
        "new.address@example.com",
        "sms",
        "es",
    )
    assert customer.user.username == "profile@example.com"  # sign-in e-mail unchanged
    assert customer.phones.get().number == "+16175550142"
    assert customer.addresses.get().one_line == "42 Beacon St, Boston, MA 02108"
    new_consent = customer.consents.get(channel="sms")
    assert (
        new_consent.purpose,
        new_consent.granted,
        new_consent.wording_version,
        new_consent.source,
        new_consent.ip_address,
        new_consent.recorded_by,
    ) == ("servicing", True, "sms-servicing-2025-01", "portal", "198.51.100.23", customer.user)
    assert customer.consents.count() == 2  # E-SIGN unchanged: no new row

    # Withdrawing is a new row; history keeps the grant.
    client.post(reverse("portal:profile"), {**payload, "consent_sms__servicing": ""})
    assert list(
        customer.consents.filter(channel="sms").order_by("id").values_list("granted", flat=True)
    ) == [True, False]
    # Changing the number edits the primary phone in place.
    client.post(reverse("portal:profile"), {**payload, "phone_number": "(617) 555-0199"})
    assert list(customer.phones.values_list("number", flat=True)) == ["+16175550199"]
    actions = set(
        AuditEvent.objects.filter(object_id=str(customer.pk), actor=customer.user).values_list(
            "action", flat=True
        )
    )
    assert {
        "customer.updated",
        "customer.phone_added",
        "customer.phone_changed",
        "customer.address_added",
        "customer.consent_granted",
        "customer.consent_withdrawn",
    } <= actions


def test_profile_invalid_input_writes_nothing(db):
    customer = make_borrower("invalid@example.com")
    client = borrower_client(customer)
    before = rows()
    response = client.post(
        reverse("portal:profile"),
        {
            "email": "",
            "phone_number": "555-1234",
            "address_line1": "1 Main St",
            "address_city": "",
            "address_state": "NY",
            "address_postal_code": "1000",
            "preferred_channel": "email",
            "preferred_language": "en",
            "consent_sms__marketing": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "email": ["Enter your email address."],
        "phone_number": ["Enter a valid phone number, e.g. (212) 555-0123."],
        "address_city": ["Enter the city."],
        "address_postal_code": ["Enter a ZIP code (12345 or 12345-6789)."],
    }
    assert rows() == before
