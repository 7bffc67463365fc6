"""REST API: masking, errors as {code, message, fields}, scopes, reveal."""

import secrets

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from customers import services
from customers.models import Address, Consent, Customer, Phone
from tests.customers.conftest import (
    ADDRESS,
    OTHER_SSN,
    SSN,
    SSN_DIGITS,
    integration_user,
    person_data,
)
from users.authentication import hash_secret
from users.models import ApiKey

pytestmark = pytest.mark.django_db

LIST = "/api/v1/customers/"


def detail(pk) -> str:
    return f"/api/v1/customers/{pk}/"


def api_key_client(*scopes: str) -> Client:
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(4)
    owner = integration_user()
    ApiKey.objects.create(
        name="Partner CRM",
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=list(scopes),
        user=integration_user(),
        created_by=owner,
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {prefix}.{secret}")


def new_customer_body(**overrides) -> dict:
    body = {
        "kind": "person",
        "first_name": "Dorothy",
        "last_name": "Vaughan",
        "date_of_birth": "1980-09-20",
        "tax_id": OTHER_SSN,
        "email": "Dorothy@Example.com",
        "preferred_channel": "sms",
        "addresses": [
            {"line1": "5 Pine St", "city": "Hampton", "state": "va", "postal_code": "236811234"}
        ],
        "phones": [{"kind": "mobile", "number": "757-555-0120"}],
        "consents": [{"channel": "sms", "purpose": "servicing", "granted": True}],
    }
    body.update(overrides)
    return body


def row_counts():
    return tuple(m.objects.count() for m in (Customer, Address, Phone, Consent, AuditEvent))


def test_create_and_read_back(staff_client):
    client, officer = staff_client("loan_officer")
    response = client.post(LIST, new_customer_body(), content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get()
    assert response["Location"] == detail(customer.pk)
    assert body["customer_number"] == customer.customer_number
    assert body["legal_name"] == "Dorothy Vaughan"
    assert body["email"] == "dorothy@example.com"
    assert (body["tax_id_type"], body["tax_id_masked"]) == ("ssn", "•••-••-4399")
    assert "tax_id" not in body and "536904399" not in response.content.decode()
    assert body["addresses"] == [
        {
            "id": customer.addresses.get().pk,
            "kind": "residential",
            "line1": "5 Pine St",
            "line2": "",
            "city": "Hampton",
            "state": "VA",
            "postal_code": "23681-1234",
            "country": "US",
            "is_primary": True,
        }
    ]
    assert body["phones"] == [
        {
            "id": customer.phones.get().pk,
            "kind": "mobile",
            "number": "+17575550120",
            "is_primary": True,
        }
    ]
    [consent] = body["consents"]
    assert (
        consent["channel"],
        consent["purpose"],
        consent["granted"],
        consent["wording_version"],
        consent["source"],
    ) == ("sms", "servicing", True, "sms-servicing-2025-01", "api")
    assert body["has_portal_account"] is False
    assert client.get(detail(customer.pk)).json() == body
    assert customer.created_by == officer


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        (
            {"tax_id": "666-12-3456"},
            {"tax_id": ["Enter a valid SSN (9 digits, not 000/666/9xx area)."]},
        ),
        ({"email": "dorothy@"}, {"email": ["Enter a valid email address."]}),
        (
            {"phones": [{"number": "555-1234"}]},
            {"phones.0.number": ["Enter a valid phone number, e.g. (212) 555-0123."]},
        ),
        ({"kind": "robot"}, {"kind": ["Choose one of: person, business."]}),
        (
            {"addresses": [{**ADDRESS, "state": "XX"}]},
            {"addresses.0.state": ["Enter a US state or territory code, e.g. NY."]},
        ),
    ],
)
def test_invalid_create_is_400_with_the_field_named(staff_client, overrides, fields):
    client, _ = staff_client("loan_officer")
    before = row_counts()
    response = client.post(LIST, new_customer_body(**overrides), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"] == fields
    [(name, [message])] = fields.items()
    label = name.rsplit(".", 1)[-1].replace("_", " ")
    assert body["message"] in (
        f"Please correct the {label} field: {message}",
        "The request has invalid fields.",
    )
    assert row_counts() == before


def test_duplicate_tax_id_is_409_naming_the_existing_customer(staff_client, make_person):
    existing = make_person()
    client, _ = staff_client("loan_officer")
    before = row_counts()
    response = client.post(
        LIST, new_customer_body(tax_id=SSN_DIGITS), content_type="application/json"
    )
    message = f"A customer with this tax id already exists: {existing.customer_number}."
    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate_tax_id",
        "message": message,
        "fields": {"tax_id": [message]},
    }
    assert row_counts() == before


