"""Two-factor enrolment: forced for managers and administrators, optional
for everyone else; QR code and key, confirmation, backup codes shown once,
turning it off, and the API refusing unverified sessions."""

import base64
import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, current_totp, totp_device
from users import services
from users.roles import AREAS

pytestmark = pytest.mark.django_db

SETUP = "/staff/account/two-factor/"
CODES = "/staff/account/two-factor/backup-codes/"


def staff_pages() -> list[str]:
    names = [
        "staff-home",
        "users:password-change",
        "users:staff-list",
        "users:staff-create",
        "users:api-keys",
        "users:api-key-create",
        "business-date",
        "audit-log",
        *(area.url_name for area in AREAS),
    ]
    urls = []
    for name in dict.fromkeys(names):
        try:
            urls.append(reverse(name))
        except NoReverseMatch:  # an area whose pages have not landed yet
            continue
    return urls


def signed_in(user) -> Client:
    client = Client()
    response = client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_manager_without_device_is_sent_to_enrolment_from_every_staff_page():
    manager = UserFactory(role="manager")
    client = Client()
    response = client.post("/staff/login/", {"username": manager.username, "password": PASSWORD})
    assert response["Location"] == SETUP
    pages = staff_pages()
    assert len(pages) >= 8
    for url in pages:
        page = client.get(url)
        assert page.status_code == 302, url
        assert page["Location"] == SETUP, url


def test_manager_without_device_cannot_reach_the_api():
    manager = UserFactory(role="manager")
    client = signed_in(manager)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "Complete two-factor authentication first.",
        "fields": {},
    }


def test_forced_enrolment_shows_qr_and_key_then_issues_backup_codes_once():
    manager = UserFactory(role="manager")
    client = signed_in(manager)
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your role (Manager) requires two-factor authentication." in html
    assert '<svg role="img" aria-label="QR code"' in html
    device = TOTPDevice.objects.get(user=manager)
    assert device.confirmed is False
    shown_key = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    # The manual key is the device's secret: an app set up from it makes valid codes.
    assert base64.b32decode(shown_key) == device.bin_key
    # Reloading keeps the same secret (the person may already have scanned it).
    client.get(SETUP)
    assert TOTPDevice.objects.get(user=manager).key == device.key

    wrong = client.post(SETUP, {"action": "confirm", "token": "000000"})
    assert wrong.status_code == 200
    assert "That code did not match." in wrong.content.decode()
    assert TOTPDevice.objects.get(user=manager).confirmed is False

    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(SETUP, {"action": "confirm", "token": current_totp(device)})
    assert response.status_code == 302 and response["Location"] == CODES
    device.refresh_from_db()
    assert device.confirmed is True

    codes_page = client.get(CODES)
    assert codes_page.status_code == 200
    assert "no-store" in codes_page["Cache-Control"]
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page.content.decode())
    assert len(codes) == 10
    stored = set(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert stored == set(codes)
    # Shown once: the second visit only offers a new set.
    again = client.get(CODES)
    assert again.status_code == 302 and again["Location"] == SETUP

    # Enrolment verified this session: the staff pages open now.
    assert client.get("/staff/").status_code == 200
    event = AuditEvent.objects.get(action="two_factor.enrolled")
    assert event.category == "security"
    assert event.actor_id == manager.pk
    assert event.changes == {"two_factor": ["off", "on"]}


def test_enrolment_page_requires_verification_when_a_device_exists():
    manager = UserFactory(role="manager")
    totp_device(manager)
    client = signed_in(manager)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/verify/?next=%2Fstaff%2Faccount%2Ftwo-factor%2F"


def test_optional_enrolment_for_a_loan_officer_and_turning_it_off():
    officer = UserFactory(role="loan_officer")
    client = signed_in(officer)
    page = client.get(SETUP)
    assert "Optional for your role (Loan officer)" in page.content.decode()
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert client.post(SETUP, {"action": "start"})["Location"] == SETUP
    page = client.get(SETUP)
    assert '<svg role="img" aria-label="QR code"' in page.content.decode()
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    client.post(SETUP, {"action": "confirm", "token": current_totp(device)})
    assert TOTPDevice.objects.get(user=officer).confirmed is True
    client.get(CODES)

    # Now signing in asks for the code.
    other = Client()
    response = other.post("/staff/login/", {"username": officer.username, "password": PASSWORD})
    assert response["Location"].startswith("/staff/login/verify/")

    status = client.get(SETUP).content.decode()
    assert "Backup codes left</dt><dd>10" in status
    refused = client.post(SETUP, {"action": "disable", "password": "wrong-password"})
    assert "That is not your current password." in refused.content.decode()
    assert TOTPDevice.objects.filter(user=officer).exists()

    response = client.post(SETUP, {"action": "disable", "password": PASSWORD}, follow=True)
    assert "Two-factor authentication is off." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticDevice.objects.filter(user=officer).exists()
    assert "Set up two-factor" in response.content.decode()
    assert client.get("/staff/").status_code == 200
    assert AuditEvent.objects.get(action="two_factor.disabled").changes == {
        "two_factor": ["on", "off"]
    }


def test_role_that_requires_two_factor_cannot_turn_it_off(staff_client):
    client, manager = staff_client("manager")
    page = client.get(SETUP).content.decode()
    assert "cannot be turned off" in page
    client.post(SETUP, {"action": "disable", "password": PASSWORD})
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    with pytest.raises(PermissionDenied):
        services.disable_two_factor(user=manager)


def test_regenerating_backup_codes_replaces_the_old_ones(staff_client):
    client, manager = staff_client("manager")
    old = services.regenerate_backup_codes(user=manager)
    response = client.post(SETUP, {"action": "backup-codes"})
    assert response["Location"] == CODES
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", client.get(CODES).content.decode())
    assert len(new) == 10
    assert not set(old) & set(new)
    assert StaticToken.objects.filter(device__user=manager).count() == 10


def test_confirm_service_refuses_without_a_pending_device():
    officer = UserFactory(role="loan_officer")
    with pytest.raises(Conflict) as excinfo:
        services.confirm_totp_device(user=officer, token="123456")
    assert excinfo.value.message == "Start setting up two-factor authentication first."


def test_wrong_confirmation_code_counts_against_the_device_throttle():
    officer = UserFactory(role="loan_officer")
    device = services.start_totp_enrolment(user=officer)
    with pytest.raises(ValidationFailed):
        services.confirm_totp_device(user=officer, token="000000")
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert device.confirmed is False


def test_restart_gives_a_new_secret():
    officer = UserFactory(role="loan_officer")
    client = signed_in(officer)
    client.post(SETUP, {"action": "start"})
    first = TOTPDevice.objects.get(user=officer).key
    client.post(SETUP, {"action": "restart"})
    assert TOTPDevice.objects.get(user=officer).key != first
