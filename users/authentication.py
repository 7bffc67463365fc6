"""API key authentication for integrators: `Authorization: Api-Key <prefix>.<secret>`."""

import hashlib
import hmac

from django.utils import timezone
from rest_framework import authentication, exceptions

from core import context
from users.models import ApiKey

KEYWORD = "Api-Key"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header.startswith(KEYWORD + " "):
            return None
        raw = header[len(KEYWORD) + 1 :].strip()
        prefix, _, secret = raw.partition(".")
        if not prefix or not secret:
            raise exceptions.AuthenticationFailed("Malformed API key.")
        key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.key_hash, hash_secret(secret)):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked or has expired.")
        now = timezone.now()
        # Touch at most once a minute: a hot key must not update its row per request.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        ctx = context.current()
        context.set_context(
            context.ActorContext(
                user_id=key.user_id,
                label=key.user.get_username(),
                request_id=ctx.request_id,
                ip_address=ctx.ip_address,
            )
        )
        return key.user, key

    def authenticate_header(self, request):
        return KEYWORD
