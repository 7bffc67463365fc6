"""Borrower portal pages for loan applications (/portal/apply/ and
/portal/applications/, namespace "portal").

Apply is four steps, each saved on the draft (save and resume): 1 the loan
(creates the draft through start_application, channel portal), 2 about you
(employment, income, housing; the identity the bureau needs when the
customer has none on file, through customers.services), 3 the consents with
their exact wording and version, 4 review and submit (the automatic
decision runs) -> the result page.

An application page shows the status timeline, the documents checklist
with upload, open conditions, the offers to choose, then e-sign (consent to
electronic records first, a review page showing the package and its
SHA-256, typed name + "I agree"), the bank account form, the adverse
action notice when declined, and withdrawing (POST with a ticked
confirmation, the reason optional) while the application is not final.

Every application is reached only through get_application_for_customer for
the signed-in borrower's customer: anyone else's is a 404. Writes that
belong to the applicant (not a co-applicant) also 404 for a co-applicant.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError, NotFound
from core.middleware import client_ip
from customers import services as customer_services
from customers.selectors.customers import get_customer_for_user
from origination.forms.portal import (
    CONSENT_VERSION,
    CREDIT_PULL_TEXT,
    E_RECORDS_TEXT,
    AboutStepForm,
    BankAccountForm,
    ConsentsStepForm,
    ERecordsConsentForm,
    LoanStepForm,
    OfferChoiceForm,
    SignForm,
    UploadForm,
    WithdrawForm,
)
from origination.models import FINAL_STATES, Application, ApplicationState, Consent
from origination.selectors import portal as portal_selectors
from origination.selectors.closing import disbursement_for, read_document, signing_package
from origination.selectors.portal import get_application_for_customer
from origination.services import adverse_action, closing
from origination.services import applications as app_services
from origination.services.disbursement import set_bank_account
from origination.services.documents import OTHER_KIND, upload_document
from users.access import borrower_required

S = ApplicationState
EDITABLE = (S.DRAFT, S.RETURNED)
BANK_STATES = (S.APPROVED, S.CONDITIONALLY_APPROVED, S.OFFER_ACCEPTED, S.DOCUMENTS_SIGNED)
STEPS = (
    ("loan", "Your loan"),
    ("about", "About you"),
    ("consents", "Consents"),
    ("review", "Review"),
)


# --- access ------------------------------------------------------------------------


def _customer(request):
    try:
        return get_customer_for_user(request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _application(request, pk: int, *, applicant_only: bool = False) -> Application:
    """The signed-in borrower's application `pk`; Http404 for anyone else's."""
    customer = _customer(request)
    try:
        application = get_application_for_customer(customer, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if applicant_only and application.applicant_id != customer.pk:
        raise Http404("No such application.")
    return application


def _editable(request, pk: int) -> Application:
    application = _application(request, pk, applicant_only=True)
    if application.state not in EDITABLE:
        raise Http404("This application can no longer be edited.")
    return application


def _show_error(form, exc: DomainError, aliases: dict | None = None) -> None:
    """Put a service error on the form: each message on the field it names,
    otherwise at the top."""
    aliases = aliases or {}
    placed = False
    for name, msgs in (exc.fields or {}).items():
        target = aliases.get(name, name)
        if target in form.fields:
            for message in msgs if isinstance(msgs, list | tuple) else [msgs]:
                form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _evidence(request) -> dict:
    return {"ip": client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")}


# --- apply: step state ----------------------------------------------------------------


def step_done(application: Application, customer) -> dict[str, bool]:
    kinds = portal_selectors.consent_kinds(application)
    identity = portal_selectors.identity_on_file(customer)
    return {
        "loan": True,
        "about": bool(application.employment_status)
        and application.gross_monthly_income is not None
        and bool(application.housing_status)
        and identity,
        "consents": {Consent.Kind.CREDIT_PULL, Consent.Kind.E_RECORDS} <= kinds,
    }


def next_step(application: Application, customer) -> str:
    done = step_done(application, customer)
    for key, _label in STEPS[:-1]:
        if not done[key]:
            return key
    return "review"


def _step_url(application: Application, step: str) -> str:
    return reverse(f"portal:apply-{step}", args=[application.pk])


def _steps_context(application, current: str) -> list[dict]:
    return [
        {
            "key": key,
            "label": label,
            "current": key == current,
            "url": reverse(f"portal:apply-{key}", args=[application.pk]) if application else "",
        }
        for key, label in STEPS
    ]


# --- apply ----------------------------------------------------------------------------


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def apply(request, pk: int | None = None):
    """Step 1: the loan. Without `pk` a POST starts the draft; with `pk` it
    updates the draft.

    Without `pk`, while the borrower has an application in progress, the page
    offers to resume it and starts nothing (a POST answers 409): one open
    application per borrower, so a second tab or a double submit cannot pull
    the bureau twice or split the answers; to apply afresh the borrower
    withdraws the one in progress from its page."""
    customer = _customer(request)
    application = _editable(request, pk) if pk is not None else None
    if application is None:
        in_progress = _in_progress(customer)
        if in_progress:
            status = 409 if request.method == "POST" else 200
            return _resume_page(request, customer, in_progress, status=status)
    products = portal_selectors.offered_products()
    if application is not None and application.product not in products:
        products = [application.product, *products]
    initial = {}
    if application is not None:
        initial = {
            "product": str(application.product_id),
            "requested_amount": application.requested_amount,
            "requested_term": application.requested_term,
            "purpose": application.purpose,
        }
    form = LoanStepForm(request.POST or None, products=products, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if application is None:
                application = app_services.start_portal_application(
                    applicant=customer,
                    product=form.chosen_product(),
                    data=form.values(),
                    acting_user=request.user,
                )
            else:
                if form.chosen_product().pk != application.product_id:
                    form.add_error("product", "The loan of a started application cannot change.")
                    raise _FormInvalid
                app_services.update_draft(application, form.values(), acting_user=request.user)
        except _FormInvalid:
            pass
        except DomainError as exc:
            if exc.code == "application_in_progress":  # started in another tab meanwhile
                return _resume_page(request, customer, _in_progress(customer), status=409)
            _show_error(form, exc)
        else:
            return redirect(_step_url(application, "about"))
    return render(
        request,
        "origination/portal/apply_loan.html",
        {
            "form": form,
            "application": application,
            "steps": _steps_context(application, "loan") if application else None,
            "products": products,
        },
    )


def _in_progress(customer) -> list[Application]:
    """The borrower's own applications still being filled in, newest first."""
    return [
        a
        for a in portal_selectors.applications_for_customer(customer)
        if a.state in EDITABLE and a.applicant_id == customer.pk
    ]


