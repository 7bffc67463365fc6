"""Adverse action notices: on a decline, a PDF with the principal reasons,
the credit score used and its key factors, the bureau's contact details, the
free-report and dispute rights and the ECOA notice; stored as a
GeneratedDocument and e-mailed to the applicant."""

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage

from core import audit
from core.businessdate import get_business_date
from core.documents import render_pdf
from core.models import AuditCategory
from origination.decisioning.bureau import parse_report
from origination.decisioning.rules import MAX_PRINCIPAL_REASONS
from origination.models import Application, BureauPull, GeneratedDocument

log = logging.getLogger(__name__)

TEMPLATE = "documents/adverse_action.html"
SCORE_LOW, SCORE_HIGH = 300, 850

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
    from origination.decisioning.simulated import SIMULATED_BUREAU_CONTACT
    from origination.services.decision import bureau_adapter

    adapter = bureau_adapter()
    if getattr(adapter, "name", None) == bureau_name and getattr(adapter, "contact", None):
        return adapter.contact
    return SIMULATED_BUREAU_CONTACT


def notice_context(application: Application, reasons: list[dict]) -> dict:
    pull = BureauPull.objects.filter(application=application).order_by("-pulled_at", "-id").first()
    score = score_model = None
    key_factors = []
    if pull is not None and pull.status == BureauPull.Status.OK and pull.raw:
        report = parse_report(pull.raw)
        score, score_model = report.score, report.score_model
        key_factors = [{"code": f.code, "text": f.text} for f in report.key_factors][:4]
    customer = application.applicant
    address = customer.addresses.filter(is_primary=True).first() or customer.addresses.first()
    lines = []
    if address is not None:
        lines = [
            ", ".join(p for p in (address.line1, address.line2) if p),
            f"{address.city}, {address.state} {address.postal_code}",
        ]
    return {
        "reference": application.reference,
        "notice_date": get_business_date(),
        "applicant": {"name": customer.legal_name, "address": lines},
        "lender": {"name": getattr(settings, "PLATFORM_NAME", "Lending Platform")},
        "product_name": application.product.name,
        "requested_amount": f"{application.requested_amount:,}",
        "requested_term": application.requested_term,
        "reasons": reasons[:MAX_PRINCIPAL_REASONS],
        "score": score,
        "score_model": score_model,
        "score_date": pull.pulled_at.date() if pull else None,
        "score_low": SCORE_LOW,
        "score_high": SCORE_HIGH,
        "key_factors": key_factors,
        "bureau_status": pull.get_status_display().lower() if pull else "",
        "bureau": bureau_contact(pull.bureau if pull else ""),
        "ecoa_notice": ECOA_NOTICE,
    }


def create_notice(application: Application, *, reasons: list[dict], acting_user=None):
    """Render and store the notice (call inside the decline's transaction)."""
    principal = [r for r in reasons if r.get("outcome", "decline") == "decline"] or reasons
    rendered = render_pdf(TEMPLATE, notice_context(application, principal))
    document = GeneratedDocument(
        application=application, kind=GeneratedDocument.Kind.ADVERSE_ACTION, sha256=rendered.sha256
    )
    document.file.save(
        f"{application.reference}-adverse-action.pdf", ContentFile(rendered.pdf), save=False
    )
    document.save()
    audit.record(
        action="application.adverse_action_notice",
        category=AuditCategory.CREATE,
        obj=application,
        metadata={
            "document": document.pk,
            "sha256": rendered.sha256,
            "reasons": [r["code"] for r in principal[:MAX_PRINCIPAL_REASONS]],
        },
        actor=acting_user if getattr(acting_user, "pk", None) else None,
    )
    return document


def email_notice(application: Application, document: GeneratedDocument) -> bool:
    """E-mail the notice to the applicant (if they have an address). Call
    after the decline has committed; a mail failure is logged, not raised
    (the notice stays available in the portal)."""
    email = application.applicant.email
    if not email:
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
        return False
    return True
