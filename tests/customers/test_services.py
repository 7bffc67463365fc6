"""Services: encryption at rest, duplicates, audit, children, consents."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from core import crypto
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from customers import services
from customers.models import Address, Consent, Customer, Phone
from customers.services import customer as customer_services
from tests.conftest import make_staff
from tests.customers.conftest import ADDRESS, EIN, ITIN, OTHER_SSN, SSN, SSN_DIGITS, person_data

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Address.objects.count(),
        Phone.objects.count(),
        Consent.objects.count(),
        AuditEvent.objects.count(),
    )


def test_create_person_normalises_and_numbers(make_person):
    officer = make_staff("loan_officer")
    customer = make_person(
        addresses=[ADDRESS],
        phones=[{"kind": "mobile", "number": "(212) 555-0123"}],
        acting_user=officer,
    )
    customer.refresh_from_db()
    assert customer.customer_number == f"C-{customer.pk:06d}"
    assert customer.legal_name == "Ada K Lovelace"
    assert customer.email == "ada.lovelace@example.com"
    assert customer.tax_id_type == "ssn"
    assert customer.tax_id_last4 == "6789"
    assert customer.tax_id_masked == "•••-••-6789"
    assert customer.created_by == officer
    address = customer.addresses.get()
    assert (address.state, address.postal_code, address.is_primary) == ("NY", "10003", True)
    assert customer.phones.get().number == "+12125550123"


def test_tax_id_is_encrypted_at_rest(make_person):
    customer = make_person()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer WHERE id = %s", [customer.pk])
        columns = [col.name for col in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    raw = " ".join(str(value) for value in row.values())
    assert SSN_DIGITS not in raw
    assert SSN not in raw
    assert "12345" not in raw
    assert row["tax_id_last4"] == "6789"
    assert row["tax_id_encrypted"].startswith("gAAAAA")  # a Fernet token
    assert crypto.decrypt(row["tax_id_encrypted"]) == SSN_DIGITS
    assert row["tax_id_hash"] == crypto.blind_index(f"individual:{SSN_DIGITS}", "tax_id")
    # and never in the audit log either
    events = list(
        AuditEvent.objects.filter(object_id=str(customer.pk)).values("changes", "metadata")
    )
    assert SSN_DIGITS not in str(events) and SSN not in str(events)
    assert events[0]["changes"]["tax_id"] == [None, "•••-••-6789"]


def test_duplicate_tax_id_refused_naming_existing_customer(make_person):
    first = make_person()
    before = counts()
    with pytest.raises(Conflict) as exc:
        make_person(
            first_name="Other", tax_id="123 45 6789", email="other@example.com", addresses=[ADDRESS]
        )
    message = f"A customer with this tax id already exists: {first.customer_number}."
    assert exc.value.message == message
    assert exc.value.code == "duplicate_tax_id"
    assert exc.value.fields == {"tax_id": [message]}
    assert counts() == before


def test_ein_with_the_digits_of_an_ssn_is_not_a_duplicate(make_person, make_business):
    make_person(tax_id="451-23-4567")
    business = make_business(tax_id=EIN)  # 45-1234567: same digits, different family
    assert business.tax_id_type == "ein"


def test_duplicate_found_by_the_database_when_the_lookup_misses(make_person, monkeypatch):
    """Two requests racing: both pass the look-up before either commits; the
    unique index refuses the second, which still gets the Conflict naming
    the first and writes nothing."""
    first = make_person()
    lookups = []

    def lookup_that_sees_nothing_yet(digest, *, exclude_pk=None):
        lookups.append(digest)
        return None

    monkeypatch.setattr(customer_services, "existing_tax_id_holder", lookup_that_sees_nothing_yet)
    before = counts()
    with pytest.raises(Conflict) as exc:
        make_person(first_name="Racer", email="racer@example.com", addresses=[ADDRESS])
    message = f"A customer with this tax id already exists: {first.customer_number}."
    assert exc.value.message == message
    assert exc.value.fields == {"tax_id": [message]}
    assert lookups == [first.tax_id_hash]
    assert counts() == before


def test_invalid_input_writes_nothing(make_person):
    make_person()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.create_customer(
            data=person_data(tax_id=OTHER_SSN, email="bad@", date_of_birth=date(2015, 1, 1)),
            addresses=[{**ADDRESS, "postal_code": "ABCDE"}],
            phones=[{"number": "555-1234"}],
        )
    assert exc.value.fields == {
        "date_of_birth": ["The customer must be at least 18 years old."],
        "email": ["Enter a valid email address."],
        "addresses.0.postal_code": ["Enter a ZIP code (12345 or 12345-6789)."],
        "phones.0.number": ["Enter a valid phone number, e.g. (212) 555-0123."],
    }
    assert counts() == before


def test_prospect_without_tax_id(make_person):
    customer = make_person(tax_id="", tax_id_type="ssn")
    assert (customer.tax_id_type, customer.tax_id_hash, customer.tax_id_masked) == ("", "", "")
    # many customers without a tax id do not collide
    make_person(tax_id="", first_name="Second")


def test_itin_person(make_person):
    customer = make_person(tax_id=ITIN)
    assert (customer.tax_id_type, customer.tax_id_masked) == ("itin", "•••-••-1234")


def test_update_audits_diff_with_masked_tax_id(make_person):
    customer = make_person()
    officer = make_staff("loan_officer")
    services.update_customer(
        customer=customer,
        changes={"last_name": "King", "tax_id": OTHER_SSN, "email": "ADA@KING.example.com"},
        acting_user=officer,
    )
    customer.refresh_from_db()
    assert customer.legal_name == "Ada K King"
    assert crypto.decrypt(customer.tax_id_encrypted) == "536904399"
    event = AuditEvent.objects.filter(action="customer.updated").get()
    assert event.actor == officer
    assert event.category == "update"
    assert event.object_type == "customers.customer"
    assert event.object_id == str(customer.pk)
    assert event.changes == {
        "email": ["ada.lovelace@example.com", "ada@king.example.com"],
        "last_name": ["Lovelace", "King"],
        "legal_name": ["Ada K Lovelace", "Ada K King"],
        "tax_id": ["•••-••-6789", "•••-••-4399"],
    }


def test_update_keeps_tax_id_when_blank_and_no_change_writes_nothing(make_person):
    customer = make_person()
    token = customer.tax_id_encrypted
    before = counts()
    services.update_customer(customer=customer, changes={"tax_id": "", "first_name": "Ada"})
    customer.refresh_from_db()
    assert customer.tax_id_encrypted == token
    assert counts() == before


def test_update_refuses_kind_change_and_type_change_without_number(make_person):
    customer = make_person()
    with pytest.raises(ValidationFailed) as exc:
        services.update_customer(
            customer=customer, changes={"kind": "business", "tax_id_type": "itin"}
        )
    assert exc.value.fields == {
        "kind": ["The kind of customer cannot be changed."],
        "tax_id": ["Enter the tax id again to change its type."],
    }


def test_update_to_another_customers_tax_id_conflicts(make_person):
    first = make_person()
    second = make_person(tax_id=OTHER_SSN, first_name="Second")
    with pytest.raises(Conflict) as exc:
        services.update_customer(customer=second, changes={"tax_id": SSN})
    assert exc.value.fields == {
        "tax_id": [f"A customer with this tax id already exists: {first.customer_number}."]
    }
    second.refresh_from_db()
    assert second.tax_id_last4 == "4399"


def test_reveal_requires_permission_and_audits_first(make_person):
    customer = make_person()
    officer, underwriter = make_staff("loan_officer"), make_staff("underwriter")
    with pytest.raises(PermissionDenied) as exc:
        services.reveal_tax_id(customer=customer, acting_user=officer)
    assert exc.value.message == "Your role may not see full tax ids."
    assert not AuditEvent.objects.filter(category="sensitive_read").exists()

    assert services.reveal_tax_id(customer=customer, acting_user=underwriter) == SSN
    event = AuditEvent.objects.get(category="sensitive_read")
    assert (event.action, event.actor, event.object_id) == (
        "customer.tax_id_revealed",
        underwriter,
        str(customer.pk),
    )
    assert event.metadata == {"tax_id": "•••-••-6789"}


def test_reveal_of_missing_tax_id(make_person):
    customer = make_person(tax_id="")
    with pytest.raises(NotFound):
        services.reveal_tax_id(customer=customer, acting_user=make_staff("manager"))
    assert not AuditEvent.objects.filter(category="sensitive_read").exists()


def test_primary_address_and_phone_rules(make_person):
    customer = make_person(addresses=[ADDRESS], phones=[{"number": "212-555-0100"}])
    first_address = customer.addresses.get()
    second = services.add_address(
        customer=customer,
        data={
            "kind": "mailing",
            "line1": "PO Box 7",
            "city": "Albany",
            "state": "NY",
            "postal_code": "12201",
            "is_primary": True,
        },
    )
    first_address.refresh_from_db()
    assert (first_address.is_primary, second.is_primary) == (False, True)
    with pytest.raises(ValidationFailed) as exc:
        services.update_address(address=second, changes={"is_primary": False})
    assert exc.value.fields == {"is_primary": ["Make another address primary instead."]}
    services.remove_address(address=second)
    first_address.refresh_from_db()
    assert first_address.is_primary is True

    phone2 = services.add_phone(
        customer=customer, data={"kind": "work", "number": "+1 312 555 0147"}
    )
    assert (phone2.number, phone2.is_primary) == ("+13125550147", False)
    with pytest.raises(ValidationFailed) as exc:
        services.add_phone(customer=customer, data={"number": "(312) 555-0147"})
    assert exc.value.fields == {"number": ["This customer already has this phone number."]}
    services.update_phone(phone=phone2, changes={"is_primary": True})
    assert list(
        customer.phones.order_by("-is_primary", "id").values_list("number", "is_primary")
    ) == [
        ("+13125550147", True),
        ("+12125550100", False),
    ]
    actions = list(
        AuditEvent.objects.filter(object_id=str(customer.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "customer.created",
        "customer.address_added",
        "customer.phone_added",
        "customer.address_added",
        "customer.address_removed",
        "customer.phone_added",
        "customer.phone_changed",
    ]


def test_consent_history_is_append_only(make_person):
    customer = make_person()
    officer = make_staff("loan_officer")
    granted = services.record_consent(
        customer=customer,
        data={"channel": "sms", "purpose": "marketing", "granted": True, "wording_version": ""},
        acting_user=officer,
        ip_address="203.0.113.9",
    )
    withdrawn = services.record_consent(
        customer=customer,
        data={
            "channel": "sms",
            "purpose": "marketing",
            "granted": False,
            "wording_version": "v-old",
        },
        acting_user=officer,
    )
    assert granted.wording_version == "sms-marketing-2025-01"  # blank means today's wording
    assert (granted.ip_address, granted.source, granted.recorded_by) == (
        "203.0.113.9",
        "staff",
        officer,
    )
    assert withdrawn.wording_version == "v-old"
    event = AuditEvent.objects.filter(action="customer.consent_withdrawn").get()
    assert event.changes == {"consent.sms.marketing": [True, False]}
    with (
        pytest.raises(ProgrammingError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE customers_consent SET granted = true WHERE id = %s", [withdrawn.pk])
    with (
        pytest.raises(ProgrammingError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM customers_consent WHERE id = %s", [granted.pk])
    assert Consent.objects.filter(customer=customer).count() == 2


def test_consent_input_validated(make_person):
    customer = make_person()
    with pytest.raises(ValidationFailed) as exc:
        services.record_consent(
            customer=customer, data={"channel": "fax", "purpose": "credit_report", "granted": "yes"}
        )
    assert exc.value.fields == {
        "granted": ["Say whether consent is granted (true) or withdrawn (false)."],
        "channel": ["Choose one of: email, sms, phone, mail, portal."],
        "wording_version": ["Name the version of the consent wording shown to the customer."],
    }


def test_set_consents_records_only_changes(make_person):
    customer = make_person(
        consents=[
            {
                "channel": "email",
                "purpose": "electronic_records",
                "granted": True,
                "wording_version": "esign-2025-01",
            }
        ]
    )
    rows = services.set_consents(
        customer=customer,
        decisions={
            ("email", "electronic_records"): True,
            ("sms", "servicing"): True,
            ("email", "marketing"): False,
        },
        source="portal",
    )
    assert [(r.channel, r.purpose, r.granted, r.wording_version) for r in rows] == [
        ("sms", "servicing", True, "sms-servicing-2025-01")
    ]


def test_register_borrower_creates_user_customer_and_esign_consent(db):
    customer = services.register_borrower(
        first_name="Bea",
        last_name="Borrower",
        email=" Bea@Example.com ",
        date_of_birth="1992-02-29",
        password="a-long-borrower-pass-1",
        accept_electronic_records=True,
        ip_address="198.51.100.4",
    )
    user = customer.user
    assert (user.username, user.email, user.kind) == (
        "bea@example.com",
        "bea@example.com",
        "borrower",
    )
    assert user.check_password("a-long-borrower-pass-1")
    assert (customer.kind, customer.legal_name, customer.email) == (
        "person",
        "Bea Borrower",
        "bea@example.com",
    )
    consent = customer.consents.get()
    assert (
        consent.channel,
        consent.purpose,
        consent.granted,
        consent.source,
        consent.ip_address,
    ) == ("email", "electronic_records", True, "portal", "198.51.100.4")
    assert AuditEvent.objects.filter(actor=user).count() == 3  # user, customer, consent


def test_register_borrower_refusals_write_nothing(db):
    services.register_borrower(
        first_name="Bea",
        last_name="B",
        email="bea@example.com",
        date_of_birth=date(1990, 1, 1),
        password="a-long-borrower-pass-1",
        accept_electronic_records=True,
    )
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.register_borrower(
            first_name="",
            last_name="C",
            email="BEA@example.com",
            date_of_birth=date(2010, 1, 1),
            password="12345",
            accept_electronic_records=False,
        )
    assert exc.value.fields == {
        "first_name": ["Enter the first name."],
        "date_of_birth": ["The customer must be at least 18 years old."],
        "email": ["An account with this email already exists. Sign in instead."],
        "password": [
            "This password is too short. It must contain at least 10 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ],
        "accept_electronic_records": [
            "You must agree to receive records electronically to use the portal."
        ],
    }
    assert counts() == before


def test_borrower_profile_cannot_change_identity(db):
    from tests.customers.conftest import make_borrower

    customer = make_borrower("self@example.com")
    with pytest.raises(ValidationFailed) as exc:
        services.update_borrower_profile(
            customer=customer,
            changes={"last_name": "Someone", "tax_id": SSN},
            acting_user=customer.user,
        )
    assert exc.value.fields == {
        "last_name": ["This cannot be changed in the portal."],
        "tax_id": ["This cannot be changed in the portal."],
    }
    customer.refresh_from_db()
    assert (customer.last_name, customer.tax_id_hash) == ("Rower", "")
