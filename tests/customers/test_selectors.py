"""Search, the access selectors, consent statuses and the customer's history."""

import pytest

from core.exceptions import NotFound
from customers import services
from customers.selectors.consents import consent_statuses
from customers.selectors.customers import get_customer_for_user, search_customers
from customers.selectors.history import customer_events
from tests.conftest import make_staff
from tests.customers.conftest import ADDRESS, EIN, OTHER_SSN, make_borrower

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_person, make_business):
    ada = make_person(phones=[{"number": "(212) 555-0123"}], addresses=[ADDRESS])
    grace = make_person(
        first_name="Grace",
        middle_name="",
        last_name="Hopper",
        tax_id=OTHER_SSN,
        email="grace@navy.example.mil",
        phones=[{"number": "(415) 555-2671"}],
    )
    prospect = make_person(
        first_name="Alan", middle_name="", last_name="Turing", tax_id="", email=""
    )
    firm = make_business(tax_id=EIN)
    return {"ada": ada, "grace": grace, "alan": prospect, "firm": firm}


def numbers(queryset) -> list[str]:
    return sorted(queryset.values_list("customer_number", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["ada", "grace", "alan", "firm"]),
        ("lovelace", ["ada"]),
        ("ada lovelace", ["ada"]),
        ("GRACE hop", ["grace"]),
        ("babbage", ["firm"]),  # d/b/a name
        ("navy.example", ["grace"]),
        ("6789", ["ada"]),  # last four of the tax id
        ("4399", ["grace"]),
        ("123-45-6789", ["ada"]),  # exact tax id through the blind index
        ("123456789", ["ada"]),
        ("45-1234567", ["firm"]),
        ("987-65-4321", []),
        ("(415) 555-2671", ["grace"]),  # phone digits
        ("555-0123", ["ada"]),
        ("zzz", []),
    ],
)
def test_search_customers(people, query, expected):
    assert numbers(search_customers(query)) == sorted(
        people[key].customer_number for key in expected
    )


def test_search_by_customer_number_in_any_spelling(people):
    number = people["grace"].customer_number  # C-00000N
    short = "c" + number.split("-")[1].lstrip("0")
    for query in (number, number.lower(), short):
        assert numbers(search_customers(query)) == [number]


def test_search_filters_and_annotations(people):
    assert numbers(search_customers(kind="business")) == [people["firm"].customer_number]
    assert numbers(search_customers(has_tax_id=False)) == [people["alan"].customer_number]
    row = search_customers("lovelace").get()
    assert (row.primary_phone, row.primary_city, row.primary_state) == (
        "+12125550123",
        "New York",
        "NY",
    )
    ordered = list(search_customers(order="name").values_list("legal_name", flat=True))
    assert ordered == ["Ada K Lovelace", "Alan Turing", "Analytical Engines LLC", "Grace Hopper"]


def test_get_customer_for_user_only_for_own_borrower(db):
    mine = make_borrower("one@example.com")
    assert get_customer_for_user(mine.user) == mine
    with pytest.raises(NotFound):
        get_customer_for_user(make_staff("manager"))


def test_customer_history_includes_children_newest_first(people):
    ada = people["ada"]
    services.record_consent(
        customer=ada, data={"channel": "email", "purpose": "marketing", "granted": True}
    )
    actions = list(customer_events(ada).values_list("action", flat=True))
    assert actions == [
        "customer.consent_granted",
        "customer.phone_added",
        "customer.address_added",
        "customer.created",
    ]


def test_consent_statuses(people):
    ada = people["ada"]
    services.record_consent(
        customer=ada, data={"channel": "sms", "purpose": "servicing", "granted": True}
    )
    services.record_consent(
        customer=ada, data={"channel": "sms", "purpose": "servicing", "granted": False}
    )
    statuses = {s.topic.key: s for s in consent_statuses(ada)}
    assert statuses["sms__servicing"].granted is False
    assert statuses["sms__servicing"].latest.granted is False
    assert statuses["email__marketing"].latest is None
    assert len(statuses) == 6
