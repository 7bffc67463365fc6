"""Reads of applications for the staff pages and the REST API: one
application with what its page or its API body shows, the API's list, the
decision trace, and the rows an action names on it (a condition, a
document, a generated document, a bureau pull) or needs (a customer, an
active product, the replayed application of an Idempotency-Key).

Plain values where the API formats them (`application_detail`,
`application_rows`, `decision_trace`); model instances where a page or a
service takes them."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from core.exceptions import NotFound
from core.selectors.audit import object_history
from customers.models import Customer
from origination.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    BureauPull,
    Condition,
    Consent,
    DecisionRecord,
    Disbursement,
    GeneratedDocument,
    LoanProduct,
    Offer,
)

# The list's columns that live on related rows, by the name the API gives them.
LIST_RELATED_FIELDS = {
    "product_code": "product__code",
    "product_version": "product__version",
    "applicant_name": "applicant__legal_name",
}


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


def generated_document_on(app: Application, document_id: int) -> GeneratedDocument:
    """The generated document `document_id` of `app`; NotFound if it is not on it."""
    document = GeneratedDocument.objects.filter(pk=document_id, application=app).first()
    if document is None:
        raise NotFound(f"No generated document {document_id} on application {app.reference}.")
    return document


def bureau_pull_on(app: Application, pull_id: int) -> BureauPull | None:
    """The bureau pull `pull_id` of `app`, or None if it is not on it."""
    return BureauPull.objects.filter(application=app, pk=pull_id).first()


def disbursement_of(app: Application) -> Disbursement | None:
    return Disbursement.objects.filter(application=app).first()


def has_live_offer(app: Application) -> bool:
    """Does `app` have an offer still offered or accepted?"""
    return app.offers.filter(status__in=["offered", "accepted"]).exists()


# --- the REST API --------------------------------------------------------------------------------


def get_application(pk: int) -> Application:
    """The application with its product and applicant; NotFound (404) if none."""
    app = Application.objects.select_related("product", "applicant").filter(pk=pk).first()
    if app is None:
        raise NotFound(f"No application {pk}.")
    return app


def application_for_key(key: str) -> Application | None:
    """The application an API Idempotency-Key created, with its product."""
    return Application.objects.select_related("product").filter(idempotency_key=key).first()


def consent_versions(app: Application) -> set[tuple[str, str]]:
    """(kind, wording_version) of every consent recorded on `app`."""
    return set(app.consents.values_list("kind", "wording_version"))


def customer_by_pk(pk: int) -> Customer | None:
    return Customer.objects.filter(pk=pk).first()


def customer_by_number(number: str) -> Customer | None:
    """The customer whose number is `number` (case-insensitive)."""
    return Customer.objects.filter(customer_number__iexact=number).first()


def active_product(code: str) -> LoanProduct | None:
    """The offered (active) version of product `code`, if any."""
    return LoanProduct.objects.filter(code=code, is_active=True).first()


def application_rows(
    fields, *, state: str = "", product_code: str = "", customer: int | None = None
) -> QuerySet:
    """The API's list, newest first, as value rows: `fields` (columns of
    Application) plus LIST_RELATED_FIELDS. `customer` matches the applicant
    or the co-applicant."""
    rows = Application.objects.order_by("-id")
    if state:
        rows = rows.filter(state=state)
    if product_code:
        rows = rows.filter(product__code=product_code)
    if customer is not None:
        rows = rows.filter(Q(applicant_id=customer) | Q(co_applicant_id=customer))
    expressions = {name: F(path) for name, path in LIST_RELATED_FIELDS.items()}
    return rows.values(*fields, **expressions)


def offer_rows(app: Application) -> list[dict]:
    """Every offer of `app` as value rows, oldest first (rates as fractions)."""
    return list(Offer.objects.filter(application=app).order_by("id").values())


def decision_trace(app: Application) -> dict:
    """Every decision of `app` with its stored trace and inputs, and its
    bureau pulls (without the raw report), oldest first, as value rows."""
    return {
        "decisions": list(
            DecisionRecord.objects.filter(application=app).order_by("created_at", "id").values()
        ),
        "bureau_pulls": list(
            app.bureau_pulls.order_by("pulled_at", "id").values(
                "id", "bureau", "status", "attempts", "score", "pulled_at"
            )
        ),
    }


def application_detail(pk: int) -> tuple[Application, dict]:
    """The application `pk` (product, parties and assignee loaded) and the
    rows the API body shows beside it, as plain values: the latest
    decision's kind and outcome, offers (rates as fractions), documents,
    generated documents, conditions, consents, the timeline (the actor's
    username) and the disbursement (or None). NotFound if there is none."""
    app = (
        Application.objects.select_related("product", "applicant", "co_applicant", "assigned_to")
        .filter(pk=pk)
        .first()
    )
    if app is None:
        raise NotFound(f"No application {pk}.")
    latest = app.decisions.order_by("-created_at", "-id").values("kind", "outcome").first() or {}
    offers = offer_rows(app)
    events = [
        {**e, "actor": e.pop("actor__username")}
        for e in ApplicationEvent.objects.filter(application=app)
        .order_by("at", "id")
        .values("from_state", "to_state", "at", "actor__username", "note")
    ]
    disbursement = app.disbursement if hasattr(app, "disbursement") else None
    rows = {
        "latest_decision": latest,
        "offers": offers,
        "timeline": events,
        "disbursement": disbursement
        and {
            "amount": disbursement.amount,
            "routing_number": disbursement.routing_number,
            "account_last4": disbursement.account_last4,
            "account_type": disbursement.account_type,
            "status": disbursement.status,
            "disbursed_on": disbursement.disbursed_on,
        },
        "documents": list(
            ApplicationDocument.objects.filter(application=app).order_by("id").values()
        ),
        "generated_documents": list(
            GeneratedDocument.objects.filter(application=app).order_by("id").values()
        ),
        "conditions": list(Condition.objects.filter(application=app).order_by("id").values()),
        "consents": list(Consent.objects.filter(application=app).order_by("id").values()),
    }
    return app, rows
