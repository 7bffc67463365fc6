"""Reads of the origination app: the pipeline, metrics, portal access."""

from datetime import timedelta

from django.db.models import Count, F

from core.exceptions import NotFound
from origination.models import Application, ApplicationState


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


def get_application_for_customer(customer, pk) -> Application:
    """The customer's own application (as applicant or co-applicant);
    NotFound (404) for anyone else's, so existence is not revealed."""
    app = (
        Application.objects.select_related("product")
        .filter(pk=pk)
        .filter(applicant=customer)
        .first()
    ) or Application.objects.select_related("product").filter(pk=pk, co_applicant=customer).first()
    if app is None:
        raise NotFound("No such application.")
    return app
