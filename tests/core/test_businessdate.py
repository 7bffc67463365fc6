from datetime import date

import pytest

from core.businessdate import advance_business_date, get_business_date
from core.exceptions import Conflict
from core.models import AuditEvent, BusinessDate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _set(d: date) -> None:
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": d})


def test_business_date_is_read_from_its_row_not_the_clock():
    _set(date(2024, 1, 31))
    assert get_business_date() == date(2024, 1, 31)


def test_advance_moves_forward_and_is_audited():
    _set(date(2024, 1, 31))
    user = UserFactory(username="opsuser")
    assert advance_business_date(to=date(2024, 2, 1), acting_user=user) == date(2024, 2, 1)
    assert get_business_date() == date(2024, 2, 1)
    event = AuditEvent.objects.get(action="business_date.advanced")
    assert event.actor_label == "opsuser"
    assert event.category == "config"
    assert event.changes == {"date": ["2024-01-31", "2024-02-01"]}


@pytest.mark.parametrize("target", [date(2024, 1, 31), date(2024, 1, 1)])
def test_advance_refuses_same_or_earlier_date_and_writes_nothing(target):
    _set(date(2024, 1, 31))
    with pytest.raises(Conflict) as excinfo:
        advance_business_date(to=target)
    assert excinfo.value.fields == {"to": ["Pick a date after 2024-01-31."]}
    assert get_business_date() == date(2024, 1, 31)
    assert not AuditEvent.objects.exists()


def test_first_read_creates_the_row_once():
    BusinessDate.objects.all().delete()
    first = get_business_date()
    assert get_business_date() == first
    assert BusinessDate.objects.count() == 1
