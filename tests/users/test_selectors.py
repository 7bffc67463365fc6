"""users.selectors on real PostgreSQL: the staff list with its two-factor
and lockout annotations, one staff user, own two-factor status, API keys
and sign-in failures (recorded by axes through the real login view)."""

from datetime import timedelta

import pytest
from django.test import Client

from core.exceptions import NotFound
from tests.factories import UserFactory, current_totp, totp_device
from users import services
from users.selectors.api_keys import all_api_keys, get_api_key
from users.selectors.sign_in import failed_attempts, user_by_username
from users.selectors.staff import get_staff_user, staff_users, with_roles
from users.selectors.two_factor import TwoFactorStatus, two_factor_status

pytestmark = pytest.mark.django_db


def fail_sign_in(username: str, times: int, address: str = "127.0.0.1") -> None:
    client = Client(REMOTE_ADDR=address)
    for attempt in range(times):
        client.post("/staff/login/", {"username": username, "password": f"wrong-{attempt}"})


def rows(users) -> list[tuple[str, bool, bool]]:
    return [(u.username, u.two_factor_on, u.locked_out) for u in users]


# --- staff users --------------------------------------------------------------------------


@pytest.fixture
def staff():
    maya = UserFactory(
        role="manager", username="maya", first_name="Maya", last_name="Ross", email="m@x.test"
    )
    totp_device(maya)
    umar = UserFactory(
        role="underwriter",
        username="umar",
        first_name="Umar",
        last_name="Khan",
        email="uk@y.test",
        is_active=False,
    )
    totp_device(umar, confirmed=False)
    olga = UserFactory(
        role="loan_officer", username="olga", first_name="Olga", last_name="Berg", email="o@x.test"
    )
    UserFactory(kind="borrower", username="bo@example.com")
    UserFactory(kind="integration", username="api-bot")
    fail_sign_in("olga", 5)
    return maya, umar, olga


def test_staff_users_lists_staff_only_by_username_with_annotations(staff):
    assert rows(staff_users()) == [
        ("maya", True, False),
        ("olga", False, True),
        ("umar", False, False),
    ]


def test_staff_users_filters(staff):
    def names(*args, **kwargs):
        return [u.username for u in staff_users(*args, **kwargs)]

    assert names("MA") == ["maya", "umar"]  # username "maya", first name "Umar"
    assert names("berg") == ["olga"]  # last name
    assert names("x.test") == ["maya", "olga"]  # e-mail
    assert names("bo@example") == []  # borrowers never match
    assert names(role="manager") == ["maya"]
    assert names(role="administrator") == []
    assert names(status="active") == ["maya", "olga"]
    assert names(status="inactive") == ["umar"]
    assert names("a", role="underwriter", status="inactive") == ["umar"]


def test_lockout_needs_the_failure_limit_within_the_cool_off(settings):
    bea = UserFactory(username="bea")
    cal = UserFactory(username="cal")
    fail_sign_in("bea", 4)
    fail_sign_in("cal", 5)
    assert rows(staff_users()) == [("bea", False, False), ("cal", False, True)]
    settings.AXES_COOLOFF_TIME = timedelta(0)
    assert rows(staff_users()) == [("bea", False, False), ("cal", False, False)]
    assert get_staff_user(cal.pk).locked_out is False
    assert get_staff_user(bea.pk).locked_out is False


def test_with_roles_fills_the_role_cache_from_prefetched_groups(staff, django_assert_num_queries):
    with django_assert_num_queries(2):  # users, then their groups
        users = with_roles(staff_users())
    with django_assert_num_queries(0):
        labels = [(u.username, u.role, u.role_label) for u in users]
    assert labels == [
        ("maya", "manager", "Manager"),
        ("olga", "loan_officer", "Loan officer"),
        ("umar", "underwriter", "Underwriter"),
    ]


