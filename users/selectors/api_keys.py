"""Reads of API keys for the administrators. Nothing here writes."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from users.models import ApiKey


def all_api_keys() -> QuerySet[ApiKey]:
    """Every API key, revoked and expired ones included, newest first, with
    the people who created and revoked it and its own user joined."""
    return ApiKey.objects.select_related("created_by", "revoked_by", "user").order_by("-created_at")


def get_api_key(pk: int) -> ApiKey:
    """One API key with its creator and user joined, or NotFound."""
    key = ApiKey.objects.select_related("created_by", "user").filter(pk=pk).first()
    if key is None:
        raise NotFound("No such API key.")
    return key
