"""Adverse action notices: on a decline, a PDF with the principal reasons,
the credit score used and its key factors, the bureau's contact details, the
free-report and dispute rights and the ECOA notice; stored as a
GeneratedDocument and e-mailed to the applicant.

The decline's transaction records the notice: its full content (a JSON
snapshot in the "application.adverse_action_notice" audit event) and a
GeneratedDocument row still without its PDF (sha256 ""). The PDF is
rendered later, once (ensure_rendered locks the row): by the
origination.deliver_adverse_action_notice task queued after commit, which
also e-mails it, or by the first download, whichever comes first. A staff
decline (create_notice) renders at once."""

import logging
from dataclasses import asdict
from datetime import date

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from kombu.exceptions import OperationalError

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.documents import render_pdf
from core.models import AuditCategory, AuditEvent
from core.money import format_money
from origination.decisioning.rules import MAX_PRINCIPAL_REASONS
from origination.decisioning.simulated import SIMULATED_BUREAU_CONTACT
from origination.models import Application, BureauPull, GeneratedDocument
from origination.services.bureau_reports import bureau_adapter

log = logging.getLogger(__name__)

TEMPLATE = "documents/adverse_action.html"
SCORE_LOW, SCORE_HIGH = 300, 850
NOTICE_ACTION = "application.adverse_action_notice"
RENDERED_ACTION = "application.adverse_action_rendered"
EMAILED_ACTION = "application.adverse_action_emailed"
DELIVER_TASK = "origination.deliver_adverse_action_notice"  # origination.tasks

ECOA_NOTICE = (
    "NOTICE: The federal Equal Credit Opportunity Act prohibits creditors from "
    "discriminating against credit applicants on the basis of race, color, religion, "
    "national origin, sex, marital status, age (provided the applicant has the capacity to "
    "enter into a binding contract); because all or part of the applicant's income derives "
    "from any public assistance program; or because the applicant has in good faith "
    "exercised any right under the Consumer Credit Protection Act. The federal agency that "
    "administers compliance with this law concerning this creditor is the Federal Trade "
    "Commission, Equal Credit Opportunity, Washington, DC 20580."
)


def bureau_contact(bureau_name: str):
    """The contact details of the bureau a pull came from (the configured
    adapter's; the simulated bureau's by default)."""
    adapter = bureau_adapter()
    if getattr(adapter, "name", None) == bureau_name and getattr(adapter, "contact", None):
        return adapter.contact
    return SIMULATED_BUREAU_CONTACT


def notice_context(application: Application, reasons: list[dict], pull=None) -> dict:
    """The notice's content as of now, JSON-safe (dates as ISO strings) so
    it can be stored with the decision and rendered later. `pull`: the
    application's latest BureauPull when the caller has it."""
    if pull is None:
        pull = (
            BureauPull.objects.filter(application=application).order_by("-pulled_at", "-id").first()
        )
    score = score_model = None
    key_factors = []
    if pull is not None and pull.status == BureauPull.Status.OK and pull.summary:
        # The parsed figures stored beside the encrypted report: the notice
        # never needs the report itself.
        score, score_model = pull.summary.get("score"), pull.summary.get("score_model")
        key_factors = list(pull.summary.get("key_factors") or [])[:4]
    customer = application.applicant
    addresses = list(customer.addresses.all())
    address = next((a for a in addresses if a.is_primary), addresses[0] if addresses else None)
    lines = []
    if address is not None:
        lines = [
            ", ".join(p for p in (address.line1, address.line2) if p),
            f"{address.city}, {address.state} {address.postal_code}",
        ]
    return {
        "reference": application.reference,
        "notice_date": get_business_date().isoformat(),
        "applicant": {"name": customer.legal_name, "address": lines},
        "lender": {"name": getattr(settings, "PLATFORM_NAME", "Lending Platform")},
        "product_name": application.product.name,
        "requested_amount": format_money(
            application.requested_amount, application.product.currency
        ),
        "requested_term": application.requested_term,
        "reasons": [
            {"code": r["code"], "text": r["text"]} for r in reasons[:MAX_PRINCIPAL_REASONS]
        ],
        "score": score,
        "score_model": score_model,
        "score_date": pull.pulled_at.date().isoformat() if pull else None,
        "score_low": SCORE_LOW,
        "score_high": SCORE_HIGH,
        "key_factors": key_factors,
        "bureau_status": pull.get_status_display().lower() if pull else "",
        "bureau": asdict(bureau_contact(pull.bureau if pull else "")),
        "ecoa_notice": ECOA_NOTICE,
    }


def _principal(reasons: list[dict]) -> list[dict]:
    return [r for r in reasons if r.get("outcome", "decline") == "decline"] or reasons


def record_notice(application: Application, *, reasons: list[dict], acting_user=None, pull=None):
    """Inside the decline's transaction: store the notice's content (audit
    event) and its GeneratedDocument, whose PDF is not rendered yet."""
    principal = _principal(reasons)
    context = notice_context(application, principal, pull)
    document = GeneratedDocument.objects.create(
        application=application, kind=GeneratedDocument.Kind.ADVERSE_ACTION, sha256=""
    )
    audit.record(
        action=NOTICE_ACTION,
        category=AuditCategory.CREATE,
        obj=application,
        metadata={
            "document": document.pk,
            "reasons": [r["code"] for r in context["reasons"]],
            "notice": context,
        },
        actor=actor_of(acting_user),
    )
    return document


