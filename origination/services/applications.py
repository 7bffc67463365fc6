"""Applications: start, edit the draft, consents, submit (with the automatic
decision), return for information, resubmit, withdraw, expire, assign."""

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditCategory
from core.money import format_money
from customers.models import Customer
from origination.models import (
    Application,
    ApplicationEvent,
    ApplicationState,
    Consent,
    LoanProduct,
)
from origination.services._common import (
    apply_transition,
    check_can,
    lock,
    require_perm,
)
from origination.services.decision import run_decision

S = ApplicationState

# Fields of an application the applicant (or staff for them) may set while it is editable.
EDITABLE_FIELDS = (
    "requested_amount",
    "requested_term",
    "purpose",
    "employment_status",
    "employer",
    "employment_months",
    "gross_monthly_income",
    "housing_status",
    "housing_cost",
    "other_obligations",
)
EDITABLE_STATES = (S.DRAFT, S.RETURNED)
REQUIRED_CONSENTS = (Consent.Kind.CREDIT_PULL, Consent.Kind.E_RECORDS)
EXPIRABLE_STATES = (
    S.DRAFT,
    S.SUBMITTED,
    S.RETURNED,
    S.APPROVED,
    S.CONDITIONALLY_APPROVED,
    S.OFFER_ACCEPTED,
)


def _choice_error(model_choices, value) -> str | None:
    if value in ("", None):
        return None
    if value not in model_choices.values:
        return "Choose one of: " + ", ".join(model_choices.values) + "."
    return None


def amount_problem(product: LoanProduct, amount: Decimal) -> str | None:
    """None when `amount` is within `product`'s limits, else the message that
    states them (pure: forms ask it too, so every channel says the same)."""
    if product.min_amount <= amount <= product.max_amount:
        return None
    return (
        f"Enter an amount between {format_money(product.min_amount, product.currency)} and "
        f"{format_money(product.max_amount, product.currency)}."
    )


def _money_value(
    value, name: str, errors: dict, *, allow_none=False, allow_negative=False
) -> Decimal | None:
    if value in (None, ""):
        if not allow_none:
            errors[name] = "This field is required."
        return None
    if isinstance(value, float | bool):
        errors[name] = "Give an amount as a decimal string."
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        errors[name] = "Not an amount."
        return None
    if (
        not amount.is_finite()
        or (amount < 0 and not allow_negative)
        or amount != amount.quantize(Decimal("0.01"))
    ):
        errors[name] = "Give a non-negative amount in whole cents."
        return None
    return amount


def _clean(product: LoanProduct, values: dict) -> dict:
    """Validate and normalise application values against the product;
    ValidationFailed (400) with every problem in `fields`."""
    errors: dict[str, str] = {}
    unknown = set(values) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        errors[name] = "Unknown field."
    cleaned = dict(values)
    if "requested_amount" in values:
        # A negative amount is just outside the range: say the range, not "non-negative".
        amount = _money_value(
            values["requested_amount"], "requested_amount", errors, allow_negative=True
        )
        problem = amount_problem(product, amount) if amount is not None else None
        if problem:
            errors["requested_amount"] = problem
        cleaned["requested_amount"] = amount
    if "requested_term" in values:
        term = values["requested_term"]
        if isinstance(term, str) and term.isdigit():
            term = int(term)
        if not isinstance(term, int) or isinstance(term, bool):
            errors["requested_term"] = "Give the term as a whole number of months."
        elif product.allowed_terms and term not in product.allowed_terms:
            errors["requested_term"] = (
                "Choose one of: " + ", ".join(str(t) for t in product.allowed_terms) + " months."
            )
        elif not (product.min_term <= term <= product.max_term):
            errors["requested_term"] = (
                f"Must be between {product.min_term} and {product.max_term} months."
            )
        cleaned["requested_term"] = term
    for name in ("gross_monthly_income",):
        if name in values:
            cleaned[name] = _money_value(values[name], name, errors, allow_none=True)
    for name in ("housing_cost", "other_obligations"):
        if name in values:
            cleaned[name] = _money_value(values[name], name, errors) or Decimal("0.00")
    if "employment_months" in values:
        months = values["employment_months"]
        if isinstance(months, str) and months.isdigit():
            months = int(months)
        if months not in (None, "") and (
            not isinstance(months, int) or isinstance(months, bool) or months < 0
        ):
            errors["employment_months"] = "Give a whole number of months."
        cleaned["employment_months"] = None if months == "" else months
    for name, choices in (
        ("purpose", Application.Purpose),
        ("employment_status", Application.EmploymentStatus),
        ("housing_status", Application.HousingStatus),
    ):
        if name in values:
            problem = _choice_error(choices, values[name])
            if problem:
                errors[name] = problem
            cleaned[name] = values[name] or ""
    if "employer" in values:
        cleaned["employer"] = str(values["employer"] or "").strip()[:200]
    if errors:
        raise ValidationFailed("The application has invalid values.", fields=errors)
    return cleaned


