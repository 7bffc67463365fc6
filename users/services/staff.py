"""Staff accounts: creation, details, role, active flag, two-factor reset
and lockout lifting, all by an administrator."""

from axes.utils import reset as axes_reset
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditCategory
from users.models import User
from users.roles import ROLES
from users.services.sign_in import check_password_strength
from users.services.two_factor import delete_devices

SECURITY = AuditCategory.SECURITY
CONFIG = AuditCategory.CONFIG


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(f"Unknown role {role!r}.", fields={"role": ["Choose a role."]})


def _set_role_groups(user: User, role: str) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(Group.objects.get(name=role))
    user._role_cache = role


def _require_staff_account(user: User) -> None:
    if user.kind != User.Kind.STAFF:
        raise Conflict("Only staff accounts are managed here.", code="not_staff")


def create_staff_user(
    *,
    username: str,
    email: str,
    role: str,
    acting_user: User,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> User:
    """Create a staff user holding `role`.

    With `password` the account can sign in at once; without it the
    password is unusable until the person follows a set-password link
    (send_set_password_email). Administrators also get `is_staff` (the
    Django admin's flag); no other role does. Audited as configuration."""
    username = username.strip()
    email = email.strip()
    _check_role(role)
    errors: dict[str, list[str]] = {}
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        errors["username"] = list(exc.messages)
    if not username:
        errors["username"] = ["Enter a username."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with this username already exists."]
    if not email:
        errors["email"] = ["Enter an e-mail address: password links are sent there."]
    elif User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["A user with this e-mail address already exists."]
    if errors:
        raise ValidationFailed("The user could not be created.", fields=errors)
    user = User(
        username=username,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        kind=User.Kind.STAFF,
        is_staff=role == "administrator",
    )
    if password:
        check_password_strength(password, user, "password")
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        _set_role_groups(user, role)
        audit.record(
            action="user.created",
            category=CONFIG,
            obj=user,
            changes={
                "username": [None, username],
                "email": [None, email],
                "role": [None, role],
                "is_staff": [None, user.is_staff],
            },
            metadata={"password": "set" if password else "link"},
            actor=acting_user,
        )
    return user


DETAIL_FIELDS = ("first_name", "last_name", "email")


def update_staff_details(
    *, user: User, first_name: str, last_name: str, email: str, acting_user: User
) -> User:
    """Change a staff user's names and e-mail address. Audited with before/after."""
    _require_staff_account(user)
    email = email.strip()
    if not email:
        raise ValidationFailed(
            "Enter an e-mail address.", fields={"email": ["Enter an e-mail address."]}
        )
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationFailed(
            "That e-mail address is taken.",
            fields={"email": ["A user with this e-mail address already exists."]},
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = audit.snapshot(locked, DETAIL_FIELDS)
        locked.first_name, locked.last_name, locked.email = (
            first_name.strip(),
            last_name.strip(),
            email,
        )
        changes = audit.diff(before, audit.snapshot(locked, DETAIL_FIELDS))
        if not changes:
            return locked
        locked.save(update_fields=list(changes))
        audit.record(
            action="user.details_changed",
            category=CONFIG,
            obj=locked,
            changes=changes,
            actor=acting_user,
        )
    return locked


def change_role(*, user: User, role: str, acting_user: User) -> User:
    """Give a staff user exactly one role (its group), replacing the old one.

    Only administrators get `is_staff`. A user cannot change their own role
    (so an administrator cannot lock the platform out of administration by
    accident). If the new role requires two-factor and the user has no
    device, their next page sends them to enrol. No-op if unchanged."""
    _check_role(role)
    _require_staff_account(user)
    if acting_user.pk == user.pk:
        raise PermissionDenied(
            "You cannot change your own role; ask another administrator.", code="own_role"
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before_role = locked.role
        if before_role == role:
            return locked
        before_staff = locked.is_staff
        _set_role_groups(locked, role)
        locked.is_staff = role == "administrator"
        changes = {"role": [before_role, role]}
        if locked.is_staff != before_staff:
            locked.save(update_fields=["is_staff"])
            changes["is_staff"] = [before_staff, locked.is_staff]
        audit.record(
            action="user.role_changed",
            category=CONFIG,
            obj=locked,
            changes=changes,
            actor=acting_user,
        )
    return locked


def set_active(*, user: User, active: bool, acting_user: User) -> User:
    """Activate or deactivate a staff account. A deactivated user's sessions
    stop working at their next request (Django's backend refuses inactive
    users). Nobody can deactivate themselves. No-op if unchanged."""
    _require_staff_account(user)
    if not active and acting_user.pk == user.pk:
        raise PermissionDenied("You cannot deactivate your own account.", code="own_account")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit.record(
            action="user.activated" if active else "user.deactivated",
            category=SECURITY,
            obj=locked,
            changes={"is_active": [not active, active]},
            actor=acting_user,
        )
    return locked


def reset_two_factor(*, user: User, acting_user: User) -> int:
    """Delete all of a user's two-factor devices (authenticator and backup
    codes), e.g. after a lost phone. Their sessions lose verification; a
    role that requires two-factor must enrol again at the next page.
    Returns the number of rows deleted (devices and codes)."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        had_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        deleted = delete_devices(user)
        audit.record(
            action="two_factor.reset",
            category=SECURITY,
            obj=user,
            changes={"two_factor": ["on" if had_device else "off", "off"]},
            metadata={"rows_deleted": deleted},
            actor=acting_user,
        )
    return deleted


def unlock_user(*, user: User, acting_user: User) -> int:
    """Clear the sign-in failures recorded for `user`'s username (from every
    address), lifting a lockout. Returns the number of records cleared."""
    with transaction.atomic():
        cleared = axes_reset(username=user.get_username())
        audit.record(
            action="auth.unlocked",
            category=SECURITY,
            obj=user,
            metadata={"records_cleared": cleared},
            actor=acting_user,
        )
    return cleared
