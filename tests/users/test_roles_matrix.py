"""Every role against every staff area: each sees only its part of the
navigation and gets 403 everywhere else. The expected table is written out
here on purpose (a spec, not a re-derivation of users/roles.py)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import STAFF_ROLES
from tests.factories import UserFactory
from users.roles import AREAS

pytestmark = pytest.mark.django_db

ALL = set(STAFF_ROLES)
EXPECTED = {
    # area key -> roles allowed
    "customers": ALL,
    "loans": ALL,
    "calculator": ALL,
    "apr_calculator": ALL,
    "applications": {"loan_officer", "underwriter", "manager", "administrator"},
    "underwriting": {"underwriter", "manager", "administrator"},
    "compliance": {"underwriter", "manager", "administrator"},
    "products": {"manager", "administrator"},
    "modification_approvals": {"manager", "administrator"},
    "service_requests": {"servicing_agent", "manager", "administrator"},
    "ach_files": {"servicing_agent", "manager", "administrator"},
    "business_date": {"manager", "administrator"},
    "audit": {"manager", "administrator"},
    "users": {"administrator"},
    "api_keys": {"administrator"},
}
# Pages inside an area that need more than the area's permission.
EXTRA_PAGES = {
    "customers:create": {"loan_officer", "servicing_agent", "manager", "administrator"},
}


def test_expected_table_covers_every_area():
    assert set(EXPECTED) == {area.key for area in AREAS}


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.key)
def test_area_access(staff_client, role, area):
    client, _ = staff_client(role)
    response = client.get(reverse(area.url_name))
    expected = 200 if role in EXPECTED[area.key] else 403
    assert response.status_code == expected, f"{role} on {area.key}"
    if expected == 403:
        assert b"Not allowed" in response.content


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("url_name", sorted(EXTRA_PAGES))
def test_extra_page_access(staff_client, role, url_name):
    client, _ = staff_client(role)
    response = client.get(reverse(url_name))
    assert response.status_code == (200 if role in EXTRA_PAGES[url_name] else 403)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_navigation_shows_exactly_the_roles_areas(staff_client, role):
    client, _ = staff_client(role)
    response = client.get(reverse("staff-home"))
    assert response.status_code == 200
    shown = set(re.findall(r'data-area="([a-z_]+)"', response.content.decode()))
    assert shown == {key for key, roles in EXPECTED.items() if role in roles}


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.key)
def test_borrower_gets_403_on_every_staff_area(area):
    borrower = UserFactory(kind="borrower")
    client = Client()
    client.force_login(borrower)
    assert client.get(reverse(area.url_name)).status_code == 403


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.key)
def test_anonymous_is_sent_to_login(area):
    response = Client().get(reverse(area.url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_django_admin_only_for_administrators(staff_client, role):
    client, _ = staff_client(role)
    response = client.get("/admin/")
    if role == "administrator":
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)
        assert "Site administration" not in response.content.decode()
