"""Request context: a request id (honouring an incoming X-Request-ID), the
client address, and, once authentication has run, the acting user."""

import logging
import re
import uuid

from django.conf import settings

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
