"""Staff and portal sign-in through the real views: passwords, the second
factor, throttling and lockout, and who may sign in where."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, current_totp, totp_device
from users import services

pytestmark = pytest.mark.django_db

LOGIN = "/staff/login/"
VERIFY = "/staff/login/verify/"


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_urls_are_where_the_templates_expect_them():
    assert reverse("users:login") == LOGIN
    assert reverse("users:otp-verify") == VERIFY
    assert reverse("users:otp-setup") == "/staff/account/two-factor/"
    assert reverse("users:logout") == "/staff/logout/"
    assert reverse("portal:login") == "/portal/login/"
    assert reverse("portal:logout") == "/portal/logout/"


def test_login_page_renders_the_form():
    page = Client().get(LOGIN)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert reverse("users:password-reset") in html


def test_loan_officer_without_device_goes_straight_in():
    officer = UserFactory(role="loan_officer")
    client = Client()
    response = sign_in(client, officer.username)
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    home = client.get("/staff/")
    assert home.status_code == 200
    assert "Two-factor authentication is optional for your role" in home.content.decode()
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert event.actor_id == officer.pk
    assert event.category == "security"
    assert event.metadata == {"surface": "staff", "second_factor": "not_required"}


def test_session_key_rotates_and_expires_at_browser_close():
    officer = UserFactory(role="loan_officer")
    client = Client()
    before = client.session  # an anonymous session, as a fixation attacker would plant
    before["planted"] = True
    before.save()
    client.cookies["sessionid"] = before.session_key
    sign_in(client, officer.username)
    after = client.session
    assert after.session_key != before.session_key
    assert after["_auth_user_id"] == str(officer.pk)
    assert after.get_expire_at_browser_close() is True
    assert after.get_expiry_age() == 8 * 60 * 60


def test_next_is_honoured_when_local_and_ignored_when_foreign():
    officer = UserFactory(role="loan_officer")
    response = sign_in(Client(), officer.username, next="/staff/customers/")
    assert response["Location"] == "/staff/customers/"
    other = sign_in(Client(), officer.username, next="https://evil.example/phish")
    assert other["Location"] == "/staff/"


def test_wrong_password_is_a_form_error_and_audited():
    officer = UserFactory(role="loan_officer")
    response = sign_in(Client(), officer.username, password="not-the-password")
    assert response.status_code == 200
    assert "That username and password do not match an active staff account." in (
        response.content.decode()
    )
    event = AuditEvent.objects.get(action="auth.sign_in_refused")
    assert event.object_id == str(officer.pk)
    assert event.metadata == {
        "surface": "staff",
        "reason": "bad_credentials",
        "username": officer.username,
    }
    assert AccessAttempt.objects.get(username=officer.username).failures_since_start == 1


def test_inactive_user_cannot_sign_in():
    officer = UserFactory(role="loan_officer", is_active=False)
    response = sign_in(Client(), officer.username)
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session


def test_borrower_is_refused_at_staff_login_and_pointed_to_the_portal():
    borrower = UserFactory(kind="borrower")
    client = Client()
    response = sign_in(client, borrower.username)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This sign-in is for staff." in html
    assert 'href="/portal/login/"' in html
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.sign_in_refused")
    assert event.metadata["reason"] == "wrong_surface"


def test_integration_user_is_refused_at_staff_login():
    bot = UserFactory(kind="integration")
    response = sign_in(Client(), bot.username)
    assert "Integration accounts cannot sign in; they use API keys." in response.content.decode()


# --- two-factor at sign-in -----------------------------------------------------------


def test_manager_with_device_must_verify_and_wrong_code_is_refused(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # so the right code may follow a wrong one at once
    manager = UserFactory(role="manager")
    device = totp_device(manager)
    client = Client()
    response = sign_in(client, manager.username, next="/staff/admin/users/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fstaff%2Fadmin%2Fusers%2F"
    # Not verified yet: every staff page sends them back to the code step.
    home = client.get("/staff/")
    assert home.status_code == 302
    assert home["Location"] == f"{VERIFY}?next=/staff/"

    wrong = f"{(int(current_totp(device)) + 1) % 1_000_000:06d}"
    refused = client.post(VERIFY, {"token": wrong, "next": "/staff/"})
    assert refused.status_code == 200
    assert "That code is not valid." in refused.content.decode()
    assert client.get("/staff/").status_code == 302

    accepted = client.post(VERIFY, {"token": current_totp(device), "next": "/staff/"})
    assert accepted.status_code == 302
    assert accepted["Location"] == "/staff/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    home = client.get("/staff/")
    assert home.status_code == 200
    assert "Two-factor authentication is on for your account." in home.content.decode()
    assert AuditEvent.objects.filter(action="auth.two_factor_passed", actor=manager).count() == 1
    # A right code clears the failures it followed.
    assert not AccessAttempt.objects.filter(username=manager.username).exists()


def test_second_wrong_code_within_the_throttle_window_says_to_wait():
    manager = UserFactory(role="manager")
    device = totp_device(manager)
    client = Client()
    sign_in(client, manager.username)
    wrong = f"{(int(current_totp(device)) + 1) % 1_000_000:06d}"
    client.post(VERIFY, {"token": wrong})
    second = client.post(VERIFY, {"token": current_totp(device)})
    assert second.status_code == 200
    assert "Too many wrong codes. Wait" in second.content.decode()


def test_backup_code_works_once():
    manager = UserFactory(role="manager")
    totp_device(manager)
    codes = services.regenerate_backup_codes(user=manager)
    assert len(codes) == 10 and len(set(codes)) == 10

    first = Client()
    sign_in(first, manager.username)
    response = first.post(VERIFY, {"token": codes[0].upper()})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert first.get("/staff/").status_code == 200
    event = AuditEvent.objects.get(action="two_factor.backup_code_used")
    assert event.metadata == {"backup_codes_left": 9}

    second = Client()
    sign_in(second, manager.username)
    again = second.post(VERIFY, {"token": codes[0]})
    assert again.status_code == 200
    assert second.get("/staff/").status_code == 302


def test_verify_page_sends_anonymous_people_to_sign_in():
    response = Client().get(VERIFY)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- throttling and lockout ---------------------------------------------------------------


def test_five_wrong_passwords_lock_out_even_the_right_one():
    officer = UserFactory(role="loan_officer")
    bystander = UserFactory(role="loan_officer")
    client = Client()
    for attempt in range(1, 5):
        response = sign_in(client, officer.username, password=f"wrong-{attempt}")
        assert response.status_code == 200, attempt
    fifth = sign_in(client, officer.username, password="wrong-5")
    assert fifth.status_code == 429
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1

    sixth = sign_in(client, officer.username)  # the right password
    assert sixth.status_code == 429
    html = sixth.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert "You can try again in 15 minutes" in html
    assert "An administrator can unlock the account sooner" in html
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        action="auth.sign_in_refused", metadata__reason="blocked"
    ).exists()

    # Another username from the same address is unaffected.
    other = sign_in(Client(), bystander.username)
    assert other.status_code == 302 and other["Location"] == "/staff/"


def test_administrator_unlock_lets_them_in_again(staff_client):
    officer = UserFactory(role="loan_officer")
    for attempt in range(5):
        sign_in(Client(), officer.username, password=f"wrong-{attempt}")
    assert sign_in(Client(), officer.username).status_code == 429

    admin_client, admin = staff_client("administrator")
    page = admin_client.get(reverse("users:staff-list"))
    row = page.content.decode().split(f'data-user="{officer.username}"')[1].split("</tr>")[0]
    assert "Locked out" in row

    response = admin_client.post(
        reverse("users:staff-edit", args=[officer.pk]), {"action": "unlock"}, follow=True
    )
    assert f"{officer.username} can sign in again." in response.content.decode()
    assert not AccessAttempt.objects.filter(username=officer.username).exists()
    event = AuditEvent.objects.get(action="auth.unlocked")
    assert event.actor_id == admin.pk and event.object_id == str(officer.pk)

    again = sign_in(Client(), officer.username)
    assert again.status_code == 302 and again["Location"] == "/staff/"


def test_five_wrong_codes_lock_out_and_sign_the_session_out():
    manager = UserFactory(role="manager")
    device = totp_device(manager)
    client = Client()
    sign_in(client, manager.username)
    wrong = f"{(int(current_totp(device)) + 1) % 1_000_000:06d}"
    statuses = [client.post(VERIFY, {"token": wrong}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert "_auth_user_id" not in client.session
    # The password alone no longer gets them anywhere for the cool-off.
    assert sign_in(Client(), manager.username).status_code == 429
    assert (
        AuditEvent.objects.filter(
            action="auth.sign_in_refused", metadata__reason="bad_code"
        ).count()
        == 4
    )
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1


# --- sign out ------------------------------------------------------------------------------


def test_logout_is_post_only_and_ends_the_session():
    officer = UserFactory(role="loan_officer")
    client = Client()
    sign_in(client, officer.username)
    assert client.get("/staff/logout/").status_code == 405
    response = client.post("/staff/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get("/staff/")["Location"].startswith(LOGIN)
    assert AuditEvent.objects.filter(action="auth.signed_out", actor=officer).exists()


# --- portal ----------------------------------------------------------------------------------


def test_borrower_signs_in_to_the_portal_with_email():
    borrower = UserFactory(kind="borrower", username="ana@example.com", email="Ana@Example.com")
    client = Client()
    response = client.post("/portal/login/", {"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert client.session["_auth_user_id"] == str(borrower.pk)
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert event.metadata == {"surface": "portal", "second_factor": "not_required"}


def test_portal_wrong_password_counts_towards_lockout():
    borrower = UserFactory(kind="borrower", username="bo@example.com", email="bo@example.com")
    client = Client()
    for attempt in range(4):
        response = client.post(
            "/portal/login/", {"email": borrower.email, "password": f"x{attempt}"}
        )
        assert response.status_code == 200
        assert "That e-mail address and password do not match an account." in (
            response.content.decode()
        )
    locked = client.post("/portal/login/", {"email": borrower.email, "password": "x5"})
    assert locked.status_code == 429
    assert reverse("portal:password-reset") in locked.content.decode()
    assert (
        client.post("/portal/login/", {"email": borrower.email, "password": PASSWORD}).status_code
        == 429
    )


def test_staff_is_refused_at_portal_login():
    officer = UserFactory(role="loan_officer")
    client = Client()
    response = client.post("/portal/login/", {"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This sign-in is for borrowers." in html
    assert 'href="/staff/login/"' in html
    assert "_auth_user_id" not in client.session


def test_portal_logout():
    borrower = UserFactory(kind="borrower", username="cy@example.com", email="cy@example.com")
    client = Client()
    client.post("/portal/login/", {"email": borrower.email, "password": PASSWORD})
    response = client.post("/portal/logout/")
    assert response.status_code == 302 and response["Location"] == "/portal/login/"
    assert "_auth_user_id" not in client.session
