"""Signing in (audit only: Django and axes own the session and the failure
counters) and passwords: changing, resetting, e-mailing set-password links."""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from core import audit
from core.exceptions import ValidationFailed
from core.models import AuditCategory
from users.models import User

SECURITY = AuditCategory.SECURITY


# --- signing in (audit only: Django and axes own the session and counters) ---


def record_sign_in(*, user: User, surface: str, second_factor: str) -> None:
    """Audit a password accepted at `surface` ("staff" or "portal").

    `second_factor` says what comes next: "verify", "enrol" or "not_required"."""
    with transaction.atomic():
        audit.record(
            action="auth.signed_in",
            category=SECURITY,
            obj=user,
            metadata={"surface": surface, "second_factor": second_factor},
            actor=user,
        )


def record_sign_in_refused(*, username: str, surface: str, reason: str, user=None) -> None:
    """Audit a refused sign-in. `reason`: "bad_credentials", "locked_out"
    (this failure reached the limit), "blocked" (already locked out),
    "bad_code" (wrong second factor) or "wrong_surface" (e.g. a borrower
    at the staff login)."""
    with transaction.atomic():
        audit.record(
            action="auth.locked_out" if reason == "locked_out" else "auth.sign_in_refused",
            category=SECURITY,
            obj=user,
            object_type=None if user is not None else User._meta.label_lower,
            metadata={"surface": surface, "reason": reason, "username": username[:150]},
            actor=user,
        )


def record_two_factor_passed(*, user: User, device: Device) -> None:
    with transaction.atomic():
        audit.record(
            action="auth.two_factor_passed",
            category=SECURITY,
            obj=user,
            metadata={
                "device": device.persistent_id,
                "backup_code": isinstance(device, StaticDevice),
            },
            actor=user,
        )


def record_sign_out(*, user: User, surface: str) -> None:
    with transaction.atomic():
        audit.record(
            action="auth.signed_out",
            category=SECURITY,
            obj=user,
            metadata={"surface": surface},
            actor=user,
        )


# --- passwords -----------------------------------------------------------------


def check_password_strength(password: str, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            "Choose a stronger password.", fields={field: list(exc.messages)}
        ) from exc


def set_password(*, user: User, password: str, reason: str, acting_user=None) -> User:
    """Set `user`'s password after the configured validators accept it.

    `reason`: "change" (the user, knowing the old one) or "reset" (through
    an e-mailed link; this also lifts any sign-in lockout, as the person has
    just proved they own the mailbox). Changing the password ends the
    user's other sessions (Django's session hash). Audited as security,
    without the password."""
    if reason not in ("change", "reset"):
        raise ValueError(f"unknown reason {reason!r}")
    check_password_strength(password, user, "password")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        user.password = locked.password
        unlocked = axes_reset(username=locked.get_username()) if reason == "reset" else 0
        audit.record(
            action="auth.password_changed" if reason == "change" else "auth.password_reset",
            category=SECURITY,
            obj=locked,
            metadata={"reason": reason, "lockouts_cleared": unlocked},
            actor=acting_user or locked,
        )
    return locked


def send_set_password_email(
    *, user: User, domain: str, use_https: bool, acting_user=None, invitation: bool = False
) -> None:
    """E-mail `user` a single-use link to set a password (staff link).

    The link is Django's password-reset token, so it expires after
    PASSWORD_RESET_TIMEOUT and stops working once a password is set.
    `invitation` picks the wording for a newly created account."""
    if not user.email:
        raise ValidationFailed(
            "This user has no e-mail address.", fields={"email": ["Add an e-mail address first."]}
        )
    context = {
        "user": user,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "domain": domain,
        "protocol": "https" if use_https else "http",
        "platform_name": settings.PLATFORM_NAME,
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    stem = "users/email/staff_invite" if invitation else "users/email/password_reset"
    subject = "".join(render_to_string(f"{stem}_subject.txt", context).splitlines())
    body = render_to_string(f"{stem}_email.txt", context)
    with transaction.atomic():
        audit.record(
            action="auth.set_password_link_sent",
            category=SECURITY,
            obj=user,
            metadata={"invitation": invitation},
            actor=acting_user,
        )
        transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))
