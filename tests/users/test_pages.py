"""The landing page and the staff home."""

from datetime import date

import pytest
from django.test import Client

from core.models import BusinessDate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_landing_page_offers_both_entry_points():
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Lending Platform</h1>" in html
    assert 'href="/staff/login/"' in html and "Staff sign in" in html
    assert 'href="/portal/login/"' in html and "Sign in to the borrower portal" in html
    assert 'href="/portal/signup/"' in html and "Create an account" in html


def test_landing_sends_signed_in_people_to_their_side(staff_client):
    client, _ = staff_client("loan_officer")
    assert client.get("/")["Location"] == "/staff/"
    borrower = UserFactory(kind="borrower")
    portal = Client()
    portal.force_login(borrower)
    assert portal.get("/")["Location"] == "/portal/"


def test_staff_home_shows_the_roles_areas_business_date_and_two_factor(staff_client):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date(2025, 6, 30)})
    client, _ = staff_client("manager", first_name="Maya")
    html = client.get("/staff/").content.decode()
    assert "Welcome, Maya" in html
    assert "Oversees every area, approves exceptions, reads the audit log." in html
    assert "Business date <strong>Monday, June 30, 2025</strong>" in html
    assert "Two-factor authentication is on for your account." in html
    cards = [chunk.split('"')[0] for chunk in html.split('data-card="')[1:]]
    assert cards == [
        "customers",
        "loans",
        "calculator",
        "apr_calculator",
        "applications",
        "underwriting",
        "compliance",
        "products",
        "modification_approvals",
        "service_requests",
        "ach_files",
        "business_date",
        "audit",
    ]
    assert 'href="/staff/business-date/"' in html


def test_staff_home_for_a_collections_agent(staff_client):
    client, _ = staff_client("collections_agent")
    html = client.get("/staff/").content.decode()
    cards = [chunk.split('"')[0] for chunk in html.split('data-card="')[1:]]
    assert cards == ["customers", "loans", "calculator", "apr_calculator"]
    assert "Two-factor authentication is optional for your role and off." in html
    assert 'href="/staff/account/two-factor/"' in html
