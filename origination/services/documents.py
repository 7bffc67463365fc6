"""Applicant documents: upload (content-checked, stored through Django
storage with its SHA-256), underwriter verification or rejection, and the
product's checklist."""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.exceptions import Conflict, ValidationFailed
from core.models import AuditCategory
from origination.models import Application, ApplicationDocument
from origination.services._common import UNDERWRITE_PERMISSION, lock, require_perm
from origination.uploads import validate_upload

OTHER_KIND = "other"


def _max_bytes() -> int:
    return getattr(settings, "ORIGINATION_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)


def upload_document(
    application: Application, *, kind: str, file_name: str, data: bytes, acting_user=None
) -> ApplicationDocument:
    """Store an applicant document. The type is checked from the content
    (PDF, JPEG, PNG; ValidationFailed 400 otherwise, nothing written).
    `kind` is one of the product's required document kinds or "other"."""
    kinds = {d["kind"] for d in application.product.required_documents} | {OTHER_KIND}
    if kind not in kinds:
        raise ValidationFailed(
            "Unknown document kind.",
            fields={"kind": "Choose one of: " + ", ".join(sorted(kinds)) + "."},
        )
    check = validate_upload(file_name, data, _max_bytes())
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        app = lock(application)
        if app.is_final:
            raise Conflict(
                f"Application {app.reference} is {app.get_state_display().lower()}; "
                "no documents can be added.",
                code="invalid_transition",
                fields={"state": app.state, "action": "upload_document"},
            )
        document = ApplicationDocument(
            application=app,
            kind=kind,
            original_name=(file_name or "upload")[-255:],
            content_type=check.content_type,
            size=len(data),
            sha256=digest,
            uploaded_by=actor_of(acting_user),
        )
        document.file.save(
            f"{app.reference}-{kind}{check.extension}", ContentFile(data), save=False
        )
        document.save()
        audit.record(
            action="application.document_uploaded",
            category=AuditCategory.CREATE,
            obj=document,
            metadata={
                "application": app.pk,
                "kind": kind,
                "sha256": digest,
                "size": len(data),
                "content_type": check.content_type,
            },
            actor=actor_of(acting_user),
        )
    return document


def _review(document, *, status: str, acting_user, reason: str = "") -> ApplicationDocument:
    require_perm(acting_user, UNDERWRITE_PERMISSION, "Your role may not review documents.")
    with transaction.atomic():
        lock(document.application)
        doc = ApplicationDocument.objects.select_for_update().get(pk=document.pk)
        if doc.status == status and doc.rejection_reason == reason:
            return doc
        if doc.status != ApplicationDocument.Status.UPLOADED:
            raise Conflict(
                f"This document was already {doc.get_status_display().lower()}.",
                code="already_reviewed",
                fields={"status": doc.status},
            )
        before = doc.status
        doc.status = status
        doc.rejection_reason = reason
        doc.reviewed_by = acting_user
        doc.reviewed_at = timezone.now()
        doc.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
        audit.record(
            action=f"application.document_{status}",
            category=AuditCategory.STATE_CHANGE,
            obj=doc,
            changes={"status": [before, status]},
            metadata={"application": doc.application_id, "kind": doc.kind, "reason": reason},
            actor=acting_user,
        )
    return doc


def verify_document(document: ApplicationDocument, acting_user) -> ApplicationDocument:
    return _review(document, status=ApplicationDocument.Status.VERIFIED, acting_user=acting_user)


def reject_document(document: ApplicationDocument, reason: str, acting_user) -> ApplicationDocument:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason for rejecting the document.",
            fields={"reason": "This field is required."},
        )
    return _review(
        document, status=ApplicationDocument.Status.REJECTED, acting_user=acting_user, reason=reason
    )


def missing_documents(application: Application) -> list[dict]:
    """The product's required documents without a verified upload:
    [{"kind", "label", "status"}] where status is "missing", "uploaded"
    (awaiting review) or "rejected"."""
    latest: dict[str, str] = {}
    verified: set[str] = set()
    for kind, status in application.documents.order_by("id").values_list("kind", "status"):
        latest[kind] = status
        if status == ApplicationDocument.Status.VERIFIED:
            verified.add(kind)
    return [
        {"kind": d["kind"], "label": d["label"], "status": latest.get(d["kind"], "missing")}
        for d in application.product.required_documents
        if d["kind"] not in verified
    ]
