"""Staff underwriting (services.underwriting, services.documents): the
underwriting queue and the POST actions of the application page that
decide it (approve, approve conditionally, counter-offer, decline), its
conditions and its documents. Assignment, return and withdrawal are in
views.applications, funding in views.disbursement.

Each action parses its form, calls one service (the underwriting ones
through forms.underwriting, shared with the REST API) and redirects to the
application page (views.applications._act); a refusal re-renders the page
with the form's errors, the service's message and its status (400 invalid,
403 not allowed, 409 wrong state); a condition or document not on the
application is a 404."""

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.businessdate import get_business_date
from core.exceptions import DomainError, NotFound
from origination.forms import underwriting as f
from origination.models import ApplicationDocument
from origination.selectors import closing as selectors_closing
from origination.selectors import pipeline
from origination.selectors.applications import document_on
from origination.services import adverse_action
from origination.services import documents as document_services
from origination.views.applications import (
    UNDERWRITE,
    VIEW,
    _act,
    _get,
)
from origination.views.pipeline import _officer_filter
from users.access import staff_required

# --- underwriting queue ---------------------------------------------------------------


@staff_required(UNDERWRITE)
def queue(request):
    today = get_business_date()
    form = f.QueueFilterForm(request.GET or None, officers=pipeline.application_workers())
    assigned = form.cleaned_data.get("assigned", "") if form.is_bound and form.is_valid() else ""
    cards = pipeline.underwriting_queue(
        today=today, officer=_officer_filter(assigned, request.user)
    )
    return render(
        request,
        "origination/applications/queue.html",
        {"form": form, "cards": cards, "today": today, "next": request.get_full_path()},
    )


# --- the generic action -------------------------------------------------------------------


def _shared(action, request, **ids):
    """The `call` of _act for a shared underwriting action (forms.underwriting)
    on the form's data; a condition or document not on the application is a 404."""

    def call(app, form):
        try:
            action(app, request.user, form.cleaned_data, **ids)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return call


def _action_view(prefix: str, form_class, action, done: str):
    """The staff POST view of a shared underwriting action without ids: the
    form `form_class` (prefixed `prefix`), then `action`; `done` on success."""

    def view(request, pk: int):
        return _act(request, pk, prefix, form_class, _shared(action, request), done)

    view.__name__ = view.__qualname__ = action.__name__
    return require_POST(staff_required(VIEW)(view))


# --- decisions ---------------------------------------------------------------------------------


approve = _action_view("approve", f.ApproveForm, f.approve, "Approved; offers are ready.")


@require_POST
@staff_required(VIEW)
def approve_conditionally(request, pk: int):
    def call(app, form):
        data = {**form.cleaned_data, "conditions": form.condition_lines()}
        f.approve_conditionally(app, request.user, data)

    return _act(
        request, pk, "conditional", f.ConditionalForm, call, "Approved subject to conditions."
    )


counter_offer = _action_view(
    "counter", f.CounterOfferForm, f.counter_offer, "Counter-offer approved."
)
decline = _action_view(
    "decline", f.DeclineForm, f.decline, "Declined; the adverse action notice is sent."
)


# --- conditions ------------------------------------------------------------------------------


add_condition = _action_view("condition", f.ConditionForm, f.add_condition, "Condition added.")


@require_POST
@staff_required(VIEW)
def resolve_condition(request, pk: int, condition_id: int, action: str):
    resolve = f.satisfy_condition if action == "satisfy" else f.waive_condition
    call = _shared(resolve, request, condition_id=condition_id)
    done = "Condition satisfied." if action == "satisfy" else "Condition waived."
    return _act(request, pk, f"resolve{condition_id}", f.ResolveConditionForm, call, done)


# --- documents -----------------------------------------------------------------------------------


def _document(app, document_id: int) -> ApplicationDocument:
    try:
        return document_on(app, document_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_POST
@staff_required(VIEW)
def upload_document(request, pk: int):
    app = _get(pk)
    kinds = [(d["kind"], d["label"]) for d in app.product.required_documents]

    def call(app, form):
        upload = form.cleaned_data["file"]
        document_services.upload_document(
            app,
            kind=form.cleaned_data["kind"],
            file_name=upload.name,
            data=upload.read(),
            acting_user=request.user,
        )

    return _act(request, pk, "upload", f.UploadForm, call, "Document uploaded.", kinds=kinds)


@require_POST
@staff_required(VIEW)
def verify_document(request, pk: int, document_id: int):
    call = _shared(f.verify_document, request, document_id=document_id)
    return _act(request, pk, f"doc{document_id}", f.ResolveConditionForm, call, "Verified.")


@require_POST
@staff_required(VIEW)
def reject_document(request, pk: int, document_id: int):
    call = _shared(f.reject_document, request, document_id=document_id)
    return _act(request, pk, f"reject{document_id}", f.RejectDocumentForm, call, "Rejected.")


@staff_required(VIEW)
def download_document(request, pk: int, document_id: int):
    document = _document(_get(pk), document_id)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@staff_required(VIEW)
def download_generated(request, pk: int, document_id: int):
    try:
        document = selectors_closing.generated_document(document_id)
        if document.application_id != pk:
            raise Http404("No such document.")
        data = selectors_closing.read_document(adverse_action.ensure_rendered(document))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain")
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{document.application.reference}-{document.kind}-{document.pk}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
