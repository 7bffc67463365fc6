"""Staff pages: masking, audited reveal, forms with the service's messages."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from customers.models import Address, Customer, Phone
from tests.customers.conftest import ADDRESS, OTHER_SSN, SSN, SSN_DIGITS

pytestmark = pytest.mark.django_db

REVEAL_BUTTON = 'data-testid="reveal-tax-id"'


def create_payload(**overrides) -> dict:
    payload = {
        "kind": "person",
        "first_name": "Katherine",
        "middle_name": "",
        "last_name": "Johnson",
        "date_of_birth": "1918-08-26",
        "business_name": "",
        "dba_name": "",
        "entity_type": "",
        "registration_date": "",
        "tax_id_type": "",
        "tax_id": OTHER_SSN,
        "email": "katherine@example.com",
        "preferred_channel": "email",
        "preferred_language": "en",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "address_kind": "residential",
        "address_line1": "1 Langley Blvd",
        "address_line2": "",
        "address_city": "Hampton",
        "address_state": "VA",
        "address_postal_code": "23681",
        "phone_kind": "mobile",
        "phone_number": "757 555 0199",
    }
    payload.update(overrides)
    return payload


def row_counts():
    return (
        Customer.objects.count(),
        Address.objects.count(),
        Phone.objects.count(),
        AuditEvent.objects.count(),
    )


def test_list_and_detail_mask_the_tax_id_for_a_loan_officer(staff_client, make_person):
    customer = make_person(phones=[{"number": "(212) 555-0123"}], addresses=[ADDRESS])
    client, _ = staff_client("loan_officer")
    for url in (reverse("customers:list"), reverse("customers:detail", args=[customer.pk])):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "•••-••-6789" in html
        assert SSN not in html and SSN_DIGITS not in html
        assert REVEAL_BUTTON not in html
    listing = client.get(reverse("customers:list")).content.decode()
    assert customer.customer_number in listing
    assert "(212) 555-0123" in listing and "New York, NY" in listing


def test_underwriter_sees_reveal_button_and_reveal_is_audited(staff_client, make_person):
    customer = make_person()
    client, underwriter = staff_client("underwriter")
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert REVEAL_BUTTON in detail and SSN not in detail

    url = reverse("customers:reveal-tax-id", args=[customer.pk])
    response = client.post(url, HTTP_HX_REQUEST="true", HTTP_X_REQUEST_ID="req-reveal-1")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<span class="revealed" data-testid="tax-id-revealed">{SSN}</span>' in html
    assert "<html" not in html  # an htmx fragment
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(category="sensitive_read")
    assert (event.actor, event.action, event.object_type, event.object_id, event.request_id) == (
        underwriter,
        "customer.tax_id_revealed",
        "customers.customer",
        str(customer.pk),
        "req-reveal-1",
    )
    assert event.ip_address == "127.0.0.1"

    full_page = client.post(url)
    assert "<html" in full_page.content.decode() and SSN in full_page.content.decode()
    assert AuditEvent.objects.filter(category="sensitive_read").count() == 2
    assert client.get(url).status_code == 405  # GET never reveals


def test_loan_officer_cannot_reveal(staff_client, make_person):
    customer = make_person()
    client, _ = staff_client("loan_officer")
    response = client.post(
        reverse("customers:reveal-tax-id", args=[customer.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert SSN not in response.content.decode()
    assert not AuditEvent.objects.filter(category="sensitive_read").exists()


def test_create_customer_through_the_form(staff_client):
    client, officer = staff_client("loan_officer")
    assert client.get(reverse("customers:create")).status_code == 200
    response = client.post(reverse("customers:create"), create_payload())
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert (customer.legal_name, customer.tax_id_last4, customer.created_by) == (
        "Katherine Johnson",
        "4399",
        officer,
    )
    assert customer.addresses.get().one_line == "1 Langley Blvd, Hampton, VA 23681"
    assert customer.phones.get().number == "+17575550199"
    followed = client.get(response["Location"]).content.decode()
    assert f"Customer {customer.customer_number} created." in followed


def test_business_via_form_ignores_person_fields(staff_client):
    client, _ = staff_client("servicing_agent")
    payload = create_payload(
        kind="business",
        business_name="Hampton Rockets Inc.",
        entity_type="corporation",
        registration_date="1999-04-01",
        tax_id="45-1234567",
        tax_id_type="ein",
    )
    client.post(reverse("customers:create"), payload)
    customer = Customer.objects.get()
    assert (
        customer.kind,
        customer.legal_name,
        customer.first_name,
        customer.date_of_birth_encrypted,
        customer.birth_year,
    ) == ("business", "Hampton Rockets Inc.", "", "", None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"tax_id": "666-12-3456"},
            "tax_id",
            "Enter a valid SSN (9 digits, not 000/666/9xx area).",
        ),
        (
            {"phone_number": "555-1234"},
            "phone_number",
            "Enter a valid phone number, e.g. (212) 555-0123.",
        ),
        ({"email": "katherine@"}, "email", "Enter a valid email address."),
        (
            {"address_postal_code": "2368"},
            "address_postal_code",
            "Enter a ZIP code (12345 or 12345-6789).",
        ),
        (
            {"date_of_birth": "2015-01-01"},
            "date_of_birth",
            "The customer must be at least 18 years old.",
        ),
    ],
)
def test_create_form_shows_the_service_message_and_writes_nothing(
    staff_client, overrides, field, message
):
    client, _ = staff_client("loan_officer")
    before = row_counts()
    response = client.post(reverse("customers:create"), create_payload(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert (
        f'<small class="error" id="id_{field}_error">{message}</small>' in response.content.decode()
    )
    assert row_counts() == before


def test_duplicate_tax_id_is_a_form_error_naming_the_customer(staff_client, make_person):
    existing = make_person()
    client, _ = staff_client("loan_officer")
    before = row_counts()
    response = client.post(reverse("customers:create"), create_payload(tax_id="123 45 6789"))
    message = f"A customer with this tax id already exists: {existing.customer_number}."
    assert response.context["form"].errors == {"tax_id": [message]}
    assert row_counts() == before


def test_edit_form(staff_client, make_person):
    customer = make_person()
    client, officer = staff_client("loan_officer")
    url = reverse("customers:edit", args=[customer.pk])
    page = client.get(url).content.decode()
    assert "On file: •••-••-6789. Leave blank to keep it" in page
    payload = {
        "first_name": "Ada",
        "middle_name": "",
        "last_name": "King",
        "date_of_birth": "1985-12-10",
        "tax_id_type": "ssn",
        "tax_id": "",
        "email": "bad email",
        "preferred_channel": "sms",
        "preferred_language": "en",
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
    }
    invalid = client.post(url, payload)
    assert invalid.context["form"].errors == {"email": ["Enter a valid email address."]}
    customer.refresh_from_db()
    assert customer.last_name == "Lovelace"

    response = client.post(url, {**payload, "email": "ada@king.example.com"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.legal_name, customer.preferred_channel, customer.tax_id_last4) == (
        "Ada King",
        "sms",
        "6789",
    )
    event = AuditEvent.objects.filter(action="customer.updated").get()
    assert event.actor == officer
    assert set(event.changes) == {
        "email",
        "last_name",
        "legal_name",
        "middle_name",
        "preferred_channel",
        "quiet_hours_end",
        "quiet_hours_start",
    }


def test_collections_agent_may_read_but_not_change(staff_client, make_person):
    customer = make_person()
    client, _ = staff_client("collections_agent")
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 403
    assert client.get(reverse("customers:create")).status_code == 403
    response = client.post(reverse("customers:address-add", args=[customer.pk]), ADDRESS)
    assert response.status_code == 403
    assert not Address.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, make_person):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_unknown_customer_is_404(staff_client):
    client, _ = staff_client("loan_officer")
    assert client.get(reverse("customers:detail", args=[999999])).status_code == 404


def test_list_search_filters_and_paginates(staff_client, make_person, make_business):
    ada = make_person()
    make_business()
    client, _ = staff_client("loan_officer")
    response = client.get(reverse("customers:list"), {"q": "6789"})
    assert [c.pk for c in response.context["customers"]] == [ada.pk]
    response = client.get(reverse("customers:list"), {"kind": "business"})
    assert [c.legal_name for c in response.context["customers"]] == ["Analytical Engines LLC"]
    fragment = client.get(
        reverse("customers:list"),
        {"q": "lovelace"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    ).content.decode()
    assert "<html" not in fragment and ada.customer_number in fragment


def test_addresses_and_phones_pages(staff_client, make_person):
    customer = make_person()
    client, _ = staff_client("loan_officer")
    add_address = reverse("customers:address-add", args=[customer.pk])
    bad = client.post(add_address, {**ADDRESS, "state": "ZZ", "kind": "residential"})
    assert bad.context["form"].errors == {"state": ["Enter a US state or territory code, e.g. NY."]}
    assert (
        client.post(add_address, {**ADDRESS, "state": "NY", "kind": "residential"}).status_code
        == 302
    )
    address = customer.addresses.get()
    response = client.post(
        reverse("customers:address-edit", args=[customer.pk, address.pk]),
        {
            **ADDRESS,
            "state": "NY",
            "kind": "mailing",
            "city": "Brooklyn",
            "postal_code": "11201",
            "is_primary": "on",
        },
    )
    assert response.status_code == 302
    address.refresh_from_db()
    assert (address.kind, address.city, address.postal_code) == ("mailing", "Brooklyn", "11201")

    add_phone = reverse("customers:phone-add", args=[customer.pk])
    bad = client.post(add_phone, {"kind": "mobile", "number": "12"})
    assert bad.context["form"].errors == {
        "number": ["Enter a valid phone number, e.g. (212) 555-0123."]
    }
    client.post(add_phone, {"kind": "mobile", "number": "(646) 555-0111"})
    phone = customer.phones.get()
    contact = client.get(reverse("customers:contact", args=[customer.pk])).content.decode()
    assert "(646) 555-0111" in contact and "Brooklyn, NY 11201" in contact

    client.post(reverse("customers:phone-remove", args=[customer.pk, phone.pk]))
    client.post(reverse("customers:address-remove", args=[customer.pk, address.pk]))
    assert not customer.phones.exists() and not customer.addresses.exists()
    # a child of another customer is not reachable through this one
    other = make_person(tax_id="", first_name="Other", addresses=[ADDRESS])
    foreign = other.addresses.get()
    assert (
        client.post(reverse("customers:address-remove", args=[customer.pk, foreign.pk])).status_code
        == 404
    )
    assert Address.objects.filter(pk=foreign.pk).exists()


def test_consents_tab_records_decisions(staff_client, make_person):
    customer = make_person()
    client, officer = staff_client("loan_officer")
    url = reverse("customers:consent-record", args=[customer.pk])
    response = client.post(
        url,
        {"channel": "phone", "purpose": "servicing", "decision": "granted", "wording_version": ""},
    )
    assert response.status_code == 302
    client.post(
        url,
        {
            "channel": "phone",
            "purpose": "servicing",
            "decision": "withdrawn",
            "wording_version": "phone-servicing-2025-01",
        },
    )
    assert list(
        customer.consents.order_by("id").values_list("granted", "wording_version", "recorded_by")
    ) == [
        (True, "phone-servicing-2025-01", officer.pk),
        (False, "phone-servicing-2025-01", officer.pk),
    ]
    bad = client.post(url, {"channel": "fax", "purpose": "servicing", "decision": "granted"})
    assert bad.context["form"].errors == {
        "channel": ["Choose one of: email, sms, phone, mail, portal."]
    }
    page = client.get(reverse("customers:consents", args=[customer.pk])).content.decode()
    assert page.count('<span class="badge bad">Withdrawn</span>') == 2  # current table and history


def test_history_tab_shows_who_what_and_where(staff_client, make_person):
    customer = make_person()
    client, officer = staff_client("loan_officer")
    client.post(
        reverse("customers:edit", args=[customer.pk]),
        {
            "first_name": "Ada",
            "middle_name": "K",
            "last_name": "Byron",
            "date_of_birth": "1985-12-10",
            "tax_id_type": "ssn",
            "tax_id": "",
            "email": "ada.lovelace@example.com",
            "preferred_channel": "email",
            "preferred_language": "en",
        },
        HTTP_X_REQUEST_ID="req-edit-42",
    )
    response = client.get(reverse("customers:history", args=[customer.pk]))
    events = list(response.context["events"])
    assert [e.action for e in events] == ["customer.updated", "customer.created"]
    html = response.content.decode()
    assert officer.username in html
    assert "req-edit-42" in html
    assert '<span class="diff-old">Lovelace</span> → <span class="diff-new">Byron</span>' in html


def test_list_page_query_count_does_not_grow_with_rows(staff_client, make_person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _ = staff_client("loan_officer")
    make_person(tax_id="", phones=[{"number": "(212) 555-0100"}], addresses=[ADDRESS])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("customers:list")).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(6):
        make_person(tax_id="", first_name=f"P{i}", phones=[{"number": f"(212) 555-01{i + 10}"}])
    assert queries() == few


def test_business_tax_id_masked_in_ein_layout(staff_client, make_business):
    business = make_business()
    client, _ = staff_client("loan_officer")
    html = client.get(reverse("customers:detail", args=[business.pk])).content.decode()
    assert "••-•••4567" in html and "45-1234567" not in html
    assert "Analytical Engines LLC (d/b/a Babbage Works)" in html
