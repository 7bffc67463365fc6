"""Customers test helpers: customers are built through the real services."""

from datetime import date

import pytest
from django.test import Client

from customers import services
from tests.factories import UserFactory
from users.models import User

SSN = "123-45-6789"
SSN_DIGITS = "123456789"
OTHER_SSN = "536-90-4399"
EIN = "45-1234567"
ITIN = "912-70-1234"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def person_data(**overrides) -> dict:
    data = {
        "kind": "person",
        "first_name": "Ada",
        "middle_name": "K",
        "last_name": "Lovelace",
        "date_of_birth": date(1985, 12, 10),
        "tax_id": SSN,
        "email": "Ada.Lovelace@Example.com",
    }
    data.update(overrides)
    return data


def business_data(**overrides) -> dict:
    data = {
        "kind": "business",
        "business_name": "Analytical Engines LLC",
        "dba_name": "Babbage Works",
        "entity_type": "llc",
        "registration_date": date(2011, 3, 1),
        "tax_id": EIN,
        "email": "accounts@engines.example.com",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_person(db):
    def _make(*, addresses=(), phones=(), consents=(), acting_user=None, **overrides):
        return services.create_customer(
            data=person_data(**overrides),
            addresses=addresses,
            phones=phones,
            consents=consents,
            acting_user=acting_user,
        )

    return _make


@pytest.fixture
def make_business(db):
    def _make(**overrides):
        return services.create_customer(data=business_data(**overrides))

    return _make


ADDRESS = {
    "kind": "residential",
    "line1": "12 St Marks Pl",
    "line2": "Apt 4",
    "city": "New York",
    "state": "ny",
    "postal_code": "10003",
}


def make_borrower(
    email: str,
    first_name: str = "Bo",
    last_name: str = "Rower",
    password: str = "a-long-borrower-pass-1",  # noqa: S107 (test credential)
):
    return services.register_borrower(
        first_name=first_name,
        last_name=last_name,
        email=email,
        date_of_birth=date(1990, 5, 17),
        password=password,
        accept_electronic_records=True,
    )


def borrower_client(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


def integration_user(**kwargs) -> User:
    return UserFactory(kind=User.Kind.INTEGRATION, **kwargs)
