"""Reads of staff accounts for the administrators: the staff list and one
staff user, with their two-factor and lock-out state. Nothing here writes."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.exceptions import NotFound
from users.models import User
from users.roles import ROLES
from users.selectors.sign_in import current_lockouts


def _staff_queryset() -> QuerySet[User]:
    """Staff accounts with groups prefetched, annotated with
    `two_factor_on` (a confirmed authenticator exists) and `locked_out`
    (the username is locked out now, from any address)."""
    return (
        User.objects.filter(kind=User.Kind.STAFF)
        .prefetch_related("groups")
        .annotate(
            two_factor_on=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            locked_out=Exists(current_lockouts().filter(username=OuterRef("username"))),
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