def start_application(
    *,
    applicant,
    product: LoanProduct,
    channel: str,
    data: dict,
    co_applicant=None,
    acting_user=None,
    idempotency_key: str | None = None,
) -> Application:
    """A new draft application on `product` (its current version).

    `data` needs requested_amount and requested_term (within the product's
    limits and allowed terms) and may carry the other EDITABLE_FIELDS.
    With an `idempotency_key` (API), a repeated call returns the
    application the first call created. The portal starts through
    start_portal_application, which allows one application in progress."""
    if idempotency_key:
        existing = Application.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if channel not in Application.Channel.values:
        raise ValidationFailed("Unknown channel.", fields={"channel": "Unknown channel."})
    if not product.is_active:
        raise ValidationFailed(
            "This product version is no longer offered.",
            fields={"product": "This product version is no longer offered."},
        )
    missing = {
        name: "This field is required."
        for name in ("requested_amount", "requested_term")
        if data.get(name) in (None, "")
    }
    if missing:
        raise ValidationFailed("The application is missing required values.", fields=missing)
    if co_applicant is not None and co_applicant.pk == applicant.pk:
        raise ValidationFailed(
            "The co-applicant must be another customer.",
            fields={"co_applicant": "The co-applicant must be another customer."},
        )
    cleaned = _clean(product, data)
    actor = actor_of(acting_user)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                product=product,
                applicant=applicant,
                co_applicant=co_applicant,
                channel=channel,
                created_by=actor,
                idempotency_key=idempotency_key or None,
                expires_on=get_business_date() + timedelta(days=product.application_valid_days),
                **cleaned,
            )
            application.reference = f"APP-{application.pk:08d}"
            application.save(update_fields=["reference"])
            ApplicationEvent.objects.create(
                application=application, from_state="", to_state=application.state, actor=actor
            )
            audit.record(
                action="application.created",
                category=AuditCategory.CREATE,
                obj=application,
                metadata={
                    "channel": channel,
                    "product": f"{product.code} v{product.version}",
                    "applicant": applicant.pk,
                    "requested_amount": cleaned["requested_amount"],
                    "requested_term": cleaned["requested_term"],
                },
                actor=actor,
            )
    except IntegrityError:
        if idempotency_key:
            existing = Application.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return application


def start_portal_application(
    *, applicant, product: LoanProduct, data: dict, acting_user=None
) -> Application:
    """A borrower starts an application in the portal (start_application,
    channel portal), holding one application in progress at a time: while
    one of theirs is a draft or returned for information, raises Conflict
    "application_in_progress" naming it, nothing written. Locks the
    applicant's customer row first, so two tabs or a double submit cannot
    both start one. Staff, API and the demo open applications through
    start_application, without this limit."""
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=applicant.pk).first()
        current = (
            Application.objects.filter(applicant=applicant, state__in=EDITABLE_STATES)
            .order_by("-id")
            .first()
        )
        if current is not None:
            raise Conflict(
                f"Application {current.reference} is in progress: resume it, or withdraw it "
                "before starting another.",
                code="application_in_progress",
                fields={"application": current.reference},
            )
        return start_application(
            applicant=applicant,
            product=product,
            channel=Application.Channel.PORTAL,
            data=data,
            acting_user=acting_user,
        )


