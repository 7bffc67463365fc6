"""The audit trail is append-only, enforced by PostgreSQL itself."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from core import audit, context
from core.models import AuditCategory, AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _event() -> AuditEvent:
    user = UserFactory()
    return audit.record(
        action="test.changed",
        category=AuditCategory.UPDATE,
        obj=user,
        changes={"first_name": ["Ann", "Anne"]},
    )


def test_record_captures_who_what_and_changes():
    user = UserFactory(username="actor1")
    token = context.set_context(
        context.ActorContext(
            user_id=user.pk, label="actor1", request_id="req-1", ip_address="10.0.0.7"
        )
    )
    try:
        event = audit.record(
            action="customer.updated",
            category=AuditCategory.UPDATE,
            object_type="customers.customer",
            object_id="42",
            changes=audit.diff(
                {"email": "a@x.com", "city": "Austin"}, {"email": "b@x.com", "city": "Austin"}
            ),
        )
    finally:
        context.reset_context(token)
    event.refresh_from_db()
    assert event.actor_id == user.pk
    assert event.actor_label == "actor1"
    assert event.request_id == "req-1"
    assert event.ip_address == "10.0.0.7"
    assert event.changes == {"email": ["a@x.com", "b@x.com"]}
    assert event.object_type == "customers.customer"
    assert event.object_id == "42"


def test_system_job_is_named_actor():
    with context.system_actor("eod.accrual"):
        event = audit.record(
            action="job.ran", category=AuditCategory.STATE_CHANGE, object_type="x", object_id="1"
        )
    assert event.actor_id is None
    assert event.actor_label == "system:eod.accrual"
    assert event.request_id


def test_unknown_category_refused():
    with pytest.raises(ValueError):
        audit.record(action="x", category="gossip", object_type="x", object_id="1")
    assert AuditEvent.objects.count() == 0


def test_update_refused_by_database_raw_sql():
    event = _event()
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete rows from core_auditevent"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.action == "test.changed"


def test_delete_refused_by_database_raw_sql():
    event = _event()
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete rows from core_auditevent"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_orm_bulk_delete_also_refused():
    event = _event()
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).count() == 1


def test_diff_reports_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}
