"""Reads of users: the staff list and one staff user for administrators,
a person's own two-factor state, API keys, and sign-in failures recorded
by django-axes. Nothing here writes."""

from collections.abc import Iterable
from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.exceptions import NotFound
from users.models import ApiKey, User
from users.roles import ROLES

# --- staff users --------------------------------------------------------------------------


def _current_lockouts() -> QuerySet[AccessAttempt]:
    """Attempt records that lock their username out right now: at least
    AXES_FAILURE_LIMIT failures, the latest within AXES_COOLOFF_TIME."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    )


def _staff_queryset() -> QuerySet[User]:
    """Staff accounts with groups prefetched, annotated with
    `two_factor_on` (a confirmed authenticator exists) and `locked_out`
    (the username is locked out now, from any address)."""
    return (
        User.objects.filter(kind=User.Kind.STAFF)
        .prefetch_related("groups")
        .annotate(
            two_factor_on=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            locked_out=Exists(_current_lockouts().filter(username=OuterRef("username"))),
        )
    )


def staff_users(query: str = "", *, role: str = "", status: str = "") -> QuerySet[User]:
    """Staff users for the administrators' list, ordered by username.

    `query` matches part of the username, first or last name or e-mail;
    `role` keeps one role (a key of users.roles.ROLES); `status` "active"
    keeps active accounts and any other non-empty value inactive ones.
    Each row is annotated with `two_factor_on` and `locked_out` and has its
    groups prefetched (pass the rows through `with_roles` before showing
    roles)."""
    users = _staff_queryset()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
        )
    if role:
        users = users.filter(groups__name=role)
    if status:
        users = users.filter(is_active=status == "active")
    return users.order_by("username")


def with_roles(users: Iterable[User]) -> list[User]:
    """`users` as a list, each with its role cache filled from its
    prefetched groups, so `role`/`role_label` cost no query per row."""
    users = list(users)
    for user in users:
        user._role_cache = next((g.name for g in user.groups.all() if g.name in ROLES), "")
    return users


def get_staff_user(pk: int) -> User:
    """One staff user, annotated and prefetched as in `staff_users` and with
    its role cached, or NotFound (also for borrowers and integration
    accounts)."""
    user = _staff_queryset().filter(pk=pk).first()
    if user is None:
        raise NotFound("No such staff user.")
    return with_roles([user])[0]


def user_by_username(username: str) -> User | None:
    """The account with exactly this username, of any kind, or None."""
    return User.objects.filter(username=username).first()


# --- sign-in failures (django-axes) ---------------------------------------------------


def failed_attempts(username: str) -> int:
    """How many attempt records (one per address and browser) axes holds
    for `username`: what an administrator clears with "unlock"."""
    return AccessAttempt.objects.filter(username=username).count()


# --- own two-factor ---------------------------------------------------------------------


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


# --- API keys -------------------------------------------------------------------------------


def api_keys() -> QuerySet[ApiKey]:
    """Every API key, revoked and expired ones included, newest first, with
    the people who created and revoked it and its own user joined."""
    return ApiKey.objects.select_related("created_by", "revoked_by", "user").order_by("-created_at")


def get_api_key(pk: int) -> ApiKey:
    """One API key with its creator and user joined, or NotFound."""
    key = ApiKey.objects.select_related("created_by", "user").filter(pk=pk).first()
    if key is None:
        raise NotFound("No such API key.")
    return key