def update_draft(application: Application, changes: dict, acting_user=None) -> Application:
    """Change the applicant's values while the application is a draft or
    returned for information."""
    with transaction.atomic():
        app = lock(application)
        if app.state not in EDITABLE_STATES:
            raise Conflict(
                f"Application {app.reference} is {app.get_state_display().lower()}; "
                "it can only be edited as a draft or when returned for information.",
                code="not_editable",
                fields={"state": app.state, "action": "update"},
            )
        cleaned = _clean(app.product, changes)
        before = audit.snapshot(app, sorted(cleaned))
        for name, value in cleaned.items():
            setattr(app, name, value)
        after = audit.snapshot(app, sorted(cleaned))
        changed = audit.diff(before, after)
        if not changed:
            return app
        app.save(update_fields=[*sorted(changed), "updated_at"])
        audit.record(
            action="application.updated",
            category=AuditCategory.UPDATE,
            obj=app,
            changes=changed,
            actor=actor_of(acting_user),
        )
    return app


def record_consent(
    application: Application,
    *,
    kind: str,
    wording_version: str,
    text: str,
    ip: str | None = None,
    user_agent: str = "",
    acting_user=None,
    given_at=None,
) -> Consent:
    """Record the applicant's consent (idempotent per kind and wording version).
    `given_at` is when the applicant consented (an aware datetime, not in the
    future; default now), for consents an integrator collected earlier."""
    errors = {}
    if given_at is not None and given_at > timezone.now() + timedelta(minutes=5):
        errors["given_at"] = "A consent cannot be given in the future."
    if kind not in Consent.Kind.values:
        errors["kind"] = "Choose one of: " + ", ".join(Consent.Kind.values) + "."
    if not (wording_version or "").strip():
        errors["wording_version"] = "This field is required."
    if not (text or "").strip():
        errors["text"] = "This field is required."
    if errors:
        raise ValidationFailed("The consent is incomplete.", fields=errors)
    with transaction.atomic():
        app = lock(application)
        if app.is_final:
            raise Conflict(
                f"Application {app.reference} is {app.get_state_display().lower()}; "
                "no consent can be recorded.",
                code="invalid_transition",
                fields={"state": app.state, "action": "record_consent"},
            )
        existing = app.consents.filter(kind=kind, wording_version=wording_version).first()
        if existing is not None:
            return existing
        consent = Consent.objects.create(
            application=app,
            kind=kind,
            wording_version=wording_version,
            text=text,
            given_at=given_at or timezone.now(),
            ip=ip or None,
            user_agent=(user_agent or "")[:400],
        )
        audit.record(
            action="application.consent_recorded",
            category=AuditCategory.CREATE,
            obj=app,
            metadata={"kind": kind, "wording_version": wording_version, "ip": ip},
            actor=actor_of(acting_user),
        )
    return consent


def record_consents(application: Application, consents, acting_user=None) -> list[Consent]:
    """record_consent for each of `consents` (dicts of its keyword
    arguments), in one transaction: one refused records none."""
    with transaction.atomic():
        return [
            record_consent(application, **consent, acting_user=acting_user) for consent in consents
        ]


def start_application_with_consents(*, consents, acting_user=None, **start) -> Application:
    """start_application (`start`: its keyword arguments) and record_consent
    for each of `consents`, in one transaction: a consent refused after the
    draft was created leaves nothing."""
    with transaction.atomic():
        application = start_application(acting_user=acting_user, **start)
        for consent in consents:
            record_consent(application, **consent, acting_user=acting_user)
    return application


def submission_problems(app: Application) -> dict[str, str]:
    """What stops `app` from being submitted, by field."""
    problems: dict[str, str] = {}
    given = set(app.consents.values_list("kind", flat=True))
    for kind in REQUIRED_CONSENTS:
        if kind not in given:
            problems[f"consent_{kind}"] = (
                f"The {Consent.Kind(kind).label.lower()} consent is required."
            )
    if app.gross_monthly_income is None:
        problems["gross_monthly_income"] = "State your gross monthly income."
    if not app.employment_status:
        problems["employment_status"] = "State your employment status."
    if app.employment_status in ("employed", "self_employed") and app.employment_months is None:
        problems["employment_months"] = "State how long you have been employed."
    return problems


def _submit(application: Application, acting_user, *, note: str) -> Application:
    with transaction.atomic():
        app = lock(application)
        if app.state == S.SUBMITTED:
            return app
        check_can(app, "submit")
        problems = submission_problems(app)
        if problems:
            raise ValidationFailed("The application cannot be submitted yet.", fields=problems)
        app.submitted_at = timezone.now()
        app.return_reason = "" if app.state == S.RETURNED else app.return_reason
        apply_transition(
            app,
            "submit",
            acting_user=acting_user,
            note=note,
            fields=("submitted_at", "return_reason"),
        )
    return app


