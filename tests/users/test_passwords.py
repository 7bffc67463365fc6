"""Password change for signed-in staff, and reset by e-mail for staff and
borrowers: the e-mail carries a working link that sets a new password."""

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client

from core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-orchard-lantern-42"


def reset_link(message, prefix: str) -> str:
    match = re.search(rf"http://testserver({prefix}password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def follow_link_and_set(client: Client, path: str, password: str = NEW_PASSWORD):
    page = client.get(path, follow=True)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    assert set_url.endswith("/set-password/")
    return client.post(set_url, {"new_password1": password, "new_password2": password})


def test_staff_password_reset_by_email_sets_a_new_password():
    officer = UserFactory(role="loan_officer", email="olivia@bank.example")
    client = Client()
    response = client.post("/staff/password-reset/", {"email": "OLIVIA@bank.example"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olivia@bank.example"]
    assert message.subject == "Reset your Lending Platform password"
    path = reset_link(message, "/staff/")

    done = follow_link_and_set(client, path)
    assert done.status_code == 302
    assert done["Location"] == "/staff/password-reset/complete/"
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="auth.password_reset")
    assert event.category == "security"
    assert event.object_id == str(officer.pk)
    assert "password" not in str(event.changes).lower()

    # The link is single-use.
    reused = Client().get(path, follow=True)
    assert "This link no longer works" in reused.content.decode()
    # And the new password signs in.
    signed = Client().post(
        "/staff/login/", {"username": officer.username, "password": NEW_PASSWORD}
    )
    assert signed.status_code == 302 and signed["Location"] == "/staff/"


def test_reset_lifts_a_lockout():
    officer = UserFactory(role="loan_officer")
    for attempt in range(5):
        Client().post("/staff/login/", {"username": officer.username, "password": f"no{attempt}"})
    assert AccessAttempt.objects.filter(username=officer.username).exists()
    client = Client()
    client.post("/staff/password-reset/", {"email": officer.email})
    follow_link_and_set(client, reset_link(mail.outbox[0], "/staff/"))
    assert not AccessAttempt.objects.filter(username=officer.username).exists()
    assert AuditEvent.objects.get(action="auth.password_reset").metadata == {
        "reason": "reset",
        "lockouts_cleared": 1,
    }


def test_weak_new_password_is_refused():
    officer = UserFactory(role="loan_officer")
    client = Client()
    client.post("/staff/password-reset/", {"email": officer.email})
    response = follow_link_and_set(client, reset_link(mail.outbox[0], "/staff/"), "12345678")
    assert response.status_code == 200
    assert "This password is too short. It must contain at least 10 characters." in (
        response.content.decode()
    )
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="auth.password_reset").exists()


def test_unknown_or_borrower_address_sends_nothing_from_the_staff_form():
    UserFactory(kind="borrower", email="bob@example.com")
    client = Client()
    for email in ("nobody@example.com", "bob@example.com"):
        response = client.post("/staff/password-reset/", {"email": email})
        assert response["Location"] == "/staff/password-reset/sent/"
    assert mail.outbox == []


def test_portal_password_reset_by_email():
    borrower = UserFactory(kind="borrower", username="dee@example.com", email="dee@example.com")
    staff = UserFactory(role="loan_officer", email="staffer@example.com")
    client = Client()
    client.post("/portal/password-reset/", {"email": staff.email})
    assert mail.outbox == []
    response = client.post("/portal/password-reset/", {"email": "dee@example.com"})
    assert response["Location"] == "/portal/password-reset/sent/"
    assert len(mail.outbox) == 1
    path = reset_link(mail.outbox[0], "/portal/")
    done = follow_link_and_set(client, path)
    assert done["Location"] == "/portal/password-reset/complete/"
    complete = client.get(done["Location"])
    assert 'href="/portal/login/"' in complete.content.decode()
    signed = Client().post("/portal/login/", {"email": borrower.email, "password": NEW_PASSWORD})
    assert signed.status_code == 302 and signed["Location"] == "/portal/"


def test_staff_password_change(staff_client):
    client, officer = staff_client("loan_officer")
    page = client.get("/staff/account/password/")
    assert page.status_code == 200
    wrong = client.post(
        "/staff/account/password/",
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "Your old password was entered incorrectly." in wrong.content.decode()
    response = client.post(
        "/staff/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password has been changed." in response.content.decode()
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)
    # This session survives the change.
    assert client.get("/staff/").status_code == 200
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor_id == officer.pk and event.category == "security"


def test_password_change_keeps_a_verified_managers_session(staff_client):
    client, _ = staff_client("manager")
    client.post(
        "/staff/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert client.get("/staff/").status_code == 200


def test_password_change_needs_a_signed_in_staff_member():
    response = Client().get("/staff/account/password/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/staff/account/password/"
