"""Integrators' API keys: issuing (each with its own integration user)
and revoking."""

import secrets
import string
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core import audit
from core.exceptions import ValidationFailed
from core.models import AuditCategory
from users.authentication import hash_secret
from users.models import ApiKey, User
from users.scopes import SCOPES

CONFIG = AuditCategory.CONFIG

API_KEY_PREFIX = "lk_"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def _new_prefix() -> str:
    return API_KEY_PREFIX + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))


def create_api_key(
    *, name: str, scopes, created_by: User, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Issue an API key acting as its own new integration user.

    Returns (key, full_key) where full_key = "<prefix>.<secret>" is sent as
    `Authorization: Api-Key <full_key>`. Only the SHA-256 of the secret is
    stored: the full key exists in clear only in this return value, so the
    caller must show it once. Unknown scopes, no scopes, a blank name or an
    expiry in the past raise ValidationFailed. Audited as configuration."""
    name = (name or "").strip()
    scopes = list(dict.fromkeys(scopes or ()))
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter a name that says who or what uses this key."]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        errors["scopes"] = [
            f"Unknown scope{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"Choose from: {', '.join(SCOPES)}."
        ]
    elif not scopes:
        errors["scopes"] = ["Choose at least one scope."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationFailed("The API key could not be created.", fields=errors)

    prefix = _new_prefix()
    while ApiKey.objects.filter(prefix=prefix).exists():  # 36^8 values: practically never loops
        prefix = _new_prefix()
    secret = secrets.token_urlsafe(32)
    slug = slugify(name)[:100] or "key"
    username = f"api:{slug}"
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            username = f"api:{slug}-{prefix.removeprefix(API_KEY_PREFIX)}"
        integration = User(
            username=username, kind=User.Kind.INTEGRATION, first_name=name[:150], is_active=True
        )
        integration.set_unusable_password()
        integration.save()
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=hash_secret(secret),
            scopes=scopes,
            user=integration,
            created_by=created_by,
            expires_at=expires_at,
        )
        audit.record(
            action="api_key.created",
            category=CONFIG,
            obj=key,
            changes={"scopes": [None, scopes], "expires_at": [None, expires_at]},
            metadata={"name": name, "prefix": prefix, "user": integration.username},
            actor=created_by,
        )
    return key, f"{prefix}.{secret}"


def revoke_api_key(*, key: ApiKey, acting_user: User) -> ApiKey:
    """Revoke a key at once and deactivate its integration user. Idempotent:
    revoking a revoked key changes nothing and writes no event."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = acting_user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        User.objects.filter(pk=locked.user_id).update(is_active=False)
        audit.record(
            action="api_key.revoked",
            category=CONFIG,
            obj=locked,
            changes={"revoked_at": [None, locked.revoked_at]},
            metadata={"name": locked.name, "prefix": locked.prefix},
            actor=acting_user,
        )
    return locked
