"""core.idempotency on its own: the stored answer, the roll-back of a
failed one together with its work, per-caller principals, and the purge."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from core.eod import run_end_of_day
from core.exceptions import Conflict
from core.idempotency import (
    IdempotencyKeyReused,
    principal_of,
    purge_idempotency_records,
    request_fingerprint,
    run_idempotent,
)
from core.models import EodChunk, EodRun, IdempotencyRecord
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SCOPE = "tests.core.Demo"


def make_request(user, body: dict, key: str | None = "k-1", path: str = "/api/v1/demo/"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    django_request = APIRequestFactory().post(path, body, format="json", **headers)
    request = Request(django_request, parsers=[JSONParser()])
    request.user, request.auth = user, None
    return request


def start_run(day: int, status: int = 201):
    """A view that writes (an EodRun) and answers `status`."""

    def view():
        run = EodRun.objects.create(business_date=date(2026, 1, day), started_at=timezone.now())
        return Response({"id": run.pk, "day": run.business_date}, status=status)

    return view


def test_first_answer_is_stored_and_replayed():
    user = UserFactory()
    first = run_idempotent(make_request(user, {"day": 1}), SCOPE, start_run(1))
    assert first.status_code == 201
    replay = run_idempotent(make_request(user, {"day": 1}), SCOPE, start_run(1))
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (200, "true")
    # As rendered: the date is a string, as the client first received it.
    assert replay.data == {"id": first.data["id"], "day": "2026-01-01"}
    assert EodRun.objects.count() == 1
    with pytest.raises(IdempotencyKeyReused):
        run_idempotent(make_request(user, {"day": 2}), SCOPE, start_run(2))
    with pytest.raises(IdempotencyKeyReused):  # same body, another operation
        run_idempotent(make_request(user, {"day": 1}), "tests.core.Other", start_run(1))
    assert EodRun.objects.count() == 1


def test_a_non_2xx_answer_rolls_back_its_work_and_its_record():
    user = UserFactory()
    refused = run_idempotent(make_request(user, {"day": 3}), SCOPE, start_run(3, status=409))
    assert refused.status_code == 409
    assert not EodRun.objects.exists()
    assert not IdempotencyRecord.objects.exists()

    def failing():
        EodRun.objects.create(business_date=date(2026, 1, 4), started_at=timezone.now())
        raise Conflict("No.")

    with pytest.raises(Conflict):
        run_idempotent(make_request(user, {"day": 3}), SCOPE, failing)
    assert not EodRun.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    # The key is still free.
    assert run_idempotent(make_request(user, {"day": 3}), SCOPE, start_run(3)).status_code == 201


def test_no_key_runs_every_time_and_keys_are_per_caller():
    alice, bob = UserFactory(), UserFactory()
    for day in (5, 6):
        response = run_idempotent(make_request(alice, {}, key=None), SCOPE, start_run(day))
        assert response.status_code == 201
    assert not IdempotencyRecord.objects.exists()
    run_idempotent(make_request(alice, {"day": 7}), SCOPE, start_run(7))
    response = run_idempotent(make_request(bob, {"day": 7}), SCOPE, start_run(8))
    assert response.status_code == 201
    assert set(IdempotencyRecord.objects.values_list("principal", flat=True)) == {
        f"user:{alice.pk}",
        f"user:{bob.pk}",
    }
    api_request = make_request(bob, {})
    api_request.auth = alice  # any model instance: the credential, not its user
    assert principal_of(api_request) == f"users.user:{alice.pk}"


def test_fingerprint_ignores_key_order_but_not_path_or_values():
    user = UserFactory()
    base = request_fingerprint(make_request(user, {"a": "1", "b": [1, 2]}))
    assert request_fingerprint(make_request(user, {"b": [1, 2], "a": "1"})) == base
    assert request_fingerprint(make_request(user, {"a": "1", "b": [2, 1]})) != base
    assert request_fingerprint(make_request(user, {"a": "1", "b": [1, 2]}, path="/x/")) != base


def test_purge_deletes_old_records_only():
    user = UserFactory()
    run_idempotent(make_request(user, {}, key="old"), SCOPE, start_run(9))
    run_idempotent(make_request(user, {}, key="new"), SCOPE, start_run(10))
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_end_of_day_purges_records_past_retention():
    user = UserFactory()
    run_idempotent(make_request(user, {}, key="old"), SCOPE, start_run(9))
    run_idempotent(make_request(user, {}, key="new"), SCOPE, start_run(10))
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=31)
    )
    run = run_end_of_day()
    assert run.status == EodRun.Status.COMPLETED
    chunk = EodChunk.objects.get(run=run, step="purge_idempotency_records")
    assert chunk.counts == {"purged": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
