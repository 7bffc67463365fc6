"""Staff pipeline pages (selectors.pipeline): the board of open
applications by state, with its filters, SLA ageing and the pipeline
metrics panel (time to decision, time to fund). SLA ageing rule: see
origination.selectors.pipeline."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from core.businessdate import get_business_date
from origination.forms import pipeline as f
from origination.models import NON_FINAL_STATES, ApplicationState
from origination.selectors import pipeline
from origination.views.applications import VIEW
from users.access import staff_required

S = ApplicationState


def _officer_filter(value: str, user):
    if value == "me":
        return user.pk
    if value == "none":
        return "none"
    return int(value) if value and value.isdigit() else None


def _span(delta) -> str:
    """A timedelta for the metrics panel: "2 d 4 h", "3 h 20 min", "45 s"; "—" if none."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _metric_rows(metrics: dict) -> list[dict]:
    return [
        {
            "key": key,
            "label": label,
            "count": metrics[count],
            "median": _span(metrics[f"{key}_median"]),
            "p90": _span(metrics[f"{key}_p90"]),
        }
        for key, label, count in (
            ("time_to_decision", "Time to decision", "decided"),
            ("time_to_fund", "Time to fund", "funded"),
        )
    ]


@staff_required(VIEW)
def board(request):
    today = get_business_date()
    form = f.PipelineFilterForm(
        request.GET or None,
        officers=pipeline.application_workers(),
        products=pipeline.product_codes(),
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    state = filters.get("state") or ""
    if state == "all":
        states = tuple(S.values)
    elif state:
        states = (state,)
    else:
        states = NON_FINAL_STATES
    counts, cards = pipeline.pipeline(
        today=today,
        states=states,
        officer=_officer_filter(filters.get("officer") or "", request.user),
        product_code=filters.get("product") or "",
        min_age=filters.get("min_age"),
    )
    by_state = {s: [] for s in states}
    for card in cards:
        by_state[card.application.state].append(card)
    columns = [
        {"state": s, "label": S(s).label, "count": counts[s], "cards": by_state[s]} for s in states
    ]
    query = request.GET.copy()
    query.pop("view", None)
    return render(
        request,
        "origination/applications/board.html",
        {
            "form": form,
            "columns": columns,
            "cards": cards,
            "total": sum(counts.values()),
            "view": filters.get("view") or "board",
            "query": query.urlencode(),
            "today": today,
            "sla": {"amber": pipeline.SLA_AMBER_DAYS, "red": pipeline.SLA_RED_DAYS},
        },
    )


@staff_required(VIEW)
def board_metrics(request):
    """The board's "Pipeline metrics" panel (loaded by htmx, so the board
    itself keeps its queries): time to decision and to fund over the
    applications matching the board's filters; every state unless one state
    is chosen (decided and funded applications have mostly left the open
    states)."""
    form = f.PipelineFilterForm(
        request.GET or None,
        officers=pipeline.application_workers(),
        products=pipeline.product_codes(),
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    state = filters.get("state") or ""
    metrics = pipeline.pipeline_metrics(
        today=get_business_date(),
        states=(state,) if state and state != "all" else None,
        officer=_officer_filter(filters.get("officer") or "", request.user),
        product_code=filters.get("product") or "",
        min_age=filters.get("min_age"),
    )
    context = {"metrics": _metric_rows(metrics), "one_state": bool(state and state != "all")}
    if request.headers.get("HX-Request") == "true":
        response = render(request, "origination/applications/_metrics.html", context)
    else:
        # Opened at its own address (the board's no-script link, a bookmark):
        # the whole staff page with its title, not a bare fragment.
        query = request.GET.copy()
        query.pop("view", None)
        context["query"] = query.urlencode()
        response = render(request, "origination/applications/metrics.html", context)
    # One address, two representations: caches must key on the htmx header.
    patch_vary_headers(response, ("HX-Request",))
    return response
