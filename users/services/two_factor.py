"""A staff member's own two-factor: enrolling an authenticator (TOTP),
backup codes (static tokens), turning it off, and checking sign-in codes."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditCategory
from users.models import User

SECURITY = AuditCategory.SECURITY

BACKUP_CODE_COUNT = 10


def delete_devices(user: User) -> int:
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static, _ = StaticDevice.objects.filter(user=user).delete()
    return totp + static


def start_totp_enrolment(*, user: User, restart: bool = False) -> TOTPDevice:
    """The user's unconfirmed authenticator device, created if there is none
    (or afresh with `restart`, for a new secret). Reloading the set-up page
    therefore keeps the secret the person may already have scanned."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise Conflict("Two-factor authentication is already on.", code="already_enrolled")
        pending = TOTPDevice.objects.filter(user=user, confirmed=False)
        if restart:
            pending.delete()
        device = pending.order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _replace_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def confirm_totp_device(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with a code it shows, and issue
    BACKUP_CODE_COUNT single-use backup codes (replacing any old ones).

    Returns (device, codes); the codes exist in clear only in this return
    value. A wrong code raises ValidationFailed, and still counts against
    the device's throttle."""
    confirmed = None
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-id")
            .first()
        )
        if device is None:
            raise Conflict(
                "Start setting up two-factor authentication first.", code="no_pending_device"
            )
        allowed, info = device.verify_is_allowed()
        if allowed and device.verify_token(normalise_token(token)):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _replace_backup_codes(user)
            audit.record(
                action="two_factor.enrolled",
                category=SECURITY,
                obj=user,
                changes={"two_factor": ["off", "on"]},
                metadata={"device": device.persistent_id, "backup_codes": len(codes)},
                actor=user,
            )
            confirmed = (device, codes)
    if confirmed is None:
        message = "That code did not match. Check the time on your phone and try the newest code."
        if not allowed:
            message = _wait_message(info.get("locked_until"))
        raise ValidationFailed(message, code="bad_code", fields={"token": [message]})
    return confirmed


def regenerate_backup_codes(*, user: User) -> list[str]:
    """Replace the user's backup codes with a fresh set (old ones stop working)."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise Conflict("Turn on two-factor authentication first.", code="not_enrolled")
        codes = _replace_backup_codes(user)
        audit.record(
            action="two_factor.backup_codes_replaced",
            category=SECURITY,
            obj=user,
            metadata={"backup_codes": len(codes)},
            actor=user,
        )
    return codes


def disable_two_factor(*, user: User) -> None:
    """Turn off the user's own two-factor. Refused when their role requires it."""
    if user.requires_two_factor:
        raise PermissionDenied(
            "Your role requires two-factor authentication, so it cannot be turned off.",
            code="two_factor_required",
        )
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        deleted = delete_devices(user)
        audit.record(
            action="two_factor.disabled",
            category=SECURITY,
            obj=user,
            changes={"two_factor": ["on", "off"]},
            metadata={"rows_deleted": deleted},
            actor=user,
        )


@dataclass(frozen=True)
class SecondFactorResult:
    """The device that accepted a code, or None with a message for the person."""

    device: Device | None
    message: str = ""


def normalise_token(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


def _wait_message(until: datetime | None) -> str:
    if until is None:
        return "Too many wrong codes. Wait a moment and try again."
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return f"Too many wrong codes. Wait {seconds} seconds and try again."


def verify_second_factor(*, user: User, token: str) -> SecondFactorResult:
    """Check a sign-in code: six digits go to the authenticator device, any
    other code to the backup codes (which are consumed when used).

    Each device's own throttle (django-otp: 1, 2, 4... seconds after
    failures) applies and a failure counts against it; the caller also
    counts failures towards the account lockout. Using a backup code is
    audited with the number left."""
    token = normalise_token(token)
    model = TOTPDevice if (len(token) == 6 and token.isdigit()) else StaticDevice
    throttled_until = None
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            allowed, info = device.verify_is_allowed()
            if not allowed:
                throttled_until = info.get("locked_until")
                continue
            if device.verify_token(token):
                if isinstance(device, StaticDevice):
                    audit.record(
                        action="two_factor.backup_code_used",
                        category=SECURITY,
                        obj=user,
                        metadata={"backup_codes_left": device.token_set.count()},
                        actor=user,
                    )
                return SecondFactorResult(device)
    if throttled_until is not None:
        return SecondFactorResult(None, _wait_message(throttled_until))
    return SecondFactorResult(None, "That code is not valid. Try the newest code from your app.")
