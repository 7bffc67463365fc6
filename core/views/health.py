"""The health check: 200 when the database (and Redis, if configured) answer."""

import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.selectors.health import database_answers

log = logging.getLogger(__name__)


def _check_database() -> str:
    try:
        database_answers()
    except Exception as exc:  # any failure is a failed health check
        log.warning("healthz: database check failed: %s", exc)
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
    except Exception as exc:  # any failure is a failed health check
        log.warning("healthz: redis check failed: %s", exc)
        return f"error: {exc.__class__.__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """200 when the database (and Redis, if configured) answer; 503 otherwise."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    return JsonResponse(body, status=200 if healthy else 503)
