"""Staff administration pages and services: creating users with a role,
changing roles, (de)activating, resetting two-factor; who may do it; and
the Django admin behind administrator + two-factor."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.exceptions import PermissionDenied, ValidationFailed
from core.models import AuditEvent
from tests.conftest import STAFF_ROLES
from tests.factories import PASSWORD, UserFactory, totp_device
from users import services
from users.models import User

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ("users:staff-list", "users:staff-create", "users:api-keys", "users:api-key-create")


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r != "administrator"])
def test_non_administrators_get_403_on_admin_pages(staff_client, role):
    client, _ = staff_client(role)
    target = UserFactory(role="loan_officer")
    for name in ADMIN_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert "Not allowed" in response.content.decode()
    response = client.post(reverse("users:staff-edit", args=[target.pk]), {"action": "deactivate"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active is True


def test_staff_list_shows_role_two_factor_and_status(staff_client):
    client, _ = staff_client("administrator")
    manager = UserFactory(role="manager", username="maya")
    totp_device(manager)
    UserFactory(role="underwriter", username="umar", is_active=False)
    UserFactory(kind="borrower", username="bo@example.com")
    html = client.get(reverse("users:staff-list")).content.decode()
    rows = dict(re.findall(r'<tr data-user="([^"]+)">(.*?)</tr>', html, re.S))
    assert "bo@example.com" not in rows
    assert "Manager" in rows["maya"] and '<span class="badge ok">On</span>' in rows["maya"]
    assert "Underwriter" in rows["umar"] and "Inactive" in rows["umar"]
    assert "Required, not set up" not in rows["umar"]
    filtered = client.get(reverse("users:staff-list"), {"role": "manager"}).content.decode()
    assert 'data-user="maya"' in filtered and 'data-user="umar"' not in filtered


def test_create_staff_user_with_initial_password(staff_client):
    client, admin = staff_client("administrator")
    response = client.post(
        reverse("users:staff-create"),
        {
            "username": "uma",
            "first_name": "Uma",
            "last_name": "Underwood",
            "email": "uma@bank.example",
            "role": "underwriter",
            "password_mode": "set",
            "password1": "quiet-meadow-river-7",
            "password2": "quiet-meadow-river-7",
        },
    )
    user = User.objects.get(username="uma")
    assert response.status_code == 302
    assert response["Location"] == reverse("users:staff-edit", args=[user.pk])
    assert user.kind == "staff" and user.role == "underwriter" and user.is_staff is False
    assert user.check_password("quiet-meadow-river-7")
    assert mail.outbox == []
    event = AuditEvent.objects.get(action="user.created")
    assert event.actor_id == admin.pk
    assert event.category == "config"
    assert event.changes == {
        "username": [None, "uma"],
        "email": [None, "uma@bank.example"],
        "role": [None, "underwriter"],
        "is_staff": [None, False],
    }
    # The new user signs in with it.
    signed = Client().post("/staff/login/", {"username": "uma", "password": "quiet-meadow-river-7"})
    assert signed["Location"] == "/staff/"


def test_create_staff_user_with_set_password_email(
    staff_client, django_capture_on_commit_callbacks
):
    client, _ = staff_client("administrator")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("users:staff-create"),
            {
                "username": "adele",
                "email": "adele@bank.example",
                "role": "administrator",
                "password_mode": "link",
            },
        )
    user = User.objects.get(username="adele")
    assert user.has_usable_password() is False
    assert user.is_staff is True  # administrators only
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Username: adele" in body
    path = re.search(r"http://testserver(/staff/password-reset/\S+/\S+/)", body).group(1)
    setter = Client()
    page = setter.get(path, follow=True)
    response = setter.post(
        page.redirect_chain[-1][0],
        {"new_password1": "cobalt-harbour-93", "new_password2": "cobalt-harbour-93"},
    )
    assert response["Location"] == "/staff/password-reset/complete/"
    user.refresh_from_db()
    assert user.check_password("cobalt-harbour-93")
    # An administrator must enrol two-factor at first sign-in.
    first = Client().post("/staff/login/", {"username": "adele", "password": "cobalt-harbour-93"})
    assert first["Location"] == "/staff/account/two-factor/"


def test_create_form_errors(staff_client):
    client, _ = staff_client("administrator")
    UserFactory(username="taken", email="taken@bank.example")
    response = client.post(
        reverse("users:staff-create"),
        {
            "username": "Taken",
            "email": "TAKEN@bank.example",
            "role": "manager",
            "password_mode": "set",
            "password1": "short",
            "password2": "short",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "A user with this username already exists." in html
    assert "A user with this e-mail address already exists." in html
    assert User.objects.filter(username__iexact="taken").count() == 1
    assert not AuditEvent.objects.filter(action="user.created").exists()

    weak = client.post(
        reverse("users:staff-create"),
        {
            "username": "newbie",
            "email": "newbie@bank.example",
            "role": "manager",
            "password_mode": "set",
            "password1": "short",
            "password2": "short",
        },
    )
    assert "This password is too short." in weak.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_change_role_is_audited_with_before_and_after(staff_client):
    client, admin = staff_client("administrator")
    target = UserFactory(role="loan_officer")
    url = reverse("users:staff-edit", args=[target.pk])
    response = client.post(url, {"action": "role", "role": "administrator"}, follow=True)
    assert f"{target.username} is now Administrator." in response.content.decode()
    target = User.objects.get(pk=target.pk)
    assert target.role == "administrator"
    assert target.is_staff is True
    assert list(target.groups.values_list("name", flat=True)) == ["administrator"]
    event = AuditEvent.objects.get(action="user.role_changed")
    assert event.actor_id == admin.pk
    assert event.category == "config"
    assert event.object_type == "users.user" and event.object_id == str(target.pk)
    assert event.changes == {"role": ["loan_officer", "administrator"], "is_staff": [False, True]}
    # The history on the page shows it.
    assert "loan_officer" in response.content.decode()

    client.post(url, {"action": "role", "role": "collections_agent"})
    target = User.objects.get(pk=target.pk)
    assert target.role == "collections_agent" and target.is_staff is False
    # Same role again: nothing written.
    client.post(url, {"action": "role", "role": "collections_agent"})
    assert AuditEvent.objects.filter(action="user.role_changed").count() == 2


def test_unknown_role_is_refused(staff_client):
    client, _ = staff_client("administrator")
    target = UserFactory(role="loan_officer")
    response = client.post(
        reverse("users:staff-edit", args=[target.pk]), {"action": "role", "role": "superhero"}
    )
    assert response.status_code == 200
    assert "Select a valid choice. superhero is not one of the available choices." in (
        response.content.decode()
    )
    with pytest.raises(ValidationFailed):
        services.change_role(user=target, role="superhero", acting_user=target)


def test_cannot_change_own_role_or_deactivate_self(staff_client):
    client, admin = staff_client("administrator")
    url = reverse("users:staff-edit", args=[admin.pk])
    response = client.post(url, {"action": "role", "role": "loan_officer"}, follow=True)
    assert "You cannot change your own role; ask another administrator." in (
        response.content.decode()
    )
    response = client.post(url, {"action": "deactivate"}, follow=True)
    assert "You cannot deactivate your own account." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active is True and User.objects.get(pk=admin.pk).role == "administrator"
    with pytest.raises(PermissionDenied):
        services.set_active(user=admin, active=False, acting_user=admin)


def test_deactivate_signs_them_out_and_reactivate(staff_client):
    client, _ = staff_client("administrator")
    officer = UserFactory(role="loan_officer")
    officer_client = Client()
    officer_client.post("/staff/login/", {"username": officer.username, "password": PASSWORD})
    assert officer_client.get("/staff/").status_code == 200

    url = reverse("users:staff-edit", args=[officer.pk])
    client.post(url, {"action": "deactivate"})
    officer.refresh_from_db()
    assert officer.is_active is False
    assert officer_client.get("/staff/")["Location"].startswith("/staff/login/")
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.changes == {"is_active": [True, False]}

    client.post(url, {"action": "activate"})
    officer.refresh_from_db()
    assert officer.is_active is True


def test_reset_two_factor_forces_re_enrolment(staff_client):
    client, admin = staff_client("administrator")
    manager_client, manager = staff_client("manager")
    services.regenerate_backup_codes(user=manager)
    assert manager_client.get("/staff/").status_code == 200

    client.post(reverse("users:staff-edit", args=[manager.pk]), {"action": "reset_two_factor"})
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    response = manager_client.get("/staff/")
    assert response.status_code == 302 and response["Location"] == "/staff/account/two-factor/"
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert event.actor_id == admin.pk and event.category == "security"
    assert event.changes == {"two_factor": ["on", "off"]}


def test_update_details(staff_client):
    client, _ = staff_client("administrator")
    officer = UserFactory(role="loan_officer", first_name="Ola", email="ola@bank.example")
    client.post(
        reverse("users:staff-edit", args=[officer.pk]),
        {
            "action": "details",
            "first_name": "Olga",
            "last_name": officer.last_name,
            "email": "olga@bank.example",
        },
    )
    officer.refresh_from_db()
    assert officer.first_name == "Olga" and officer.email == "olga@bank.example"
    assert AuditEvent.objects.get(action="user.details_changed").changes == {
        "email": ["ola@bank.example", "olga@bank.example"],
        "first_name": ["Ola", "Olga"],
    }


def test_staff_edit_is_only_for_staff_accounts(staff_client):
    client, _ = staff_client("administrator")
    borrower = UserFactory(kind="borrower")
    assert client.get(reverse("users:staff-edit", args=[borrower.pk])).status_code == 404


# --- Django admin ------------------------------------------------------------------------


def test_django_admin_for_verified_administrators_only(staff_client):
    client, admin = staff_client("administrator")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Site administration" in page.content.decode()
    users_page = client.get("/admin/users/user/")
    assert users_page.status_code == 200
    assert admin.username in users_page.content.decode()
    # Read-only: no adding users behind the services' back.
    assert client.get("/admin/users/user/add/").status_code == 403
    assert client.get("/admin/users/apikey/").status_code == 200


def test_django_admin_login_is_the_staff_login():
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    login = Client().get("/admin/login/?next=/admin/")
    assert login.status_code == 302
    assert login["Location"] == "/staff/login/?next=/admin/"


def test_unverified_administrator_is_sent_to_the_code_step():
    admin = UserFactory(role="administrator")
    totp_device(admin)
    client = Client()
    client.post("/staff/login/", {"username": admin.username, "password": PASSWORD})
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/staff/login/verify/?next=/admin/"


def test_manager_is_refused_by_the_django_admin(staff_client):
    client, _ = staff_client("manager")
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "Site administration" not in response.content.decode()


def test_administrator_can_email_a_set_password_link(
    staff_client, django_capture_on_commit_callbacks
):
    client, admin = staff_client("administrator")
    officer = UserFactory(role="loan_officer", email="lee@bank.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("users:staff-edit", args=[officer.pk]), {"action": "send_link"}, follow=True
        )
    assert "Password link sent to lee@bank.example." in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lee@bank.example"]
    assert re.search(r"http://testserver/staff/password-reset/\S+/\S+/", mail.outbox[0].body)
    event = AuditEvent.objects.get(action="auth.set_password_link_sent")
    assert event.actor_id == admin.pk and event.metadata == {"invitation": False}
