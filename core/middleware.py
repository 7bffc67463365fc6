"""Request context: a request id (honouring an incoming X-Request-ID), the
client address, and, once authentication has run, the acting user. And the
product's own 404 page under DEBUG (ProductNotFoundMiddleware)."""

import logging
import re
import uuid

from django.conf import settings
from django.http import Http404
from django.urls import get_resolver, get_urlconf

from core import context

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request) -> str | None:
    """The client's address. Behind PROXY_COUNT trusted proxies it is the
    entry that many places from the right of X-Forwarded-For."""
    proxies = getattr(settings, "PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_context(
            context.ActorContext(request_id=request_id, ip_address=client_ip(request))
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset_context(token)
        response["X-Request-ID"] = request_id
        return response


class AuditUserMiddleware:
    """After authentication: record the acting user in the context.

    API-key requests authenticate inside DRF, later than this; the API key
    authentication class updates the context itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ctx = context.current()
            context.set_context(
                context.ActorContext(
                    user_id=user.pk,
                    label=user.get_username(),
                    request_id=ctx.request_id,
                    ip_address=ctx.ip_address,
                )
            )
        return self.get_response(request)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id or "-"
        return True


class ProductNotFoundMiddleware:
    """With DEBUG on, Django answers every 404 (an unknown URL, or Http404
    raised in a view) with its technical page, which lists every URL pattern
    of the project. `make run` runs with DEBUG on, so a newcomer would see
    that instead of the product. Under DEBUG this middleware answers with
    the project's own handler404 (core.views.errors.error_404: the product's page,
    JSON `{code, message, fields}` under /api/), exactly as production does;
    with DEBUG off it does nothing, Django already uses handler404.

    A middleware rather than a catch-all URL pattern: it leaves URL
    resolution alone, so APPEND_SLASH (CommonMiddleware, outside this one)
    still redirects, and it also covers Http404 raised in views, which a
    catch-all pattern cannot. Static files are served by WhiteNoise before
    resolution and never reach it. Other errors (a 500's traceback) keep
    Django's debug pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # No resolver match: the URL matched no pattern and the response is
        # Django's technical 404 (a view's own 404 response has a match).
        if settings.DEBUG and response.status_code == 404 and request.resolver_match is None:
            return self._not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return self._not_found(request, exception)
        return None

    @staticmethod
    def _not_found(request, exception):
        handler = get_resolver(get_urlconf()).resolve_error_handler(404)
        return handler(request, exception=exception)
