"""The single source of input rules: exact normalised values and messages."""

from datetime import date, time

import pytest

from core.exceptions import ValidationFailed
from customers import validators as v
from customers.validators import Errors, FieldInvalid

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("raw", "kind", "given_type", "expected"),
    [
        ("123-45-6789", "person", "", ("ssn", "123456789")),
        ("123 45 6789", "person", "ssn", ("ssn", "123456789")),
        ("123456789", "person", "", ("ssn", "123456789")),
        ("912-70-1234", "person", "", ("itin", "912701234")),
        ("45-1234567", "business", "", ("ein", "451234567")),
        ("451234567", "business", "ein", ("ein", "451234567")),
    ],
)
def test_tax_id_normalised_and_type_inferred(raw, kind, given_type, expected):
    assert v.normalize_tax_id(raw, given_type, kind=kind) == expected


@pytest.mark.parametrize(
    ("raw", "kind", "given_type", "entity_type", "message"),
    [
        ("000-12-3456", "person", "", "", v.MSG_SSN),
        ("666-12-3456", "person", "ssn", "", v.MSG_SSN),
        ("078-05-1120", "person", "ssn", "", v.MSG_SSN),  # the Woolworth wallet SSN
        ("123-45-678", "person", "ssn", "", v.MSG_SSN),
        ("12-345-6789", "person", "ssn", "", v.MSG_SSN),  # misplaced dashes
        ("912-93-1234", "person", "itin", "", v.MSG_ITIN),
        ("07-1234567", "business", "ein", "", v.MSG_EIN),  # no such IRS prefix
        ("45-1234567", "person", "ein", "", v.MSG_TAX_ID_PERSON),
        ("123-45-6789", "business", "ssn", "llc", v.MSG_TAX_ID_BUSINESS),
    ],
)
def test_tax_id_rejections(raw, kind, given_type, entity_type, message):
    with pytest.raises(FieldInvalid) as exc:
        v.normalize_tax_id(raw, given_type, kind=kind, entity_type=entity_type)
    assert exc.value.message == message


def test_sole_proprietor_may_use_an_ssn():
    assert v.normalize_tax_id(
        "123-45-6789", "ssn", kind="business", entity_type="sole_proprietorship"
    ) == ("ssn", "123456789")


def test_tax_id_formatting():
    assert v.format_tax_id("ssn", "123456789") == "123-45-6789"
    assert v.format_tax_id("ein", "451234567") == "45-1234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(212) 555-0123", "+12125550123"),
        ("212.555.0123", "+12125550123"),
        ("+1 415 555 2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_normalised_to_e164(raw, expected):
    assert v.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["555-1234", "12345", "call me", "+1 000 000 0000"])
def test_invalid_phone(raw):
    with pytest.raises(FieldInvalid) as exc:
        v.normalize_phone(raw)
    assert exc.value.message == "Enter a valid phone number, e.g. (212) 555-0123."


def test_email_normalised_and_validated():
    assert v.normalize_email("  Ada@Example.COM ") == "ada@example.com"
    assert v.normalize_email("") == ""
    with pytest.raises(FieldInvalid) as exc:
        v.normalize_email("ada@@example")
    assert exc.value.message == "Enter a valid email address."


def test_state_and_zip():
    assert v.normalize_state(" ny ") == "NY"
    assert v.normalize_state("PR") == "PR"
    assert v.normalize_postal_code("10003") == "10003"
    assert v.normalize_postal_code("100031234") == "10003-1234"
    assert v.normalize_postal_code("10003-1234") == "10003-1234"
    with pytest.raises(FieldInvalid, match=r"Enter a US state or territory code, e\.g\. NY\."):
        v.normalize_state("XX")
    with pytest.raises(FieldInvalid, match=r"Enter a ZIP code \(12345 or 12345-6789\)."):
        v.normalize_postal_code("1000")


def test_age_limit_is_eighteen_on_the_day():
    assert v.check_date_of_birth(date(2008, 6, 15), today=TODAY) == date(2008, 6, 15)
    with pytest.raises(FieldInvalid) as exc:
        v.check_date_of_birth(date(2008, 6, 16), today=TODAY)
    assert exc.value.message == "The customer must be at least 18 years old."
    with pytest.raises(FieldInvalid, match="cannot be in the future"):
        v.check_date_of_birth(date(2026, 6, 16), today=TODAY)


def test_clean_customer_collects_every_message():
    errors = Errors()
    v.clean_customer(
        {
            "kind": "person",
            "first_name": "",
            "last_name": "X",
            "tax_id": "666-00-0000",
            "email": "x",
        },
        today=TODAY,
        errors=errors,
    )
    assert errors.fields == {
        "first_name": ["Enter the first name."],
        "date_of_birth": ["Enter the date of birth."],
        "tax_id": [v.MSG_SSN],
        "email": ["Enter a valid email address."],
    }
    with pytest.raises(ValidationFailed) as exc:
        errors.raise_if_any()
    assert exc.value.message == "Please correct the highlighted fields."
    assert exc.value.code == "invalid"


def test_clean_customer_builds_legal_name_and_clears_other_kind():
    errors = Errors()
    cleaned = v.clean_customer(
        {
            "kind": "person",
            "first_name": "  Grace ",
            "middle_name": "Brewster",
            "last_name": "Hopper",
            "date_of_birth": "1906-12-09",
            "business_name": "ignored Inc",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:30",
        },
        today=TODAY,
        errors=errors,
    )
    assert not errors
    assert cleaned["legal_name"] == "Grace Brewster Hopper"
    assert cleaned["business_name"] == ""
    assert cleaned["date_of_birth"] == date(1906, 12, 9)
    assert (cleaned["quiet_hours_start"], cleaned["quiet_hours_end"]) == (time(21), time(8, 30))
    assert cleaned["tax_id"] == "" and cleaned["tax_id_type"] == ""


def test_business_rules():
    errors = Errors()
    v.clean_customer({"kind": "business", "business_name": ""}, today=TODAY, errors=errors)
    assert errors.fields == {
        "business_name": ["Enter the business name."],
        "registration_date": ["Enter the business registration date."],
    }


def test_quiet_hours_need_both_ends():
    errors = Errors()
    v.clean_customer(
        {
            "kind": "business",
            "business_name": "B",
            "registration_date": "2020-01-01",
            "quiet_hours_start": "21:00",
        },
        today=TODAY,
        errors=errors,
    )
    assert errors.fields == {"quiet_hours_end": ["Give both the start and the end of quiet hours."]}


def test_nested_messages_are_prefixed():
    errors = Errors()
    v.clean_address(
        {"line1": "", "city": "X", "state": "ZZ", "postal_code": "1"},
        errors=errors,
        prefix="addresses.0.",
    )
    assert errors.fields == {
        "addresses.0.line1": ["Enter the street address."],
        "addresses.0.state": [v.MSG_STATE],
        "addresses.0.postal_code": [v.MSG_ZIP],
    }
    with pytest.raises(ValidationFailed) as exc:
        Errors().raise_if_any() or errors.raise_if_any()
    assert exc.value.fields == errors.fields


def test_single_field_error_message_names_the_field():
    errors = Errors()
    errors.add("email", "Enter a valid email address.")
    with pytest.raises(ValidationFailed) as exc:
        errors.raise_if_any()
    assert exc.value.message == "Please correct the email field: Enter a valid email address."