def test_patch(staff_client, make_person):
    customer = make_person()
    client, _ = staff_client("servicing_agent")
    response = client.patch(
        detail(customer.pk),
        {"email": "ada@new.example.com", "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["quiet_hours_start"], body["quiet_hours_end"]) == (
        "ada@new.example.com",
        "22:00:00",
        "07:00:00",
    )
    assert body["tax_id_masked"] == "•••-••-6789"  # absent tax_id keeps the one on file
    event = AuditEvent.objects.filter(action="customer.updated").get()
    assert event.changes == {
        "email": ["ada.lovelace@example.com", "ada@new.example.com"],
        "quiet_hours_end": [None, "07:00"],
        "quiet_hours_start": [None, "22:00"],
    }

    before = row_counts()
    bad = client.patch(
        detail(customer.pk), {"email": "nope", "tax_id": "123"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json()["fields"] == {
        "tax_id": ["Enter a valid SSN (9 digits, not 000/666/9xx area)."],
        "email": ["Enter a valid email address."],
    }
    assert row_counts() == before


def test_unknown_customer_is_404(staff_client):
    client, _ = staff_client("loan_officer")
    response = client.get(detail(987654))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such customer.", "fields": {}}


def test_list_filters_paginates_and_masks(staff_client, make_person, make_business):
    ada = make_person(phones=[{"number": "(212) 555-0123"}])
    make_business()
    client, _ = staff_client("collections_agent")
    body = client.get(LIST, {"page_size": 1}).json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    body = client.get(LIST, {"kind": "person"}).json()
    assert [row["customer_number"] for row in body["results"]] == [ada.customer_number]
    assert body["results"][0] == {
        "id": ada.pk,
        "customer_number": ada.customer_number,
        "kind": "person",
        "legal_name": "Ada K Lovelace",
        "dba_name": "",
        "email": "ada.lovelace@example.com",
        "primary_phone": "+12125550123",
        "tax_id_type": "ssn",
        "tax_id_masked": "•••-••-6789",
        "created_at": body["results"][0]["created_at"],
        "updated_at": body["results"][0]["updated_at"],
    }
    assert [r["legal_name"] for r in client.get(LIST, {"search": "babbage"}).json()["results"]] == [
        "Analytical Engines LLC"
    ]
    assert client.get(LIST, {"search": SSN}).json()["count"] == 1
    by_name = client.get(LIST, {"ordering": "legal_name"}).json()["results"]
    assert [r["legal_name"] for r in by_name] == ["Ada K Lovelace", "Analytical Engines LLC"]
    by_name_desc = client.get(LIST, {"ordering": "-legal_name"}).json()["results"]
    assert [r["legal_name"] for r in by_name_desc] == ["Analytical Engines LLC", "Ada K Lovelace"]
    bad = client.get(LIST, {"kind": "robot"})
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"kind"}
    assert (
        client.post(LIST, new_customer_body(), content_type="application/json").status_code == 403
    )


def test_list_query_count_does_not_grow_with_rows(staff_client, make_person):
    client, _ = staff_client("loan_officer")
    make_person(tax_id="", phones=[{"number": "(212) 555-0100"}], addresses=[ADDRESS])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(5):
        make_person(
            tax_id="",
            first_name=f"P{i}",
            phones=[{"number": f"(212) 555-01{i + 10}"}],
            addresses=[ADDRESS],
        )
    assert queries() == few


def test_api_key_scopes(make_person):
    customer = make_person()
    reader = api_key_client("customers:read")
    assert reader.get(LIST).status_code == 200
    assert reader.get(detail(customer.pk)).json()["tax_id_masked"] == "•••-••-6789"
    before = row_counts()
    response = reader.post(LIST, new_customer_body(), content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "This API key lacks the scope customers:write.",
        "fields": {},
    }
    assert row_counts() == before

    writer = api_key_client("customers:read", "customers:write")
    created = writer.post(LIST, new_customer_body(), content_type="application/json")
    assert created.status_code == 201
    new = Customer.objects.get(customer_number=created.json()["customer_number"])
    assert new.created_by.kind == "integration"
    event = AuditEvent.objects.get(action="customer.created", object_id=str(new.pk))
    assert event.actor == new.created_by

    assert (
        api_key_client().get(LIST).json()["message"]
        == "This API key lacks the scope customers:read."
    )
    assert Client(HTTP_AUTHORIZATION="Api-Key nope.nope").get(LIST).status_code == 401


def test_reveal_endpoint(staff_client, make_person):
    customer = make_person()
    url = f"/api/v1/customers/{customer.pk}/reveal-tax-id/"
    underwriter_client, underwriter = staff_client("underwriter")
    response = underwriter_client.post(url)
    assert response.status_code == 200
    assert response.json() == {
        "customer_number": customer.customer_number,
        "tax_id_type": "ssn",
        "tax_id": SSN,
    }
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(category="sensitive_read")
    assert (event.actor, event.object_id) == (underwriter, str(customer.pk))

    officer_client, _ = staff_client("loan_officer")
    refused = officer_client.post(url)
    assert refused.status_code == 403
    assert refused.json()["message"] == "Your role does not allow this."

    key_client = api_key_client("customers:read", "customers:write")
    refused = key_client.post(url)
    assert refused.status_code == 403
    assert refused.json()["message"] == "This operation is not available to API keys."
    assert AuditEvent.objects.filter(category="sensitive_read").count() == 1


def test_reveal_when_no_tax_id_is_404(staff_client, make_person):
    customer = make_person(tax_id="")
    client, _ = staff_client("manager")
    response = client.post(f"/api/v1/customers/{customer.pk}/reveal-tax-id/")
    assert response.status_code == 404
    assert response.json()["code"] == "no_tax_id"


def test_same_messages_in_form_and_api(staff_client):
    """The form and the API both show the service's message verbatim."""
    from customers import validators

    client, _ = staff_client("loan_officer")
    api = client.post(
        LIST,
        new_customer_body(tax_id="900-12-3456", tax_id_type="ssn"),
        content_type="application/json",
    ).json()
    assert api["fields"]["tax_id"] == [validators.MSG_SSN]
    with pytest.raises(Exception) as exc:
        services.create_customer(data=person_data(tax_id="900-12-3456", tax_id_type="ssn"))
    assert exc.value.fields["tax_id"] == [validators.MSG_SSN]
