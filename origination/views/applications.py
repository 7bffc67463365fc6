"""Staff application pages (services.applications): the new application a
loan officer takes in the branch, submitting it, the application page with
every section an underwriter needs on one screen, its assign, return and
withdraw actions, and the bureau report.
`_act` is the frame of the page's POST actions (views.underwriting,
views.disbursement): parse, call one service or selector, and render. The
pipeline board is in views.pipeline."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, NotFound, PermissionDenied
from core.money import format_money
from customers.selectors.customers import search_customers
from origination.forms import applications as f
from origination.forms import disbursement as disbursement_forms
from origination.forms import underwriting as underwriting_forms
from origination.models import (
    Application,
    ApplicationState,
    BureauPull,
)
from origination.selectors import applications as selectors_apps
from origination.selectors import pipeline
from origination.services import applications as app_services
from origination.services import bureau_reports, closing
from origination.services.disbursement import DISBURSE_PERMISSION
from origination.services.underwriting import OPEN_FOR_CONDITIONS, blockers
from users.access import staff_required

S = ApplicationState
VIEW = "origination.view_application"
UNDERWRITE = "origination.underwrite_application"
DECIDABLE = (S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED)
BANK_ACCOUNT_STATES = (
    S.SUBMITTED,
    S.IN_UNDERWRITING,
    S.CONDITIONALLY_APPROVED,
    S.APPROVED,
    S.OFFER_ACCEPTED,
    S.DOCUMENTS_SIGNED,
)


# --- new application -------------------------------------------------------------------


def _products():
    return [
        (
            str(p.pk),
            f"{p.name} ({format_money(p.min_amount, p.currency)}"
            f"-{format_money(p.max_amount, p.currency)})",
        )
        for p in selectors_apps.active_products()
    ]


def _render_new(request, form, *, status=200, error=""):
    q = (request.GET.get("q") or "").strip()
    matches = list(search_customers(q)[:20]) if q else []
    chosen = None
    pk = form["customer"].value()
    if pk and str(pk).isdigit():
        chosen = selectors_apps.customer_by_pk(pk)
    return render(
        request,
        "origination/applications/new.html",
        {"form": form, "q": q, "matches": matches, "chosen": chosen, "error": error},
        status=status,
    )


def _attach(form, exc: DomainError) -> None:
    """Put the service's field errors on the form's fields of the same name;
    the rest (state, blockers) is in the message shown above the page."""
    for field, problems in (exc.fields or {}).items():
        if field not in form.fields or form.has_error(field):
            continue
        for problem in problems if isinstance(problems, list | tuple) else [problems]:
            form.add_error(field, str(problem))


@staff_required(VIEW)
def new_application(request):
    if request.method != "POST":
        initial = {"customer": request.GET.get("customer") or None}
        form = f.NewApplicationForm(initial=initial, products=_products())
        return _render_new(request, form)
    form = f.NewApplicationForm(request.POST, products=_products())
    if not form.is_valid():
        return _render_new(request, form, status=400)
    data = form.cleaned_data
    applicant = selectors_apps.customer_by_pk(data["customer"])
    if applicant is None:
        form.add_error("customer", "No such customer.")
        return _render_new(request, form, status=400)
    co_applicant = None
    if data["co_applicant_number"]:
        co_applicant = selectors_apps.customer_by_number(data["co_applicant_number"].strip())
        if co_applicant is None:
            form.add_error("co_applicant_number", "No customer with this number.")
            return _render_new(request, form, status=400)
    product = next(
        (p for p in selectors_apps.active_products() if str(p.pk) == data["product"]), None
    )
    ip = request.META.get("REMOTE_ADDR")
    agent = request.headers.get("User-Agent", "")
    try:
        # One unit: a consent the service refuses leaves no draft behind.
        application = app_services.start_application_with_consents(
            applicant=applicant,
            co_applicant=co_applicant,
            product=product,
            channel=Application.Channel.STAFF,
            data=form.application_data(),
            consents=[
                {
                    "kind": kind,
                    "wording_version": data["consent_version"],
                    "text": text,
                    "ip": ip,
                    "user_agent": agent,
                }
                for kind, text in (
                    ("credit_pull", f.CREDIT_PULL_TEXT),
                    ("e_records", f.E_RECORDS_TEXT),
                )
                if data[f"consent_{kind}"]
            ],
            acting_user=request.user,
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        _attach(form, exc)
        return _render_new(request, form, status=exc.status_code, error=exc.message)
    messages.success(request, f"Application {application.reference} started.")
    return redirect("origination:application-detail", pk=application.pk)


@require_POST
@staff_required(VIEW)
def submit_application(request, pk: int):
    app = _get(pk)
    try:
        if app.state == S.RETURNED:
            app = app_services.resubmit(app, request.user)
        else:
            app = app_services.submit(app, request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        problems = exc.fields if isinstance(exc.fields, dict) else {}
        detail = "; ".join(str(v) for v in problems.values() if isinstance(v, str))
        return render_application(
            request, app, status=exc.status_code, error=f"{exc.message} {detail}".strip()
        )
    app.refresh_from_db()
    messages.success(request, f"Submitted: now {app.get_state_display().lower()}.")
    return redirect("origination:application-detail", pk=pk)


# --- application page -------------------------------------------------------------------


def _get(pk: int) -> Application:
    app = selectors_apps.application_for_staff(pk)
    if app is None:
        raise Http404("No such application.")
    return app


def _bureau(pull: BureauPull | None) -> dict | None:
    """The pull's stored summary (the full report stays encrypted: see
    reveal_bureau_report)."""
    if pull is None or pull.status != BureauPull.Status.OK or not pull.summary:
        return None
    return pull.summary


def _checklist(app: Application, documents) -> list[dict]:
    rows = []
    for required in app.product.required_documents:
        uploads = [d for d in documents if d.kind == required["kind"]]
        if any(d.status == "verified" for d in uploads):
            status = "verified"
        elif uploads:
            status = uploads[0].status  # newest first
        else:
            status = "missing"
        rows.append({"kind": required["kind"], "label": required["label"], "status": status})
    return rows


def _permissions(app: Application, user) -> dict:
    view = user.has_perm(VIEW)
    underwrite = user.has_perm(UNDERWRITE)
    disburse = user.has_perm(DISBURSE_PERMISSION)
    open_ = not app.is_final
    return {
        "submit": view and app.state in (S.DRAFT, S.RETURNED),
        "assign": view and open_,
        "withdraw": view and open_,
        "upload": view and open_,
        "review_documents": underwrite,
        "return": underwrite and app.state in DECIDABLE,
        "approve": underwrite and app.state in DECIDABLE,
        "approve_conditionally": underwrite and app.state in (S.SUBMITTED, S.IN_UNDERWRITING),
        "counter_offer": underwrite and app.state in DECIDABLE,
        "decline": underwrite and app.state in DECIDABLE,
        "conditions": underwrite and app.state in OPEN_FOR_CONDITIONS,
        "bank_account": disburse and app.state in BANK_ACCOUNT_STATES,
        "disburse": disburse and app.state == S.DOCUMENTS_SIGNED,
        "history": user.has_perm("core.view_auditevent"),
        "reveal_bureau_report": user.has_perm(bureau_reports.REVEAL_REPORT_PERMISSION),
    }


def _percent(fraction) -> str:
    """0.269900 -> "26.99" (rates are fractions in code, percent on screen)."""
    return "" if fraction is None else f"{fraction * 100:.2f}"


def _contradicts(app: Application, outcome: str) -> bool:
    return (outcome == "decline" and app.auto_outcome == "approve") or (
        outcome == "approve" and app.auto_outcome == "decline"
    )


def render_application(request, app: Application, *, forms=None, status=200, error=""):
    """The application page; `forms` replaces the blank form of one action
    (re-rendered with its errors) and `status` is the HTTP status."""
    if app.state == S.APPROVED and not selectors_apps.has_live_offer(app):
        try:
            closing.make_offers(application=app, user=request.user)  # idempotent
        except DomainError as exc:
            error = error or f"No offer could be made: {exc.message}"
    data = selectors_apps.application_page_data(app)
    automatic = next((d for d in reversed(data["decisions"]) if d.kind == "automatic"), None)
    trace = automatic.trace if automatic else {}
    can = _permissions(app, request.user)
    kinds = [(d["kind"], d["label"]) for d in app.product.required_documents]
    workers = pipeline.application_workers() if can["assign"] else []
    blank = {
        "assign": f.AssignForm(
            officers=workers, initial={"user": app.assigned_to_id or ""}, prefix="assign"
        ),
        "return": f.ReasonForm(prefix="return"),
        "withdraw": f.ReasonForm(prefix="withdraw"),
        "approve": underwriting_forms.ApproveForm(prefix="approve"),
        "conditional": underwriting_forms.ConditionalForm(prefix="conditional"),
        "counter": underwriting_forms.CounterOfferForm(
            prefix="counter",
            initial={"amount": app.requested_amount, "term": app.requested_term},
        ),
        "decline": underwriting_forms.DeclineForm(prefix="decline"),
        "condition": underwriting_forms.ConditionForm(prefix="condition"),
        "upload": underwriting_forms.UploadForm(kinds=kinds, prefix="upload"),
        "bank": disbursement_forms.BankAccountForm(prefix="bank"),
    }
    blank.update(forms or {})
    sanctions = []
    for screening in trace.get("sanctions") or []:
        url = ""
        if screening.get("hit") and request.user.has_perm("origination.review_compliance"):
            url = reverse("origination:compliance-detail", args=[screening["hit"]])
        sanctions.append({**screening, "url": url})
    disbursement = selectors_apps.disbursement_of(app)
    context = {
        "app": app,
        **data,
        "bureau": _bureau(data["bureau_pull"]),
        "checklist": _checklist(app, data["documents"]),
        "automatic": automatic,
        "rules": (trace.get("rules") or {}).get("trace") or [],
        "scorecard": trace.get("scorecard") or {},
        "kyc": trace.get("kyc") or {},
        "affordability": trace.get("affordability") or {},
        "sanctions": sanctions,
        "blockers": blockers(app) if app.state in DECIDABLE else {},
        "can": can,
        "forms": blank,
        "approve_override": _contradicts(app, "approve"),
        "decline_override": _contradicts(app, "decline"),
        "disbursement": disbursement,
        "percent": {name: _percent(getattr(app, name)) for name in ("approved_rate", "dti", "pti")},
        "error": error,
    }
    return render(request, "origination/applications/detail.html", context, status=status)


def _act(request, pk, prefix, form_class, call, done, *, status_ok=None, **form_kwargs):
    """Validate `form_class` (prefixed), run `call(app, form)`; redirect with
    `done` or re-render the page with the errors and the right status."""
    app = _get(pk)
    form = form_class(request.POST, request.FILES or None, prefix=prefix, **form_kwargs)
    if not form.is_valid():
        return render_application(
            request, app, forms={prefix: form}, status=400, error="Check the form."
        )
    try:
        call(app, form)
    except PermissionDenied as exc:
        return render_application(request, app, forms={prefix: form}, status=403, error=exc.message)
    except DomainError as exc:
        _attach(form, exc)
        return render_application(
            request, app, forms={prefix: form}, status=exc.status_code, error=exc.message
        )
    messages.success(request, done)
    return redirect("origination:application-detail", pk=pk)


def _require(user, permission: str, message: str):
    if not user.has_perm(permission):
        raise PermissionDenied(message, code="not_allowed")


# --- assignment, return, withdraw -----------------------------------------------------------


@require_POST
@staff_required(VIEW)
def assign(request, pk: int):
    def call(app, form):
        value = form.cleaned_data["user"]
        user = None
        if value:
            user = pipeline.user_by_pk(value)
        app_services.assign(app, user, acting_user=request.user)

    return _act(
        request,
        pk,
        "assign",
        f.AssignForm,
        call,
        "Assignment saved.",
        officers=pipeline.application_workers(),
    )


@require_POST
@staff_required(VIEW)
def assign_to_me(request, pk: int):
    app = _get(pk)
    try:
        app_services.assign(app, request.user, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{app.reference} assigned to you.")
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("origination:application-detail", pk=pk)


@require_POST
@staff_required(VIEW)
def return_for_info(request, pk: int):
    def call(app, form):
        _require(request.user, UNDERWRITE, "Your role may not return applications.")
        app_services.return_for_info(app, form.cleaned_data["reason"], acting_user=request.user)

    return _act(request, pk, "return", f.ReasonForm, call, "Returned for information.")


@require_POST
@staff_required(VIEW)
def withdraw(request, pk: int):
    def call(app, form):
        app_services.withdraw(app, form.cleaned_data["reason"], acting_user=request.user)

    return _act(request, pk, "withdraw", f.ReasonForm, call, "Application withdrawn.")


# --- the page ------------------------------------------------------------------------------


@staff_required(VIEW)
def application_detail(request, pk: int):
    return render_application(request, _get(pk))


@never_cache
@require_POST
@staff_required(VIEW, bureau_reports.REVEAL_REPORT_PERMISSION)
def reveal_bureau_report(request, pk: int, pull_pk: int):
    """POST only, so no prefetch or shared link opens a credit report; the
    service audits before it decrypts."""
    app = _get(pk)
    pull = selectors_apps.bureau_pull_on(app, pull_pk)
    if pull is None:
        raise Http404("No such bureau pull on this application.")
    try:
        raw, report = bureau_reports.reveal_bureau_report(pull=pull, acting_user=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    raw_json = json.dumps(raw, indent=2, sort_keys=True)
    context = {"app": app, "pull": pull, "report": report, "raw": raw_json}
    template = (
        "origination/applications/_bureau_report.html"
        if request.headers.get("HX-Request") == "true"
        else "origination/applications/bureau_report.html"
    )
    return render(request, template, context)
