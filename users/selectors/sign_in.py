"""Reads about signing in: the account a username names and the failures
django-axes records (lock-outs, attempt counts). Nothing here writes."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from users.models import User


def user_by_username(username: str) -> User | None:
    """The account with exactly this username, of any kind, or None."""
    return User.objects.filter(username=username).first()


def current_lockouts() -> QuerySet[AccessAttempt]:
    """Attempt records that lock their username out right now: at least
    AXES_FAILURE_LIMIT failures, the latest within AXES_COOLOFF_TIME."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    )


def failed_attempts(username: str) -> int:
    """How many attempt records (one per address and browser) axes holds
    for `username`: what an administrator clears with "unlock"."""
    return AccessAttempt.objects.filter(username=username).count()
