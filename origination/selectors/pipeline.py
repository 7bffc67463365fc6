"""Reads of the staff pipeline board and the underwriting queue: the cards,
the counts per state, the pipeline metrics (time to decision, time to fund)
and the board's filter choices.

SLA ageing (documented rule): an application waiting on us — submitted or
in underwriting — ages in business days (Monday to Friday) from the day it
was submitted to the platform's business date. More than 2 business days is
amber ("warn"), more than 5 is red ("late"). Other states are not ageing
against the SLA; their age (calendar days since submitted, else created) is
shown for information only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, TruncDate

from origination.models import (
    NON_FINAL_STATES,
    Application,
    ApplicationState,
    LoanProduct,
)

S = ApplicationState
SLA_STATES = (S.SUBMITTED, S.IN_UNDERWRITING)
SLA_AMBER_DAYS = 2
SLA_RED_DAYS = 5
QUEUE_STATES = (S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED)
BOARD_LIMIT = 500
WORK_PERMISSIONS = ("view_application", "underwrite_application")


def business_days_between(start: date, end: date) -> int:
    """Weekdays after `start` up to and including `end` (0 if end <= start)."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def sla_level(state: str, since: date, today: date) -> str:
    """ "", "warn" (amber) or "late" (red) by the rule in the module docstring."""
    if state not in SLA_STATES:
        return ""
    waiting = business_days_between(since, today)
    if waiting > SLA_RED_DAYS:
        return "late"
    if waiting > SLA_AMBER_DAYS:
        return "warn"
    return ""


@dataclass(frozen=True)
class Card:
    application: Application
    since: date
    age_days: int
    sla: str


def _filtered(*, states, officer, product_code: str, min_age: int | None, today: date):
    apps = Application.objects.annotate(
        since=TruncDate(Coalesce("submitted_at", "created_at"))
    ).filter(state__in=states)
    if officer == "none":
        apps = apps.filter(assigned_to__isnull=True)
    elif officer:
        apps = apps.filter(assigned_to_id=officer)
    if product_code:
        apps = apps.filter(product__code=product_code)
    if min_age:
        apps = apps.filter(since__lte=today - timedelta(days=min_age))
    return apps


def pipeline(
    *,
    today: date,
    states=NON_FINAL_STATES,
    officer: int | str | None = None,
    product_code: str = "",
    min_age: int | None = None,
    limit: int = BOARD_LIMIT,
) -> tuple[dict[str, int], list[Card]]:
    """(count per state, cards oldest first) of the applications matching
    the filters. `officer` is a user id or "none" (unassigned). Two queries."""
    apps = _filtered(
        states=states, officer=officer, product_code=product_code, min_age=min_age, today=today
    )
    counts = dict(apps.order_by().values_list("state").annotate(n=Count("id")))
    rows = apps.select_related("product", "applicant", "assigned_to").order_by("since", "id")[
        :limit
    ]
    cards = [
        Card(
            application=app,
            since=app.since,
            age_days=max(0, (today - app.since).days),
            sla=sla_level(app.state, app.since, today),
        )
        for app in rows
    ]
    return {state: counts.get(state, 0) for state in states}, cards


def pipeline_metrics(
    *,
    today: date,
    states=None,
    officer: int | str | None = None,
    product_code: str = "",
    min_age: int | None = None,
) -> dict:
    """application_metrics over the applications matching the
    board's filters. `states` None means every state: decided and funded
    applications have mostly left the active pipeline."""
    apps = _filtered(
        states=tuple(S.values) if states is None else states,
        officer=officer,
        product_code=product_code,
        min_age=min_age,
        today=today,
    )
    return application_metrics(apps)


def underwriting_queue(*, today: date, officer=None) -> list[Card]:
    """In underwriting and conditionally approved, oldest submission first."""
    return pipeline(today=today, states=QUEUE_STATES, officer=officer)[1]


def application_workers():
    """Active staff who may work on applications: [(id, name)]."""
    User = get_user_model()
    perm = Q(groups__permissions__codename__in=WORK_PERMISSIONS) | Q(
        user_permissions__codename__in=WORK_PERMISSIONS
    )
    users = (
        User.objects.filter(kind=User.Kind.STAFF, is_active=True)
        .filter(perm | Q(is_superuser=True))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return [(u.pk, u.get_full_name() or u.get_username()) for u in users]


def staff_member(username: str):
    """The staff user `username` (active or not), or None: whom the API
    assigns; the service checks that they may work on applications."""
    User = get_user_model()
    return User.objects.filter(username=username, kind=User.Kind.STAFF).first()


def user_by_pk(pk):
    """The user `pk` (one of application_workers on the staff form), or None."""
    return get_user_model().objects.filter(pk=pk).first()


def product_codes() -> list[tuple[str, str]]:
    """(code, name) of every product code, newest version's name."""
    seen: dict[str, str] = {}
    for code, name in LoanProduct.objects.order_by("code", "-version").values_list("code", "name"):
        seen.setdefault(code, name)
    return list(seen.items())


def pipeline_counts() -> dict[str, int]:
    """Applications per state, every state present (0 when none)."""
    counts = dict(
        Application.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    return {state: counts.get(state, 0) for state in ApplicationState.values}


def _percentile(values: list[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return None
    rank = max(1, -(-len(values) * fraction // 1))  # ceil
    return values[int(rank) - 1]


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def application_metrics(applications=None) -> dict:
    """Time to decision (decided_at - submitted_at) and to fund
    (funded_at - submitted_at) over decided/funded applications: count,
    median, 90th and 95th percentile (timedelta or None). `applications`
    (a queryset of Application) narrows the figures; default every one."""
    base = Application.objects.all() if applications is None else applications
    decided = sorted(
        base.filter(decided_at__isnull=False, submitted_at__isnull=False)
        .annotate(d=F("decided_at") - F("submitted_at"))
        .values_list("d", flat=True)
    )
    funded = sorted(
        base.filter(funded_at__isnull=False, submitted_at__isnull=False)
        .annotate(d=F("funded_at") - F("submitted_at"))
        .values_list("d", flat=True)
    )
    return {
        "decided": len(decided),
        "time_to_decision_median": _median(decided),
        "time_to_decision_p90": _percentile(decided, 0.90),
        "time_to_decision_p95": _percentile(decided, 0.95),
        "funded": len(funded),
        "time_to_fund_median": _median(funded),
        "time_to_fund_p90": _percentile(funded, 0.90),
        "time_to_fund_p95": _percentile(funded, 0.95),
    }
