"""Identity checks (origination.decisioning.identity): pure, exact reasons."""

from datetime import date

import pytest

from origination.decisioning.identity import AddressInput, IdentityInput, age_on, check_identity

TODAY = date(2026, 11, 22)
HOME = AddressInput("12 St Marks Pl", "New York", "NY", "10003")


def subject(**overrides) -> IdentityInput:
    data = {
        "kind": "person",
        "name": "Ada K Lovelace",
        "date_of_birth": date(1985, 12, 10),
        "tax_id_type": "ssn",
        "tax_id": "123456789",
        "address": HOME,
    }
    data.update(overrides)
    return IdentityInput(**data)


def reasons(result):
    return {c.check: (c.passed, c.reason) for c in result.checks}


def test_a_good_applicant_passes_every_check():
    result = check_identity(subject(), business_date=TODAY)
    assert result.passed is True
    assert result.failures == ()
    assert reasons(result) == {
        "name": (True, "Name present."),
        "tax_id": (True, "Valid SSN."),
        "age": (True, "Age 40."),
        "address": (True, "US address, NY 10003."),
    }


@pytest.mark.parametrize(
    ("overrides", "check", "reason"),
    [
        ({"name": "  "}, "name", "No name on file."),
        ({"tax_id": ""}, "tax_id", "No tax id on file."),
        ({"tax_id": "666123456"}, "tax_id", "Not a valid SSN."),
        ({"tax_id": "000123456"}, "tax_id", "Not a valid SSN."),
        ({"tax_id_type": "itin", "tax_id": "123456789"}, "tax_id", "Not a valid ITIN."),
        (
            {"tax_id_type": "ein", "tax_id": "451234567"},
            "tax_id",
            "A person needs an SSN or ITIN, not an EIN.",
        ),
        ({"date_of_birth": None}, "age", "No date of birth on file."),
        ({"date_of_birth": date(2008, 11, 23)}, "age", "Age 17 is under 18."),
        ({"date_of_birth": date(2027, 1, 1)}, "age", "Date of birth is in the future."),
        ({"address": None}, "address", "No address on file."),
        (
            {"address": AddressInput("", "New York", "NY", "10003")},
            "address",
            "Street or city missing.",
        ),
        (
            {"address": AddressInput("1 Rue X", "Paris", "NY", "10003", "FR")},
            "address",
            "Address is outside the US (FR).",
        ),
        (
            {"address": AddressInput("1 Main St", "Springfield", "XX", "10003")},
            "address",
            "'XX' is not a US state code.",
        ),
        (
            {"address": AddressInput("1 Main St", "New York", "NY", "1003")},
            "address",
            "'1003' is not a 5-digit ZIP code.",
        ),
        (
            {"address": AddressInput("1 Main St", "New York", "NY", "90210")},
            "address",
            "ZIP code 90210 does not belong to NY.",
        ),
    ],
)
def test_each_failure_has_its_reason(overrides, check, reason):
    result = check_identity(subject(**overrides), business_date=TODAY)
    assert result.passed is False
    assert [(c.check, c.reason) for c in result.failures] == [(check, reason)]


def test_eighteenth_birthday_passes_and_business_has_no_age():
    assert check_identity(subject(date_of_birth=date(2008, 11, 22)), business_date=TODAY).passed
    business = subject(
        kind="business", name="Acme LLC", date_of_birth=None, tax_id_type="ein", tax_id="451234567"
    )
    assert reasons(check_identity(business, business_date=TODAY))["age"] == (
        True,
        "Not a person: no age requirement.",
    )
    assert reasons(check_identity(business, business_date=TODAY))["tax_id"] == (True, "Valid EIN.")


def test_zip_plus_four_and_valid_itin():
    result = check_identity(
        subject(
            tax_id_type="itin",
            tax_id="912701234",
            address=AddressInput("1 Main St", "Austin", "tx", "73301-0001"),
        ),
        business_date=TODAY,
    )
    assert reasons(result)["tax_id"] == (True, "Valid ITIN.")
    assert reasons(result)["address"] == (True, "US address, TX 73301.")


def test_age_on_leap_day_birthday():
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