def test_get_staff_user(staff):
    maya, _, olga = staff
    found = get_staff_user(olga.pk)
    assert found == olga
    assert (found.two_factor_on, found.locked_out, found._role_cache) == (
        False,
        True,
        "loan_officer",
    )
    found = get_staff_user(maya.pk)
    assert (found.two_factor_on, found.locked_out, found._role_cache) == (True, False, "manager")


def test_get_staff_user_refuses_other_kinds_and_unknown_ids(staff):
    borrower = user_by_username("bo@example.com")
    with pytest.raises(NotFound) as refused:
        get_staff_user(borrower.pk)
    assert (refused.value.message, refused.value.status_code) == ("No such staff user.", 404)
    with pytest.raises(NotFound):
        get_staff_user(user_by_username("api-bot").pk)
    with pytest.raises(NotFound):
        get_staff_user(10**9)


def test_user_by_username_is_exact_and_any_kind(staff):
    maya, _, _ = staff
    assert user_by_username("maya") == maya
    assert user_by_username("bo@example.com").kind == "borrower"
    assert user_by_username("Maya") is None
    assert user_by_username("may") is None


# --- sign-in failures --------------------------------------------------------------------------


def test_failed_attempts_counts_records_per_address():
    dee = UserFactory(username="dee")
    assert failed_attempts("dee") == 0
    fail_sign_in("dee", 2)
    assert failed_attempts("dee") == 1
    fail_sign_in("dee", 1, address="10.0.0.2")
    assert failed_attempts("dee") == 2
    assert failed_attempts("nobody") == 0
    admin = UserFactory(role="administrator")
    services.unlock_user(user=dee, acting_user=admin)
    assert failed_attempts("dee") == 0


# --- own two-factor ----------------------------------------------------------------------------


def test_two_factor_status_through_enrolment_and_reset():
    user = UserFactory(role="loan_officer")
    status = two_factor_status(user)
    assert status == TwoFactorStatus(device=None, has_pending_device=False, backup_codes_left=0)
    assert status.enabled is False

    pending = services.start_totp_enrolment(user=user)
    assert two_factor_status(user) == TwoFactorStatus(
        device=None, has_pending_device=True, backup_codes_left=0
    )

    device, codes = services.confirm_totp_device(user=user, token=current_totp(pending))
    status = two_factor_status(user)
    assert status == TwoFactorStatus(device=device, has_pending_device=False, backup_codes_left=10)
    assert status.device.pk == pending.pk and status.enabled is True
    assert len(codes) == 10

    services.reset_two_factor(user=user, acting_user=UserFactory(role="administrator"))
    assert two_factor_status(user) == TwoFactorStatus(
        device=None, has_pending_device=False, backup_codes_left=0
    )


def test_two_factor_status_is_frozen():
    status = two_factor_status(UserFactory())
    with pytest.raises(AttributeError):
        status.backup_codes_left = 3


# --- API keys ------------------------------------------------------------------------------


def test_api_keys_newest_first_including_revoked(django_assert_num_queries):
    admin = UserFactory(role="administrator")
    first, _ = services.create_api_key(name="Ledger", scopes=["customers:read"], created_by=admin)
    services.create_api_key(name="CRM", scopes=["customers:write"], created_by=admin)
    services.revoke_api_key(key=first, acting_user=admin)
    with django_assert_num_queries(1):
        keys = [(k.name, k.created_by.username, k.revoked_by, k.user.kind) for k in all_api_keys()]
    assert keys == [
        ("CRM", admin.username, None, "integration"),
        ("Ledger", admin.username, admin, "integration"),
    ]


def test_get_api_key(django_assert_num_queries):
    admin = UserFactory(role="administrator")
    created, _ = services.create_api_key(name="Ledger", scopes=["customers:read"], created_by=admin)
    with django_assert_num_queries(1):
        key = get_api_key(created.pk)
        assert (key.name, key.created_by, key.user.kind) == ("Ledger", admin, "integration")
    with pytest.raises(NotFound) as refused:
        get_api_key(10**9)
    assert refused.value.message == "No such API key."
