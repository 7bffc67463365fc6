"""Underwriting: conditions, approve, approve conditionally, counter-offer,
decline, with the authority limit and overrides of the automatic outcome."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from core import audit
from core.audit import actor_of
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditCategory, AuditEvent
from core.money import format_money
from origination.decisioning.reasons import REASONS, Reason
from origination.decisioning.rules import MAX_PRINCIPAL_REASONS
from origination.models import (
    Application,
    ApplicationState,
    Condition,
    DecisionRecord,
    SanctionsHit,
)
from origination.services import adverse_action, kyc
from origination.services._common import (
    UNDERWRITE_PERMISSION,
    apply_transition,
    check_can,
    lock,
    require_perm,
)
from origination.services.closing import make_offers
from origination.services.documents import missing_documents
from origination.services.products import price_for

S = ApplicationState
UNDERWRITER_LIMIT = Decimal("25000")
ABOVE_LIMIT_PERMISSION = "origination.approve_above_limit"
OPEN_FOR_CONDITIONS = (S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED)


def _underwriter(user) -> None:
    require_perm(user, UNDERWRITE_PERMISSION, "Your role may not underwrite applications.")


def _check_authority(amount: Decimal, user) -> None:
    if amount > UNDERWRITER_LIMIT and not user.has_perm(ABOVE_LIMIT_PERMISSION):
        raise PermissionDenied(
            f"Approving {format_money(amount)} is above the underwriter limit of "
            f"{format_money(UNDERWRITER_LIMIT)}; "
            "a manager must approve it.",
            code="above_authority_limit",
        )


def _subjects(app: Application) -> dict[int, str]:
    """{customer id: name} of the applicant and co-applicant."""
    subjects = {app.applicant_id: app.applicant.legal_name}
    if app.co_applicant_id:
        subjects[app.co_applicant_id] = app.co_applicant.legal_name
    return subjects


def _unscreened(app: Application, subjects: dict[int, str]) -> list[str]:
    """Names of the subjects whose screening was unavailable at the latest
    automatic decision (no sanctions list: the application was referred)
    and has not succeeded since. A successful screening for this
    application is audited ("sanctions.screened"); a failed one is not."""
    record = (
        DecisionRecord.objects.filter(application=app, kind=DecisionRecord.Kind.AUTOMATIC)
        .order_by("-created_at", "-id")
        .first()
    )
    if record is None:
        return []
    failed = [
        s.get("customer")
        for s in (record.trace or {}).get("sanctions") or []
        if s.get("status") == "unavailable"
    ]
    names = []
    for customer_id in failed:
        screened = AuditEvent.objects.filter(
            action="sanctions.screened",
            object_type=app.applicant._meta.label_lower,
            object_id=str(customer_id),
            occurred_at__gte=record.created_at,
            metadata__application_id=app.pk,
        ).exists()
        if not screened:
            names.append(subjects.get(customer_id) or f"customer {customer_id}")
    return names


def sanctions_blockers(app: Application) -> list[str]:
    """What stops approval on sanctions grounds: a hit of the applicant or
    co-applicant for this application still open (awaiting compliance
    review) or confirmed, or a screening that was unavailable at the
    decision and has not succeeded since."""
    subjects = _subjects(app)
    found = []
    hits = SanctionsHit.objects.filter(
        application_id=app.pk,
        customer_id__in=list(subjects),
        status__in=(SanctionsHit.Status.POTENTIAL_MATCH, SanctionsHit.Status.CONFIRMED),
    ).order_by("created_at", "id")
    for hit in hits:
        name = subjects.get(hit.customer_id) or hit.screened_name
        if hit.is_open:
            found.append(f"sanctions hit {hit.pk} on {name} awaits compliance review")
        else:
            found.append(f"sanctions hit {hit.pk} on {name} is a confirmed match")
    for name in _unscreened(app, subjects):
        found.append(f"sanctions screening of {name} was unavailable and has not been run since")
    return found


def blockers(app: Application) -> dict[str, list]:
    """What stops approval: required documents not verified, open
    conditions, sanctions (open or confirmed hits, screening unavailable)."""
    found = {}
    documents = missing_documents(app)
    if documents:
        found["documents"] = [f"{d['label']} ({d['status']})" for d in documents]
    conditions = list(
        app.conditions.filter(status=Condition.Status.OPEN).values_list("text", flat=True)
    )
    if conditions:
        found["conditions"] = conditions
    sanctions = sanctions_blockers(app)
    if sanctions:
        found["sanctions"] = sanctions
    return found


def _blocked(app: Application, found: dict[str, list]) -> Conflict:
    parts = []
    if "sanctions" in found:
        parts.append("sanctions: " + "; ".join(found["sanctions"]))
    if "documents" in found:
        parts.append("required documents not verified: " + "; ".join(found["documents"]))
    if "conditions" in found:
        parts.append("open conditions: " + "; ".join(found["conditions"]))
    return Conflict(
        f"Application {app.reference} cannot be approved yet — " + "; ".join(parts) + ".",
        code="approval_blocked",
        fields=found,
    )


def _check_blockers(app: Application) -> None:
    found = blockers(app)
    if found:
        raise _blocked(app, found)


def _check_sanctions(app: Application) -> None:
    """Sanctions alone (a conditional approval may leave documents and
    conditions open, never a sanctions question)."""
    sanctions = sanctions_blockers(app)
    if sanctions:
        raise _blocked(app, {"sanctions": sanctions})


def _override_kind(app: Application, outcome: str, override_reason: str):
    """DecisionRecord kind for an underwriter decision; an outcome contrary
    to the automatic one is an override and needs a reason."""
    contrary = (outcome == "decline" and app.auto_outcome == "approve") or (
        outcome in ("approve", "conditional") and app.auto_outcome == "decline"
    )
    if not contrary:
        return DecisionRecord.Kind.UNDERWRITER
    if not (override_reason or "").strip():
        raise ValidationFailed(
            f"The automatic decision was to {app.auto_outcome}; overriding it needs a reason.",
            code="override_reason_required",
            fields={"override_reason": "Give the reason for overriding the automatic decision."},
        )
    return DecisionRecord.Kind.OVERRIDE


def _rate(app: Application, term: int, annual_rate) -> Decimal:
    if annual_rate is not None:
        rate = Decimal(str(annual_rate))
        if not (Decimal(0) <= rate < Decimal(1)):
            raise ValidationFailed(
                "Give the rate as an annual fraction.",
                fields={"annual_rate": "Between 0 and 1 (0.1299 for 12.99%)."},
            )
        return rate
    rate = price_for(app.product, app.credit_score, term)
    if rate is None:
        raise ValidationFailed(
            "The pricing grid has no rate for this score and term; give the rate.",
            code="cannot_price",
            fields={"annual_rate": "No grid price for this application; give the rate."},
        )
    return rate


def _record(app, *, kind, outcome, reasons=(), note="", user, extra=None):
    return DecisionRecord.objects.create(
        application=app,
        kind=kind,
        outcome=outcome,
        reasons=list(reasons),
        trace={"underwriter": user.get_username(), **(extra or {})},
        inputs={
            "auto_outcome": app.auto_outcome,
            "credit_score": app.credit_score,
            "dti": str(app.dti) if app.dti is not None else None,
            "pti": str(app.pti) if app.pti is not None else None,
        },
        note=note,
        created_by=user,
    )


# --- conditions ------------------------------------------------------------------


def add_condition(application: Application, text: str, acting_user) -> Condition:
    _underwriter(acting_user)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(
            "Describe the condition.", fields={"text": "This field is required."}
        )
    with transaction.atomic():
        app = lock(application)
        if app.state not in OPEN_FOR_CONDITIONS:
            raise Conflict(
                f"Cannot add a condition to application {app.reference}: it is "
                f"{app.get_state_display().lower()}.",
                code="invalid_transition",
                fields={"state": app.state, "action": "add_condition"},
            )
        condition = Condition.objects.create(application=app, text=text, created_by=acting_user)
        audit.record(
            action="application.condition_added",
            category=AuditCategory.CREATE,
            obj=condition,
            metadata={"application": app.pk, "text": text},
            actor=acting_user,
        )
    return condition


def _resolve(condition: Condition, status: str, acting_user, note: str) -> Condition:
    _underwriter(acting_user)
    with transaction.atomic():
        lock(condition.application)
        locked = Condition.objects.select_for_update().get(pk=condition.pk)
        if locked.status == status:
            return locked
        if locked.status != Condition.Status.OPEN:
            raise Conflict(
                f"This condition is already {locked.get_status_display().lower()}.",
                code="condition_resolved",
                fields={"status": locked.status},
            )
        locked.status = status
        locked.resolved_by = acting_user
        locked.resolved_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["status", "resolved_by", "resolved_at", "note"])
        audit.record(
            action=f"application.condition_{status}",
            category=AuditCategory.STATE_CHANGE,
            obj=locked,
            changes={"status": ["open", status]},
            metadata={"application": locked.application_id, "note": note},
            actor=acting_user,
        )
    return locked


def satisfy_condition(condition: Condition, acting_user, note: str = "") -> Condition:
    return _resolve(condition, Condition.Status.SATISFIED, acting_user, (note or "").strip())


def waive_condition(condition: Condition, acting_user, note: str) -> Condition:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            "Give the reason for waiving the condition.", fields={"note": "This field is required."}
        )
    return _resolve(condition, Condition.Status.WAIVED, acting_user, note)


# --- decisions -------------------------------------------------------------------


def _approve(
    application, *, acting_user, amount, term, annual_rate, note, override_reason, kind_override
):
    _underwriter(acting_user)
    with transaction.atomic():
        app = lock(application)
        check_can(app, "approve")
        amount = Decimal(str(amount if amount is not None else app.requested_amount))
        term = int(term if term is not None else app.requested_term)
        _check_blockers(app)
        _check_authority(amount, acting_user)
        kind = kind_override or _override_kind(app, "approve", override_reason)
        rate = _rate(app, term, annual_rate)
        app.approved_amount, app.approved_term, app.approved_rate = amount, term, rate
        app.decided_at = timezone.now()
        text = "; ".join(p for p in (note, override_reason) if p)
        _record(
            app,
            kind=kind,
            outcome=DecisionRecord.Outcome.APPROVE,
            note=text,
            user=acting_user,
            extra={
                "approved_amount": str(amount),
                "approved_term": term,
                "approved_rate": str(rate),
                "override_reason": override_reason or "",
            },
        )
        apply_transition(
            app,
            "approve",
            acting_user=acting_user,
            note=text or "Approved by underwriter",
            fields=("approved_amount", "approved_term", "approved_rate", "decided_at"),
            metadata={"kind": kind, "amount": amount, "term": term, "rate": rate},
        )
        make_offers(application=app, user=acting_user)
    return app


def approve(
    application: Application,
    acting_user,
    *,
    note: str = "",
    annual_rate=None,
    override_reason: str = "",
) -> Application:
    """Approve the requested terms at the grid rate (or `annual_rate` when
    the grid cannot price). Blocked (409, with the list) while required
    documents are not verified or conditions are open; above
    UNDERWRITER_LIMIT needs origination.approve_above_limit (403)."""
    return _approve(
        application,
        acting_user=acting_user,
        amount=None,
        term=None,
        annual_rate=annual_rate,
        note=(note or "").strip(),
        override_reason=(override_reason or "").strip(),
        kind_override=None,
    )


def counter_offer(
    application: Application,
    acting_user,
    *,
    amount,
    term: int,
    note: str = "",
    annual_rate=None,
    override_reason: str = "",
) -> Application:
    """Approve different terms than requested (within the product's limits)."""
    product = application.product
    errors = {}
    try:
        amount = Decimal(str(amount))
    except ArithmeticError:
        errors["amount"] = "Not an amount."
    else:
        if not (product.min_amount <= amount <= product.max_amount):
            errors["amount"] = (
                f"Enter an amount between {format_money(product.min_amount, product.currency)} and "
                f"{format_money(product.max_amount, product.currency)}."
            )
    if product.allowed_terms and term not in product.allowed_terms:
        errors["term"] = "Choose one of the product's terms."
    if errors:
        raise ValidationFailed("The counter-offer is outside the product.", fields=errors)
    _override_kind(application, "approve", override_reason)
    return _approve(
        application,
        acting_user=acting_user,
        amount=amount,
        term=term,
        annual_rate=annual_rate,
        note=(note or "").strip() or f"Counter-offer: {format_money(amount)} over {term} months",
        override_reason=(override_reason or "").strip(),
        kind_override=DecisionRecord.Kind.COUNTER_OFFER,
    )


def approve_conditionally(
    application: Application,
    acting_user,
    *,
    conditions: list[str],
    note: str = "",
    annual_rate=None,
    override_reason: str = "",
) -> Application:
    """Approve subject to `conditions` (at least one); they must be
    satisfied or waived before the final approval."""
    _underwriter(acting_user)
    texts = [c.strip() for c in conditions or [] if c and c.strip()]
    if not texts:
        raise ValidationFailed(
            "A conditional approval needs at least one condition.",
            fields={"conditions": "Give at least one condition."},
        )
    with transaction.atomic():
        app = lock(application)
        check_can(app, "approve_conditionally")
        _check_sanctions(app)
        _check_authority(app.requested_amount, acting_user)
        kind = _override_kind(app, "conditional", override_reason)
        rate = _rate(app, app.requested_term, annual_rate)
        app.approved_amount = app.requested_amount
        app.approved_term = app.requested_term
        app.approved_rate = rate
        created = [
            Condition.objects.create(application=app, text=t, created_by=acting_user) for t in texts
        ]
        _record(
            app,
            kind=kind,
            outcome=DecisionRecord.Outcome.CONDITIONAL,
            note="; ".join(p for p in (note, override_reason) if p),
            user=acting_user,
            extra={"conditions": texts, "approved_rate": str(rate)},
        )
        apply_transition(
            app,
            "approve_conditionally",
            acting_user=acting_user,
            note="Conditions: " + "; ".join(texts),
            fields=("approved_amount", "approved_term", "approved_rate"),
            metadata={"conditions": [c.pk for c in created]},
        )
    return app


def _reason(item) -> Reason:
    """A principal reason of a staff decline: a {"code", "text"} dict, a
    catalogue code or a text of the underwriter's own (code OTHER)."""
    if isinstance(item, dict):
        code = item.get("code", "OTHER")
        return Reason(code, item.get("text") or REASONS.get(code, code), "decline")
    text = str(item).strip()
    if text in REASONS:
        return Reason.of(text, "decline")
    return Reason("OTHER", text, "decline")


def _decline_locked(app: Application, acting_user, *, principal, note, override_reason):
    """Decline a locked application (inside the caller's transaction):
    decision record, transition, adverse action notice (rendered, not yet
    e-mailed: the caller e-mails it after commit). Returns the notice."""
    check_can(app, "decline")
    kind = _override_kind(app, "decline", override_reason)
    app.decided_at = timezone.now()
    app.decision_reasons = [r.as_dict() for r in principal]
    text = "; ".join(p for p in (note.strip(), (override_reason or "").strip()) if p)
    _record(
        app,
        kind=kind,
        outcome=DecisionRecord.Outcome.DECLINE,
        reasons=app.decision_reasons,
        note=text,
        user=acting_user,
        extra={"override_reason": override_reason or ""},
    )
    apply_transition(
        app,
        "decline",
        acting_user=acting_user,
        note=text or "Declined: " + "; ".join(r.text for r in principal),
        fields=("decided_at", "decision_reasons"),
        metadata={"kind": kind, "reasons": [r.code for r in principal]},
    )
    return adverse_action.create_notice(
        app, reasons=app.decision_reasons, acting_user=actor_of(acting_user)
    )


def decline(
    application: Application, acting_user, *, reasons: list, note: str = "", override_reason=""
) -> Application:
    """Decline with 1-4 principal reasons (reason codes from the catalogue
    or texts); an adverse action notice is produced and e-mailed."""
    _underwriter(acting_user)
    principal = [_reason(r) for r in reasons or [] if r]
    if not principal or len(principal) > MAX_PRINCIPAL_REASONS:
        raise ValidationFailed(
            "Give one to four principal reasons for the decline.",
            fields={"reasons": "Give one to four principal reasons."},
        )
    with transaction.atomic():
        app = lock(application)
        notice = _decline_locked(
            app, acting_user, principal=principal, note=note, override_reason=override_reason
        )
    adverse_action.email_notice(app, notice)
    return app


SANCTIONS_DECLINE_CODE = "SANCTIONS_MATCH"


def decline_for_sanctions(hit: SanctionsHit, acting_user):
    """Decline the application of a just-confirmed sanctions hit, inside
    the confirmation's transaction, with the confirmer as actor: the
    normal decline (decision record, "application.decline", adverse action
    notice). Returns (application, notice) for the caller to e-mail after
    commit, or None when the hit has no application or its state cannot
    be declined (the confirmed hit still blocks any approval). The
    confirmer's compliance permission is checked by the caller."""
    if not hit.application_id:
        return None
    app = Application.objects.select_for_update().filter(pk=hit.application_id).first()
    if app is None or not can_proceed(app.decline):
        return None
    principal = [Reason.of(SANCTIONS_DECLINE_CODE, "decline")]
    contrary = app.auto_outcome == "approve"
    notice = _decline_locked(
        app,
        acting_user,
        principal=principal,
        note=f"Sanctions hit {hit.pk} confirmed: {hit.decision_reason}",
        override_reason="Confirmed sanctions match" if contrary else "",
    )
    return app, notice


def confirm_hit(*, hit: SanctionsHit, acting_user, reason: str) -> SanctionsHit:
    """Confirm an open sanctions hit as a true match (kyc.mark_confirmed: a
    person holding origination.review_compliance, a non-blank reason, an
    open hit). In the same transaction the hit's application, if its state
    allows a decline, is declined through the normal decline (reason
    SANCTIONS_MATCH, the confirmer as actor, an adverse action notice,
    e-mailed after commit); otherwise the confirmed hit keeps blocking its
    approval (blockers)."""
    with transaction.atomic():
        decided = kyc.mark_confirmed(hit=hit, acting_user=acting_user, reason=reason)
        declined = decline_for_sanctions(decided, acting_user)
    if declined is not None:
        adverse_action.email_notice(*declined)
    return decided
