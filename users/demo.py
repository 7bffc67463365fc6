"""Demo staff: one user per role with a shared demo password.

Managers and administrators must pass two-factor, so their demo accounts get
a TOTP device with a published demo secret and, on every run, a fresh set of
single-use backup codes that `load_demo` prints."""

import base64
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.models import User
from users.roles import ROLES, sync_roles

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (published demo credential)
# 20 bytes, hex for django-otp; its base32 form is what an authenticator takes.
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"

DEMO_STAFF = (
    ("officer", "Olivia", "Ortiz", "loan_officer"),
    ("underwriter", "Umar", "Ueda", "underwriter"),
    ("servicer", "Sofia", "Silva", "servicing_agent"),
    ("collector", "Carlos", "Cole", "collections_agent"),
    ("manager", "Maya", "Moreno", "manager"),
    ("admin", "Adam", "Abbott", "administrator"),
)


@dataclass
class DemoAccount:
    username: str
    role_label: str
    totp_secret: str = ""
    backup_codes: list[str] = field(default_factory=list)


def demo_totp_secret() -> str:
    return base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()


def load_demo_staff() -> list[DemoAccount]:
    sync_roles()
    accounts = []
    hashed = None  # one hash of the shared demo password (each costs ~0.4 s)
    for username, first, last, role in DEMO_STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@lending.example",
                "kind": User.Kind.STAFF,
                "is_staff": role == "administrator",
            },
        )
        if created:
            hashed = hashed or make_password(DEMO_PASSWORD)
            user.password = hashed
            user.save(update_fields=["password"])
            user.groups.set([Group.objects.get(name=role)])
        account = DemoAccount(username=username, role_label=ROLES[role].label)
        if ROLES[role].requires_two_factor:
            TOTPDevice.objects.get_or_create(
                user=user,
                name="Demo authenticator",
                defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True},
            )
            static, _ = StaticDevice.objects.get_or_create(
                user=user, name="Backup codes", defaults={"confirmed": True}
            )
            static.token_set.all().delete()
            codes = [f"{secrets.randbelow(10**8):08d}" for _ in range(3)]
            StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
            account.totp_secret = demo_totp_secret()
            account.backup_codes = codes
        accounts.append(account)
    return accounts
