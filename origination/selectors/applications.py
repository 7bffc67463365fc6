"""Reads of one application for the staff pages and the REST API: the
application with what its page shows, and the rows an action names on it
(a condition, a document) or needs (an active product)."""

from __future__ import annotations

from core.exceptions import NotFound
from core.selectors import object_history
from origination.models import Application, ApplicationDocument, Condition, LoanProduct


def active_products() -> list[LoanProduct]:
    return list(LoanProduct.objects.filter(is_active=True).order_by("name"))


def application_for_staff(pk: int) -> Application | None:
    return (
        Application.objects.select_related(
            "product", "applicant", "co_applicant", "assigned_to", "created_by"
        )
        .filter(pk=pk)
        .first()
    )


def application_page_data(app: Application) -> dict:
    """Everything the application page shows besides the application row."""
    return {
        "events": list(app.events.select_related("actor").order_by("at", "id")),
        "consents": list(app.consents.order_by("given_at", "id")),
        "documents": list(app.documents.select_related("uploaded_by", "reviewed_by")),
        "bureau_pull": app.bureau_pulls.order_by("-pulled_at", "-id").first(),
        "decisions": list(app.decisions.select_related("created_by").order_by("created_at", "id")),
        "conditions": list(app.conditions.select_related("created_by", "resolved_by")),
        "offers": list(app.offers.order_by("-id")),
        "generated": list(app.generated_documents.select_related("offer").order_by("-id")),
        "history": list(object_history("origination.application", app.pk)),
    }


def condition_on(app: Application, condition_id: int) -> Condition:
    """The condition `condition_id` of `app`; NotFound if it is not on it."""
    condition = Condition.objects.filter(pk=condition_id, application=app).first()
    if condition is None:
        raise NotFound(f"No condition {condition_id} on application {app.reference}.")
    return condition


def document_on(app: Application, document_id: int) -> ApplicationDocument:
    """The uploaded document `document_id` of `app`; NotFound if it is not on it."""
    document = ApplicationDocument.objects.filter(pk=document_id, application=app).first()
    if document is None:
        raise NotFound(f"No document {document_id} on application {app.reference}.")
    return document
