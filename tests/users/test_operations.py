"""Audit log, object history and business date pages."""

from datetime import date

import pytest
from django.urls import reverse

from core import audit
from core.businessdate import get_business_date
from core.models import AuditCategory, AuditEvent, BusinessDate

pytestmark = pytest.mark.django_db


def test_advance_business_date_through_the_page(staff_client):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date(2025, 3, 14)})
    client, manager = staff_client("manager")
    page = client.get(reverse("business-date"))
    assert "Friday, March 14, 2025" in page.content.decode()
    response = client.post(reverse("business-date"), {"to": "2025-03-17"}, follow=True)
    assert "Business date advanced to March 17, 2025." in response.content.decode()
    assert get_business_date() == date(2025, 3, 17)
    event = AuditEvent.objects.get(action="business_date.advanced")
    assert event.actor_id == manager.pk
    assert event.ip_address == "127.0.0.1"
    assert len(event.request_id) == 32


def test_business_date_backwards_is_a_form_error(staff_client):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date(2025, 3, 14)})
    client, _ = staff_client("administrator")
    response = client.post(reverse("business-date"), {"to": "2025-03-01"})
    assert response.status_code == 200
    assert "Pick a date after 2025-03-14." in response.content.decode()
    assert get_business_date() == date(2025, 3, 14)
    assert not AuditEvent.objects.filter(action="business_date.advanced").exists()


def test_audit_log_filters_and_object_history(staff_client):
    client, _ = staff_client("manager")
    audit.record(
        action="thing.renamed",
        category=AuditCategory.UPDATE,
        object_type="tests.thing",
        object_id="7",
        changes={"name": ["Old name", "New name"]},
    )
    audit.record(
        action="other.event",
        category=AuditCategory.CONFIG,
        object_type="tests.other",
        object_id="1",
    )
    page = client.get(reverse("audit-log"), {"action": "renamed"}).content.decode()
    assert "thing.renamed" in page and "other.event" not in page
    assert "1 event" in page
    history = client.get(reverse("audit-object", args=["tests.thing", "7"])).content.decode()
    assert "Old name" in history and "New name" in history
    assert "other.event" not in history


def test_audit_log_bad_date_range_is_a_form_error(staff_client):
    client, _ = staff_client("administrator")
    page = client.get(reverse("audit-log"), {"since": "2025-02-01", "until": "2025-01-01"})
    assert "The end date is before the start date." in page.content.decode()


def test_error_pages_render_for_people():
    from django.test import Client

    response = Client().get("/staff/this-does-not-exist/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
