"""Operations pages over the shared kernel: the audit log, one object's
history, the business date, and end-of-day runs with their progress. They
live here rather than in core because core sits below users and may not use
its access guards."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from core.businessdate import advance_business_date, get_business_date
from core.exceptions import Conflict, DomainError
from core.models import EodRun
from core.selectors import audit, eod
from core.services.eod import start_end_of_day
from users.access import staff_required
from users.forms.errors import add_domain_error
from users.forms.operations import AdvanceBusinessDateForm, AuditFilterForm

PAGE_SIZE = 50


@staff_required("core.view_auditevent")
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit.audit_events(**{k: v for k, v in filters.items() if v})
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "operations/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@staff_required("core.view_auditevent")
def object_history(request, object_type, object_id):
    events = audit.object_history(object_type, object_id)
    return render(
        request,
        "operations/object_history.html",
        {"events": events, "object_type": object_type, "object_id": object_id},
    )


@staff_required("core.change_businessdate")
def business_date(request):
    current = get_business_date()
    form = AdvanceBusinessDateForm(initial={"to": current + timedelta(days=1)})
    if request.method == "POST" and request.POST.get("action") == "run_eod":
        return _start_end_of_day(request, current, form)
    if request.method == "POST":
        form = AdvanceBusinessDateForm(request.POST)
        if form.is_valid():
            try:
                advance_business_date(to=form.cleaned_data["to"], acting_user=request.user)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request, f"Business date advanced to {form.cleaned_data['to']:%B %-d, %Y}."
                )
                return redirect("business-date")
    return _business_date_page(request, current, form)


def _business_date_page(request, current, form, *, eod_error: str = "", status: int = 200):
    history = audit.audit_events(action="business_date.advanced")[:20]
    active = eod.active_eod_run()
    return render(
        request,
        "operations/business_date.html",
        {
            "form": form,
            "current": current,
            "history": history,
            "eod_runs": eod.recent_eod_runs(10),
            "eod_active": eod.eod_run_progress(active.pk) if active else None,
            "eod_error": eod_error,
        },
        status=status,
    )


def _start_end_of_day(request, current, form):
    """Queue end of day for today's business date and go to its progress
    page at once; the run itself happens in a worker (core.eod)."""
    try:
        started = start_end_of_day(business_date=current, acting_user=request.user)
    except Conflict as exc:
        return _business_date_page(request, current, form, eod_error=exc.message, status=409)
    except DomainError as exc:
        return _business_date_page(request, current, form, eod_error=exc.message, status=400)
    if not started.queued:
        messages.info(
            request,
            f"End of day {current:%B %-d, %Y} had already completed; nothing was run again. "
            f"The business date is {get_business_date():%B %-d, %Y}.",
        )
        return redirect("business-date")
    missed = ""
    if started.missed:
        first, last = started.missed[0], started.missed[-1]
        span = f"{first:%B %-d}" if first == last else f"{first:%B %-d} to {last:%B %-d}"
        missed = f" Missed days close first, one run per day: {span}."
    messages.success(request, f"End of day {current:%B %-d, %Y} started.{missed}")
    return redirect("eod-run", run_id=started.run.pk)


@staff_required("core.change_businessdate")
def eod_run(request, run_id):
    """One end-of-day run: its steps with counts and progress bars and the
    items it failed, refreshed in place (htmx polls `eod_run_progress`)
    until the run ends. POST action=rerun queues its date again (a worker
    retries the failed items only)."""
    try:
        progress = eod.eod_run_progress(run_id)
    except EodRun.DoesNotExist:
        raise Http404("No such end-of-day run.") from None
    error, status = "", 200
    if request.method == "POST" and request.POST.get("action") == "rerun":
        day = progress.run.business_date
        try:
            started = start_end_of_day(business_date=day, acting_user=request.user)
        except DomainError as exc:
            error, status = exc.message, 409 if isinstance(exc, Conflict) else 400
        else:
            if started.queued:
                messages.success(request, f"End of day {day:%B %-d, %Y} started again.")
            return redirect("eod-run", run_id=started.run.pk)
    return render(
        request,
        "operations/eod_run.html",
        {"progress": progress, "eod_error": error},
        status=status,
    )


@staff_required("core.change_businessdate")
def eod_run_progress(request, run_id):
    """The progress fragment alone, for polling; a finished run's fragment
    no longer polls."""
    try:
        progress = eod.eod_run_progress(run_id)
    except EodRun.DoesNotExist:
        raise Http404("No such end-of-day run.") from None
    return render(request, "operations/_eod_progress.html", {"progress": progress})