def _resume_page(request, customer, applications, *, status: int):
    return render(
        request,
        "origination/portal/apply_resume.html",
        {
            "in_progress": [
                {
                    "application": a,
                    "resume": _step_url(a, next_step(a, customer)),
                    "next_step": dict(STEPS)[next_step(a, customer)],
                }
                for a in applications
            ]
        },
        status=status,
    )


class _FormInvalid(Exception):
    pass


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def apply_about(request, pk: int):
    customer = _customer(request)
    application = _editable(request, pk)
    initial = {name: getattr(application, name) for name in AboutStepForm.application_fields}
    form = AboutStepForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes = form.customer_changes()
            if changes:
                customer_services.update_customer(
                    customer=customer, changes=changes, acting_user=request.user
                )
            address = form.address()
            if address:
                customer_services.add_address(
                    customer=customer, data=address, acting_user=request.user
                )
            app_services.update_draft(
                application, form.application_values(), acting_user=request.user
            )
        except DomainError as exc:
            _show_error(form, exc, {"address.line1": "line1"})
        else:
            return redirect(_step_url(application, "consents"))
    return render(
        request,
        "origination/portal/apply_about.html",
        {"form": form, "application": application, "steps": _steps_context(application, "about")},
    )


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def apply_consents(request, pk: int):
    application = _editable(request, pk)
    kinds = portal_selectors.consent_kinds(application)
    form = ConsentsStepForm(
        request.POST or None,
        initial={
            "credit_pull": Consent.Kind.CREDIT_PULL in kinds,
            "e_records": Consent.Kind.E_RECORDS in kinds,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            for kind, text in (
                (Consent.Kind.CREDIT_PULL, CREDIT_PULL_TEXT),
                (Consent.Kind.E_RECORDS, E_RECORDS_TEXT),
            ):
                app_services.record_consent(
                    application,
                    kind=kind,
                    wording_version=CONSENT_VERSION,
                    text=text,
                    acting_user=request.user,
                    **_evidence(request),
                )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            return redirect(_step_url(application, "review"))
    return render(
        request,
        "origination/portal/apply_consents.html",
        {
            "form": form,
            "application": application,
            "steps": _steps_context(application, "consents"),
            "version": CONSENT_VERSION,
            "credit_pull_text": CREDIT_PULL_TEXT,
            "e_records_text": E_RECORDS_TEXT,
        },
    )


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def apply_review(request, pk: int):
    customer = _customer(request)
    application = _editable(request, pk)
    problems = app_services.submission_problems(application)
    done = step_done(application, customer)
    if not done["about"]:
        problems.setdefault("about", "Complete the “About you” step.")
    error = ""
    if request.method == "POST" and not problems:
        try:
            if application.state == S.RETURNED:
                app_services.resubmit(application, acting_user=request.user)
            else:
                app_services.submit(application, acting_user=request.user)
        except DomainError as exc:
            error = exc.message
            problems = dict(exc.fields or {})
        else:
            return redirect("portal:application-result", application.pk)
    return render(
        request,
        "origination/portal/apply_review.html",
        {
            "application": application,
            "customer": customer,
            "steps": _steps_context(application, "review"),
            "problems": problems,
            "error": error,
            "consents": portal_selectors.consents_given(application),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- applications ----------------------------------------------------------------------


@never_cache
@borrower_required
def applications(request):
    customer = _customer(request)
    rows = []
    for application in portal_selectors.applications_for_customer(customer):
        resume = ""
        if application.state in EDITABLE and application.applicant_id == customer.pk:
            resume = _step_url(application, next_step(application, customer))
        rows.append({"application": application, "resume": resume})
    return render(request, "origination/portal/applications.html", {"rows": rows})


def _detail_context(request, application: Application) -> dict:
    customer = _customer(request)
    kinds = [(d["kind"], d["label"]) for d in application.product.required_documents]
    kinds.append((OTHER_KIND, "Other document"))
    offers = portal_selectors.live_offers(application) if application.state == S.APPROVED else []
    for offer in offers:
        offer.rate_percent = offer.annual_rate * 100
    return {
        "application": application,
        "is_applicant": application.applicant_id == customer.pk,
        "timeline": portal_selectors.timeline(application),
        "checklist": portal_selectors.documents_checklist(application),
        "uploads": portal_selectors.uploaded_documents(application),
        "conditions": portal_selectors.open_conditions(application),
        "offers": offers,
        "offer_form": OfferChoiceForm(offers=offers),
        "accepted": portal_selectors.accepted_offer(application),
        "signature": portal_selectors.signature_of(application),
        "notice": portal_selectors.adverse_action_notice(application),
        "documents": portal_selectors.borrower_documents(application),
        "bank": disbursement_for(application),
        "bank_allowed": application.state in BANK_STATES,
        "upload_form": UploadForm(kinds=kinds),
        "can_upload": not application.is_final,
        "can_withdraw": application.state not in FINAL_STATES,
        "withdraw_form": WithdrawForm(auto_id="withdraw_%s"),
        "resume": _step_url(application, next_step(application, customer))
        if application.state in EDITABLE
        else "",
    }


@never_cache
@borrower_required
def application_detail(request, pk: int):
    application = _application(request, pk)
    return render(
        request, "origination/portal/application.html", _detail_context(request, application)
    )


@never_cache
@borrower_required
def application_result(request, pk: int):
    application = _application(request, pk)
    context = _detail_context(request, application)
    return render(request, "origination/portal/result.html", context)


@never_cache
@borrower_required
@require_POST
def application_upload(request, pk: int):
    application = _application(request, pk, applicant_only=True)
    context = _detail_context(request, application)
    kinds = context["upload_form"].fields["kind"].choices
    form = UploadForm(request.POST, request.FILES, kinds=kinds)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            upload_document(
                application,
                kind=form.cleaned_data["kind"],
                file_name=upload.name,
                data=upload.read(),
                acting_user=request.user,
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, f"We received {upload.name}.")
            return redirect("portal:application-detail", application.pk)
    context["upload_form"] = form
    return render(request, "origination/portal/application.html", context, status=400)


@never_cache
@borrower_required
@require_POST
def application_accept(request, pk: int):
    application = _application(request, pk, applicant_only=True)
    offers = portal_selectors.live_offers(application)
    form = OfferChoiceForm(request.POST, offers=offers)
    if form.is_valid():
        try:
            closing.accept_offer(
                application=application,
                offer_id=form.cleaned_data["offer_id"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Offer accepted. Please review and sign your documents.")
            return redirect("portal:application-sign", application.pk)
    context = _detail_context(request, application)
    context["offer_form"] = form
    return render(request, "origination/portal/application.html", context, status=400)


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def application_consent(request, pk: int):
    """Consent to electronic records (before signing)."""
    application = _application(request, pk, applicant_only=True)
    form = ERecordsConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            app_services.record_consent(
                application,
                kind=Consent.Kind.E_RECORDS,
                wording_version=CONSENT_VERSION,
                text=E_RECORDS_TEXT,
                acting_user=request.user,
                **_evidence(request),
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            return redirect("portal:application-sign", application.pk)
    return render(
        request,
        "origination/portal/consent.html",
        {
            "application": application,
            "form": form,
            "version": CONSENT_VERSION,
            "e_records_text": E_RECORDS_TEXT,
        },
    )


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def application_sign(request, pk: int):
    """Review the package (PDF link and SHA-256) and sign with a typed name."""
    application = _application(request, pk, applicant_only=True)
    if application.state in (S.DOCUMENTS_SIGNED, S.DISBURSED):
        return redirect("portal:application-signed", application.pk)
    if application.state != S.OFFER_ACCEPTED:
        raise Http404("There is nothing to sign.")
    if not portal_selectors.has_e_records_consent(application):
        return redirect("portal:application-consent", application.pk)
    package = signing_package(application)
    if package is None:
        raise Http404("There are no documents to sign.")
    form = SignForm(request.POST or None, initial={"shown_sha256": package.sha256})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                closing.sign_documents(
                    application=application,
                    typed_name=form.cleaned_data["typed_name"],
                    shown_sha256=form.cleaned_data["shown_sha256"],
                    user=request.user,
                    **_evidence(request),
                )
            except DomainError as exc:
                _show_error(form, exc)
                if exc.code == "document_changed":
                    # show the current package and its hash again
                    form = SignForm(
                        {**request.POST.dict(), "shown_sha256": package.sha256},
                        initial={"shown_sha256": package.sha256},
                    )
                    form.is_valid()
                    form.add_error(None, exc.message)
            else:
                messages.success(request, "Thank you — your documents are signed.")
                return redirect("portal:application-signed", application.pk)
    return render(
        request,
        "origination/portal/sign.html",
        {"application": application, "package": package, "form": form},
        status=status,
    )


@never_cache
@borrower_required
def application_package(request, pk: int):
    """The exact package the sign page shows (unsigned PDF)."""
    application = _application(request, pk, applicant_only=True)
    package = signing_package(application) if application.state == S.OFFER_ACCEPTED else None
    if package is None:
        raise Http404("There are no documents to review.")
    response = HttpResponse(package.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{application.reference}-package.pdf"'
    return response


@never_cache
@borrower_required
def application_signed(request, pk: int):
    application = _application(request, pk)
    signature = portal_selectors.signature_of(application)
    if signature is None:
        raise Http404("Not signed yet.")
    return render(
        request,
        "origination/portal/signed.html",
        {
            "application": application,
            "signature": signature,
            "bank": disbursement_for(application),
            "bank_allowed": application.state in BANK_STATES,
        },
    )


@never_cache
@borrower_required
def application_document(request, pk: int, document_id: int):
    """Download one of the application's generated documents (verified bytes)."""
    application = _application(request, pk)
    try:
        document = portal_selectors.generated_document(application, document_id)
        data = read_document(adverse_action.ensure_rendered(document))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{application.reference}-{document.kind}.pdf"'
    )
    return response


@never_cache
@borrower_required
@require_http_methods(["GET", "POST"])
def application_bank(request, pk: int):
    application = _application(request, pk, applicant_only=True)
    if application.state not in BANK_STATES:
        raise Http404("The bank account cannot be set now.")
    form = BankAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            set_bank_account(
                application=application,
                routing_number=form.cleaned_data["routing_number"],
                account_number=form.cleaned_data["account_number"],
                account_type=form.cleaned_data["account_type"],
                user=request.user,
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, "Your bank account is saved.")
            return redirect("portal:application-detail", application.pk)
    return render(
        request,
        "origination/portal/bank.html",
        {
            "application": application,
            "form": form,
            "bank": disbursement_for(application),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- withdraw ------------------------------------------------------------------------------

PORTAL_WITHDRAW_REASON = "Withdrawn by the applicant in the portal."


@never_cache
@borrower_required
@require_POST
def application_withdraw(request, pk: int):
    """Withdraw the borrower's own application; refused (409, with the
    reason on the page) once it is final: disbursed, declined, expired or
    already withdrawn."""
    application = _application(request, pk, applicant_only=True)
    form = WithdrawForm(request.POST, auto_id="withdraw_%s")
    status = 400
    if application.state in FINAL_STATES:
        status = 409
        form.add_error(
            None,
            f"This application is {application.get_state_display().lower()} "
            "and can no longer be withdrawn.",
        )
    elif form.is_valid():
        reason = form.cleaned_data["reason"].strip() or PORTAL_WITHDRAW_REASON
        try:
            app_services.withdraw(application, reason, acting_user=request.user)
        except DomainError as exc:
            status = exc.status_code
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your application is withdrawn.")
            return redirect("portal:application-detail", application.pk)
    application.refresh_from_db()
    context = _detail_context(request, application)
    context["withdraw_form"] = form
    return render(request, "origination/portal/application.html", context, status=status)
