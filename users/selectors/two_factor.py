"""A person's own two-factor state. Nothing here writes."""

from dataclasses import dataclass

from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.models import User


@dataclass(frozen=True)
class TwoFactorStatus:
    """A person's two-factor set-up: their confirmed authenticator (None when
    two-factor is off), whether an unconfirmed one is waiting for its first
    code, and how many unused backup codes they have."""

    device: TOTPDevice | None
    has_pending_device: bool
    backup_codes_left: int

    @property
    def enabled(self) -> bool:
        return self.device is not None


def two_factor_status(user: User) -> TwoFactorStatus:
    """The `TwoFactorStatus` of `user`. Backup codes count only when they
    belong to a confirmed backup-code device."""
    return TwoFactorStatus(
        device=TOTPDevice.objects.filter(user=user, confirmed=True).first(),
        has_pending_device=TOTPDevice.objects.filter(user=user, confirmed=False).exists(),
        backup_codes_left=StaticToken.objects.filter(
            device__user=user, device__confirmed=True
        ).count(),
    )