def submit(application: Application, acting_user=None, *, decide: bool = True) -> Application:
    """Submit a draft: needs the credit-pull and e-records consents, income
    and employment (ValidationFailed 400, nothing written). Then runs the
    automatic decision synchronously (origination.services.decision)."""
    app = _submit(application, acting_user, note="Submitted")
    if decide:
        app = run_decision(app, acting_user=acting_user)
    return app


def resubmit(application: Application, acting_user=None, *, decide: bool = True) -> Application:
    """Submit an application returned for information again, and decide it anew."""
    app = Application.objects.get(pk=application.pk)
    if app.state != S.RETURNED:
        raise Conflict(
            f"Cannot resubmit application {app.reference}: it is "
            f"{app.get_state_display().lower()}.",
            code="invalid_transition",
            fields={"state": app.state, "action": "resubmit"},
        )
    app = _submit(app, acting_user, note="Resubmitted with more information")
    if decide:
        app = run_decision(app, acting_user=acting_user)
    return app


def return_for_info(application: Application, reason: str, acting_user=None) -> Application:
    """Send the application back to the applicant for more information. A
    person acting (staff session or API key user) must be an underwriter;
    no acting user is the platform itself (demo data)."""
    if actor_of(acting_user) is not None:
        require_perm(
            acting_user,
            "origination.underwrite_application",
            "Your role may not return applications.",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say what information is needed.", fields={"reason": "This field is required."}
        )
    with transaction.atomic():
        app = lock(application)
        if app.state == S.RETURNED and app.return_reason == reason:
            return app
        app.return_reason = reason
        apply_transition(
            app, "return_for_info", acting_user=acting_user, note=reason, fields=("return_reason",)
        )
    return app


def withdraw(application: Application, reason: str, acting_user=None) -> Application:
    """Withdraw the application (from any state that is not final)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason for withdrawing.", fields={"reason": "This field is required."}
        )
    with transaction.atomic():
        app = lock(application)
        if app.state == S.WITHDRAWN:
            return app
        app.withdraw_reason = reason
        apply_transition(
            app, "withdraw", acting_user=acting_user, note=reason, fields=("withdraw_reason",)
        )
    return app


def expire_stale(business_date=None) -> int:
    """Expire applications whose validity (expires_on) ended before
    `business_date` (default: the business date). Returns how many."""
    business_date = business_date or get_business_date()
    ids = list(
        Application.objects.filter(
            state__in=EXPIRABLE_STATES, expires_on__lt=business_date
        ).values_list("pk", flat=True)
    )
    count = 0
    for pk in ids:
        with transaction.atomic():
            app = Application.objects.select_for_update().get(pk=pk)
            if app.state not in EXPIRABLE_STATES or app.expires_on >= business_date:
                continue
            apply_transition(
                app,
                "expire",
                note=f"Validity ended {app.expires_on.isoformat()}",
                metadata={"business_date": business_date},
            )
            count += 1
    return count


def assign(application: Application, user, acting_user=None) -> Application:
    """Assign the application to a staff member (None unassigns). The person
    assigning must be able to work on applications too."""
    if actor_of(acting_user) is not None:
        require_perm(
            acting_user, "origination.view_application", "Your role may not assign applications."
        )
    if user is not None and not (
        user.has_perm("origination.underwrite_application")
        or user.has_perm("origination.view_application")
    ):
        raise PermissionDenied(
            f"{user.get_username()} may not work on applications.", code="not_allowed"
        )
    with transaction.atomic():
        app = lock(application)
        if app.is_final:
            raise Conflict(
                f"Application {app.reference} is {app.get_state_display().lower()}; "
                "it cannot be reassigned.",
                code="invalid_transition",
                fields={"state": app.state, "action": "assign"},
            )
        new_id = user.pk if user is not None else None
        if app.assigned_to_id == new_id:
            return app
        before = app.assigned_to_id
        app.assigned_to = user
        app.save(update_fields=["assigned_to", "updated_at"])
        audit.record(
            action="application.assigned",
            category=AuditCategory.UPDATE,
            obj=app,
            changes={"assigned_to": [before, new_id]},
            actor=actor_of(acting_user),
        )
    return app