def create_notice(application: Application, *, reasons: list[dict], acting_user=None):
    """Record and render the notice now (call inside the decline's
    transaction; the staff decline, which e-mails it after commit)."""
    document = record_notice(application, reasons=reasons, acting_user=acting_user)
    return ensure_rendered(document)


def _events(application: Application, action: str, document: GeneratedDocument):
    """The application's audit events of `action` about `document`."""
    object_type, object_id = audit.object_label(application)
    return AuditEvent.objects.filter(
        object_type=object_type,
        object_id=object_id,
        action=action,
        metadata__document=document.pk,
    )


def _stored_context(document: GeneratedDocument) -> dict:
    """The content recorded with the decline (or, for a notice recorded
    without one, the application's decision reasons as of now)."""
    application = document.application
    event = _events(application, NOTICE_ACTION, document).order_by("-id").first()
    context = dict(event.metadata["notice"]) if event and "notice" in event.metadata else None
    if context is None:
        context = notice_context(application, _principal(application.decision_reasons or []))
    for key in ("notice_date", "score_date"):
        if context.get(key):
            context[key] = date.fromisoformat(context[key])
    return context


def ensure_rendered(document: GeneratedDocument) -> GeneratedDocument:
    """The notice with its PDF: rendered from the stored content and saved
    the first time (the row is locked, so concurrent callers render once);
    an already rendered notice, or any other kind of document, is returned
    as it is. What a download calls before reading the bytes."""
    if document.sha256 or document.kind != GeneratedDocument.Kind.ADVERSE_ACTION:
        return document
    with transaction.atomic():
        locked = (
            GeneratedDocument.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=document.pk)
        )
        if not locked.sha256:
            application = locked.application
            rendered = render_pdf(TEMPLATE, _stored_context(locked))
            locked.file.save(
                f"{application.reference}-adverse-action.pdf",
                ContentFile(rendered.pdf),
                save=False,
            )
            locked.sha256 = rendered.sha256
            locked.save(update_fields=["file", "sha256"])
            audit.record(
                action=RENDERED_ACTION,
                category=AuditCategory.UPDATE,
                obj=application,
                metadata={"document": locked.pk, "sha256": rendered.sha256},
            )
    document.file, document.sha256 = locked.file.name, locked.sha256
    return document


def email_notice(
    application: Application, document: GeneratedDocument, *, raise_errors: bool = False
) -> bool:
    """E-mail the rendered notice to the applicant (if they have an address),
    once: a notice already e-mailed is not sent again. Call after the
    decline has committed. A mail failure is logged, not raised (the notice
    stays available in the portal), unless `raise_errors`: the delivery task
    raises so that Celery retries the e-mail."""
    email = application.applicant.email
    if not email:
        return False
    if _events(application, EMAILED_ACTION, document).exists():
        return False
    message = EmailMessage(
        subject=f"About your loan application {application.reference}",
        body=(
            f"Dear {application.applicant.legal_name},\n\n"
            "We are unable to approve your loan application at this time. The attached notice "
            "explains the principal reasons, the credit score we used and your rights, "
            "including your right to a free copy of your credit report within 60 days.\n\n"
            "You can also see this notice in the borrower portal.\n"
        ),
        to=[email],
    )
    with document.file.open("rb") as fh:
        message.attach(f"{application.reference}-adverse-action.pdf", fh.read(), "application/pdf")
    try:
        message.send()
    except Exception:
        log.exception("adverse action e-mail for %s failed", application.reference)
        if raise_errors:
            raise
        return False
    audit.record(
        action=EMAILED_ACTION,
        category=AuditCategory.UPDATE,
        obj=application,
        metadata={"document": document.pk, "to": email},
    )
    return True


def deliver_notice(document_id: int) -> dict:
    """Render (if need be) and e-mail one notice; what the task runs.
    Idempotent: re-running renders nothing and sends nothing again. A mail
    failure raises, so the task is retried (with backoff)."""
    document = (
        GeneratedDocument.objects.select_related("application__applicant")
        .filter(pk=document_id, kind=GeneratedDocument.Kind.ADVERSE_ACTION)
        .first()
    )
    if document is None:
        return {"document": document_id, "status": "missing"}
    document = ensure_rendered(document)
    sent = email_notice(document.application, document, raise_errors=True)
    return {"document": document_id, "sha256": document.sha256, "emailed": sent}


def _enqueue(document_id: int) -> None:
    # By name: origination.tasks (registered at start-up by the app config)
    # imports this module, never the reverse.
    try:
        current_app.signature(DELIVER_TASK, args=(document_id,)).delay()
    except OperationalError:
        # No broker: deliver here rather than lose the e-mail.
        log.exception("could not queue adverse action notice %s; delivering now", document_id)
        try:
            deliver_notice(document_id)
        except Exception:
            log.exception("adverse action notice %s: delivery failed", document_id)
    except Exception:
        # (eager mode) the notice is still rendered on its first download
        log.exception("adverse action notice %s: delivery failed", document_id)


def schedule_delivery(document: GeneratedDocument) -> None:
    """Queue the render + e-mail of `document` for when the current
    transaction commits (nothing is queued if it rolls back)."""
    document_id = document.pk
    transaction.on_commit(lambda: _enqueue(document_id))
