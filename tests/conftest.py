"""Shared fixtures. Tests run on real PostgreSQL (DATABASE_URL set by
`make test`) and real Redis (REDIS_URL)."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from tests.factories import UserFactory, totp_device
from users.roles import ROLES

STAFF_ROLES = tuple(ROLES)


@pytest.fixture(autouse=True)
def _email_locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def make_staff(role: str, **kwargs):
    return UserFactory(role=role, **kwargs)


def login_staff(client: Client, user) -> Client:
    """Sign `user` in on `client` as if they had passed the login form and,
    where they have a confirmed TOTP device, the second factor."""
    client.force_login(user)
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device is None and user.requires_two_factor:
        device = totp_device(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def staff_client(db):
    """staff_client("manager") -> (client, user), signed in and verified."""

    def _make(role: str, **kwargs):
        user = make_staff(role, **kwargs)
        return login_staff(Client(), user), user

    return _make
