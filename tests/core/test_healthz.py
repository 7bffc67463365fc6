import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis_ok(settings):
    # `make test` sets REDIS_URL to the machine's real Redis.
    assert settings.REDIS_URL, "tests run with REDIS_URL pointing at a real Redis"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_unreachable(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error:")


def test_healthz_without_redis_configured(settings):
    settings.REDIS_URL = None
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "not configured"
