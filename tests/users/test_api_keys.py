"""API keys: issued on the staff page and shown once, stored only as a
hash, authenticating API calls within their scopes, revoked at once."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.exceptions import ValidationFailed
from core.models import AuditEvent
from users import services
from users.models import ApiKey, User

pytestmark = pytest.mark.django_db

API = "/api/v1/customers/"


def create_through_page(client, **data):
    payload = {"name": "Broker portal", "scopes": ["customers:read"], **data}
    return client.post(reverse("users:api-key-create"), payload)


def shown_key(response) -> str:
    match = re.search(
        r'id="api-key-value" type="text" readonly value="([^"]+)"', response.content.decode()
    )
    assert match, response.content.decode()
    return match.group(1)


def test_create_shows_the_key_once_and_stores_only_its_hash(staff_client):
    client, admin = staff_client("administrator")
    response = create_through_page(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    full_key = shown_key(response)
    prefix, _, secret = full_key.partition(".")
    assert re.fullmatch(r"lk_[a-z0-9]{8}", prefix)
    assert len(secret) >= 40

    key = ApiKey.objects.get()
    assert key.prefix == prefix
    assert key.name == "Broker portal"
    assert key.scopes == ["customers:read"]
    assert key.created_by_id == admin.pk
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM users_apikey WHERE id = %s", [key.pk])
        row = cursor.fetchone()
    assert secret not in repr(row)
    assert full_key not in repr(row)

    user = key.user
    assert user.kind == "integration"
    assert user.username == "api:broker-portal"
    assert user.has_usable_password() is False

    listing = client.get(reverse("users:api-keys")).content.decode()
    assert prefix in listing and secret not in listing
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.category == "config" and event.actor_id == admin.pk
    assert secret not in repr((event.changes, event.metadata, event.object_repr))
    assert event.metadata == {
        "name": "Broker portal",
        "prefix": prefix,
        "user": "api:broker-portal",
    }


def test_key_authenticates_api_calls_within_its_scopes(staff_client):
    client, _ = staff_client("administrator")
    full_key = shown_key(create_through_page(client))
    api = Client()
    response = api.get(API, HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    assert response.status_code == 200
    assert ApiKey.objects.get().last_used_at is not None

    write = api.post(
        API, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {full_key}"
    )
    assert write.status_code == 403
    assert write.json() == {
        "code": "permission_denied",
        "message": "This API key lacks the scope customers:write.",
        "fields": {},
    }


def test_wrong_secret_is_401(staff_client):
    client, _ = staff_client("administrator")
    full_key = shown_key(create_through_page(client))
    response = Client().get(API, HTTP_AUTHORIZATION=f"Api-Key {full_key}x")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key."


def test_revoke_stops_the_key_at_once(staff_client):
    client, admin = staff_client("administrator")
    full_key = shown_key(create_through_page(client))
    key = ApiKey.objects.get()
    assert Client().get(API, HTTP_AUTHORIZATION=f"Api-Key {full_key}").status_code == 200

    confirm = client.get(reverse("users:api-key-revoke", args=[key.pk]))
    assert "Revoking is immediate and permanent." in confirm.content.decode()
    response = client.post(reverse("users:api-key-revoke", args=[key.pk]), follow=True)
    assert f"Broker portal ({key.prefix}) is revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by_id == admin.pk
    assert User.objects.get(pk=key.user_id).is_active is False

    refused = Client().get(API, HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "authentication_failed",
        "message": "This API key has been revoked or has expired.",
        "fields": {},
    }
    # Idempotent: a second revoke changes nothing and writes no event.
    revoked_at = key.revoked_at
    client.post(reverse("users:api-key-revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at == revoked_at
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_revoke_is_post_only_with_a_confirmation_page(staff_client):
    client, admin = staff_client("administrator")
    key, _ = services.create_api_key(name="Temp", scopes=["customers:read"], created_by=admin)
    client.get(reverse("users:api-key-revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is None


def test_unknown_scope_is_a_clear_form_error(staff_client):
    client, admin = staff_client("administrator")
    response = create_through_page(client, scopes=["customers:read", "loans:delete"])
    assert response.status_code == 200
    assert "Unknown scope loans:delete. Choose from the scopes listed." in response.content.decode()
    assert not ApiKey.objects.exists()
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_api_key(name="X", scopes=["loans:delete"], created_by=admin)
    assert excinfo.value.fields == {
        "scopes": [
            "Unknown scope: loans:delete. Choose from: customers:read, customers:write, "
            "quotes:read, loans:read, loans:write, applications:read, applications:write."
        ]
    }
    assert not User.objects.filter(kind="integration").exists()


def test_no_scope_and_past_expiry_are_refused(staff_client):
    client, _ = staff_client("administrator")
    response = client.post(
        reverse("users:api-key-create"), {"name": "X", "expires_on": "2000-01-01"}
    )
    html = response.content.decode()
    assert "Choose at least one scope." in html
    assert "Pick today or a later day." in html
    assert not ApiKey.objects.exists()


def test_expiry_is_the_end_of_the_chosen_day(staff_client):
    client, _ = staff_client("administrator")
    day = timezone.localdate() + timedelta(days=30)
    full_key = shown_key(create_through_page(client, expires_on=day.isoformat()))
    key = ApiKey.objects.get()
    assert timezone.localtime(key.expires_at).date() == day + timedelta(days=1)
    assert timezone.localtime(key.expires_at).time().isoformat() == "00:00:00"
    assert Client().get(API, HTTP_AUTHORIZATION=f"Api-Key {full_key}").status_code == 200


def test_expired_key_is_refused(staff_client):
    _, admin = staff_client("administrator")
    key, full_key = services.create_api_key(
        name="Short",
        scopes=["customers:read"],
        created_by=admin,
        expires_at=timezone.now() + timedelta(minutes=1),
    )
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(API, HTTP_AUTHORIZATION=f"Api-Key {full_key}").status_code == 401


def test_same_name_twice_gets_distinct_integration_users(staff_client):
    _, admin = staff_client("administrator")
    first, _ = services.create_api_key(name="Acme", scopes=["customers:read"], created_by=admin)
    second, _ = services.create_api_key(name="Acme", scopes=["customers:read"], created_by=admin)
    assert first.user.username == "api:acme"
    assert second.user.username == f"api:acme-{second.prefix.removeprefix('lk_')}"


class ScopedProbe(APIView):
    """A view declaring its scope family and session permissions, as API views do."""

    api_scope = "customers"
    required_permissions = {
        "GET": ("customers.view_customer",),
        "*": ("customers.change_customer",),
    }

    def get(self, request):
        return Response({"user": request.user.get_username()})

    def post(self, request):
        return Response({"ok": True})


def test_api_key_acts_as_its_integration_user(staff_client):
    _, admin = staff_client("administrator")
    _, full_key = services.create_api_key(
        name="Probe", scopes=["customers:read", "customers:write"], created_by=admin
    )
    factory = APIRequestFactory()
    response = ScopedProbe.as_view()(
        factory.get("/probe/", HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    )
    assert response.status_code == 200
    assert response.data == {"user": "api:probe"}
    posted = ScopedProbe.as_view()(
        factory.post("/probe/", {}, HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    )
    assert posted.status_code == 200
