"""Demo data: deterministic, valid, idempotent, made through the services."""

import pytest
from stdnum.us import ein, itin, ssn

from core import crypto
from core.models import AuditEvent
from customers.demo import create_demo_borrower, demo_specs, load_demo_customers
from customers.models import Consent, Customer
from users.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_specs_are_deterministic_and_prefix_stable():
    ten = demo_specs(count=10)
    assert [s.data for s in ten] == [s.data for s in demo_specs(count=10)]
    assert [s.data for s in demo_specs(count=4)] == [s.data for s in ten[:4]]
    assert [s.data for s in demo_specs(count=4, seed=7)] != [s.data for s in ten[:4]]


def test_load_demo_customers_is_idempotent_and_realistic():
    customers = load_demo_customers(count=30)
    assert len(customers) == Customer.objects.count() == 30
    again = load_demo_customers(count=30)
    assert [c.pk for c in again] == [c.pk for c in customers]
    assert Customer.objects.count() == 30

    businesses = [c for c in customers if c.kind == "business"]
    assert 3 <= len(businesses) <= 10
    for customer in customers:
        digits = crypto.decrypt(customer.tax_id_encrypted)
        validator = {"ssn": ssn, "itin": itin, "ein": ein}[customer.tax_id_type]
        assert validator.is_valid(digits), (customer.customer_number, customer.tax_id_type)
        assert customer.addresses.filter(is_primary=True).count() == 1
        assert customer.phones.filter(is_primary=True).count() == 1
        assert Consent.objects.filter(
            customer=customer, purpose="electronic_records", granted=True
        ).exists()
        assert customer.email.endswith("example.com")
    assert {c.tax_id_type for c in businesses} == {"ein"}
    created = AuditEvent.objects.filter(action="customer.created")
    assert created.count() == 30
    assert set(created.values_list("actor_label", flat=True)) == {"system:demo"}


def test_more_customers_later_extends_the_same_set():
    first = load_demo_customers(count=5)
    more = load_demo_customers(count=8)
    assert [c.pk for c in more[:5]] == [c.pk for c in first]
    assert Customer.objects.count() == 8


def test_demo_borrower_can_sign_in_and_is_idempotent(client):
    customer = create_demo_borrower()
    assert create_demo_borrower().pk == customer.pk
    assert customer.email == "borrower@example.com"
    assert customer.user.username == "borrower@example.com"
    assert customer.user.check_password(DEMO_PASSWORD)
    assert (customer.tax_id_masked, customer.phones.get().number) == ("•••-••-4399", "+16175550142")
    assert customer.addresses.get().city == "Boston"
    # the demo customers never take the demo borrower's tax id
    load_demo_customers(count=10)
    assert Customer.objects.count() == 11
    client.force_login(customer.user)
    assert "Hello, Dana" in client.get("/portal/").content.decode()
