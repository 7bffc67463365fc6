"""The automatic decision of a submitted application.

run_decision pulls the credit report (with retry, through the configured
adapter), computes the proposed payment with the engine on the priced terms,
affordability, the scorecard, the identity checks and the sanctions
screening, evaluates the product's rule set, stores the BureauPull and a
DecisionRecord with the full trace, and moves the application:
approve -> approved (terms from the grid), decline -> declined (adverse
action notice), refer -> in underwriting. A bureau that stays unavailable
refers; it never approves.
"""

from __future__ import annotations

import time
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.businessdate import get_business_date
from core.exceptions import DomainError
from core.finance import LoanTerms, TermsError, build_schedule
from origination import kyc_checks
from origination.decisioning.affordability import amount_to_income, assess_affordability
from origination.decisioning.bureau import (
    BureauIdentity,
    BureauResponse,
    bureau_variables,
    pull_with_retry,
)
from origination.decisioning.reasons import REASONS
from origination.decisioning.rules import evaluate_rules
from origination.decisioning.scorecard import evaluate_scorecard
from origination.models import (
    Application,
    ApplicationState,
    BureauPull,
    DecisionRecord,
)
from origination.services import kyc
from origination.services._common import apply_transition, lock
from origination.services.documents import missing_documents
from origination.services.products import fee_amounts, highest_rate_for, price_for

S = ApplicationState

UNPRICEABLE = {
    "code": "CANNOT_PRICE",
    "text": "No price in the product's grid for this score and term",
}
SANCTIONS_UNAVAILABLE = {
    "code": "SANCTIONS_UNAVAILABLE",
    "text": "Sanctions screening unavailable",
}
DOCUMENTS_OUTSTANDING = {
    "code": "DOCUMENTS_OUTSTANDING",
    "text": "Required documents are not yet verified",
}
RESIDENTIAL = {"own": "own", "mortgage": "own", "rent": "rent", "other": "other"}


def _json(value):
    """JSON-safe copy: Decimals and dates as strings, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def bureau_adapter():
    """An instance of settings.BUREAU_ADAPTER (a dotted class path)."""
    path = getattr(settings, "BUREAU_ADAPTER", "origination.decisioning.simulated.SimulatedBureau")
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)()


def _identity(customer) -> BureauIdentity | None:
    subject = kyc.identity_input(customer)
    address = subject.address
    digits = "".join(ch for ch in subject.tax_id if ch.isdigit())
    if customer.date_of_birth is None or len(digits) != 9:
        return None
    return BureauIdentity(
        first_name=customer.first_name or customer.legal_name,
        last_name=customer.last_name or "",
        date_of_birth=customer.date_of_birth,
        tax_id=digits,
        address_line=address.line1 if address else "",
        postal_code=address.postal_code if address else "",
    )


def _pull(customer, adapter, backoff) -> tuple[BureauResponse, object]:
    pulled_at = timezone.now()
    identity = _identity(customer)
    if identity is None:
        return (
            BureauResponse(
                bureau=adapter.name,
                status="unavailable",
                raw=None,
                attempts=0,
                error="No date of birth or 9-digit tax id on file: the report cannot be pulled.",
            ),
            pulled_at,
        )
    if backoff is None:
        backoff = _settings_backoff
    return pull_with_retry(adapter, identity, pulled_at=pulled_at, backoff=backoff), pulled_at


def _settings_backoff(attempt: int) -> None:
    """Wait BUREAU_RETRY_BASE_SECONDS x 2^(attempt-1) before the next try
    (0.25 s, 0.5 s, ... by default; 0 under TESTING, so tests never sleep)."""
    base = settings.BUREAU_RETRY_BASE_SECONDS
    if base > 0:
        time.sleep(base * 2 ** (attempt - 1))


def proposed_payment(product, amount: Decimal, term: int, rate: Decimal, disbursed_on):
    """The level instalment of `amount` over `term` at `rate` on the
    product's engine settings (core.finance.build_schedule)."""
    terms = LoanTerms(
        principal=amount,
        annual_rate=rate,
        term=term,
        disbursement_date=disbursed_on,
        repayment_every=product.repayment_every,
        repayment_unit=product.repayment_unit,
        interest_method=product.interest_method,
        amortization=product.amortization,
        day_count=product.day_count,
        installment_multiple=product.installment_multiple,
        rounding=product.rounding,
        fees=fee_amounts(product, amount),
    )
    schedule = build_schedule(terms)
    return schedule.installment if schedule.installment is not None else max(schedule.payments)


def _screen(customer, application_id) -> dict:
    try:
        hit = kyc.screen_customer(customer=customer, application_id=application_id)
    except DomainError as exc:
        if exc.code != "no_sanctions_list":
            raise
        return {"customer": customer.pk, "status": "unavailable", "error": exc.message}
    if hit is None:
        return {"customer": customer.pk, "status": "clear"}
    return {
        "customer": customer.pk,
        "status": "potential_match",
        "hit": hit.pk,
        "top_score": str(hit.top_score),
        "matches": [m["ent_num"] for m in hit.matches],
    }


def evaluate_application(app: Application, *, adapter=None, backoff=None) -> dict:
    """Everything the decision needs, computed outside the write transaction
    (the bureau pull may take seconds). Returns a plain dict."""
    adapter = adapter or bureau_adapter()
    product = app.product
    business_date = get_business_date()
    response, pulled_at = _pull(app.applicant, adapter, backoff)
    bureau_vars = bureau_variables(response)
    report = response.report() if response.ok else None
    score = report.score if report else None

    rate = price_for(product, score, app.requested_term)
    payment_rate = rate if rate is not None else highest_rate_for(product, app.requested_term)
    payment = None
    if payment_rate is not None:
        try:
            payment = proposed_payment(
                product, app.requested_amount, app.requested_term, payment_rate, business_date
            )
        except TermsError:
            payment = None

    affordability = None
    if payment is not None and app.gross_monthly_income is not None:
        affordability = assess_affordability(
            gross_monthly_income=app.gross_monthly_income,
            housing_cost=app.housing_cost,
            bureau_monthly_obligations=bureau_vars.get("bureau_monthly_obligations") or 0,
            other_obligations=app.other_obligations,
            proposed_payment=payment,
        )

    identity = kyc.check_identity(customer=app.applicant)
    subject = app.applicant
    age = kyc_checks.age_on(subject.date_of_birth, business_date) if subject.date_of_birth else None
    screenings = [_screen(app.applicant, app.pk)]
    if app.co_applicant_id:
        screenings.append(_screen(app.co_applicant, app.pk))
    sanctions_unavailable = any(s["status"] == "unavailable" for s in screenings)
    sanctions_hit = any(s["status"] == "potential_match" for s in screenings)

    variables: dict = {
        **bureau_vars,
        "amount": app.requested_amount,
        "term": app.requested_term,
        "employment_months": app.employment_months,
        "amount_to_income": (
            amount_to_income(app.requested_amount, app.gross_monthly_income)
            if app.gross_monthly_income is not None
            else None
        ),
        "age": age,
        "residential_status": RESIDENTIAL.get(app.housing_status),
        "kyc_passed": identity.passed,
        "sanctions_hit": sanctions_hit or sanctions_unavailable,
    }
    if affordability is not None:
        variables.update(affordability.variables())
    else:
        variables.setdefault("monthly_income", app.gross_monthly_income)
    score_result = evaluate_scorecard(product.scorecard, variables)
    variables["scorecard_points"] = score_result.total_points
    decision = evaluate_rules(product.rule_set, variables)

    outcome = decision.outcome
    reasons = [
        {"code": r.code, "text": r.text, "outcome": r.outcome, "rule": r.rule_code}
        for r in decision.reasons
    ]
    extra = []
    if outcome != "decline":
        if sanctions_unavailable:
            extra.append({**SANCTIONS_UNAVAILABLE, "outcome": "refer", "rule": ""})
        if rate is None:
            extra.append({**UNPRICEABLE, "outcome": "refer", "rule": ""})
        if response.unavailable and not any(r["code"] == "BUREAU_UNAVAILABLE" for r in reasons):
            extra.append(
                {
                    "code": "BUREAU_UNAVAILABLE",
                    "text": REASONS["BUREAU_UNAVAILABLE"],
                    "outcome": "refer",
                    "rule": "",
                }
            )
        if extra:
            outcome = "refer"
    reasons += extra

    trace = {
        "rules": decision.as_dict(),
        "scorecard": score_result.as_dict(),
        "affordability": (
            {
                "proposed_payment": payment,
                "payment_rate": payment_rate,
                "gross_monthly_income": affordability.gross_monthly_income,
                "total_obligations": affordability.total_obligations,
                "dti": affordability.dti,
                "pti": affordability.pti,
                "residual_income": affordability.residual_income,
                "income_zero": affordability.income_zero,
            }
            if affordability
            else {"proposed_payment": payment, "payment_rate": payment_rate}
        ),
        "kyc": identity.to_dict(),
        "sanctions": screenings,
        "bureau": {
            "bureau": response.bureau,
            "status": response.status,
            "attempts": response.attempts,
            "error": response.error,
            "score": score,
        },
        "pricing": {"annual_rate": rate, "term": app.requested_term},
        "outcome": outcome,
    }
    return {
        "response": response,
        "pulled_at": pulled_at,
        "score": score,
        "no_hit": bool(report is not None and not report.hit),
        "rate": rate,
        "payment": payment,
        "affordability": affordability,
        "scorecard_points": score_result.total_points,
        "outcome": outcome,
        "reasons": reasons,
        "variables": variables,
        "trace": _json(trace),
        "rule_set_version": f"{decision.rule_set_name} v{decision.rule_set_version}",
    }


def _lock_keeping_relations(app: Application) -> Application:
    """The locked row, with the product and applicant already loaded (not
    fetched again: a submitted application's do not change)."""
    locked = lock(app)
    for name in ("product", "applicant"):
        if getattr(locked, f"{name}_id") == getattr(app, f"{name}_id"):
            setattr(locked, name, getattr(app, name))
    return locked


def run_decision(application: Application, *, acting_user=None, adapter=None, backoff=None):
    """Decide a submitted application automatically (see the module
    docstring). An application no longer submitted is returned unchanged."""
    app = Application.objects.select_related("product", "applicant").get(pk=application.pk)
    if app.state != S.SUBMITTED:
        return app
    result = evaluate_application(app, adapter=adapter, backoff=backoff)
    with transaction.atomic():
        app = _lock_keeping_relations(app)
        if app.state != S.SUBMITTED:
            return app
        response = result["response"]
        if response.unavailable:
            status = BureauPull.Status.UNAVAILABLE
        elif result["no_hit"]:
            status = BureauPull.Status.NO_HIT
        else:
            status = BureauPull.Status.OK
        pull = BureauPull.objects.create(
            application=app,
            customer=app.applicant,
            bureau=response.bureau,
            status=status,
            attempts=response.attempts,
            raw=response.raw or {"error": response.error},
            score=result["score"],
            pulled_at=result["pulled_at"],
        )
        outcome = result["outcome"]
        reasons = result["reasons"]
        affordability = result["affordability"]
        app.auto_outcome = outcome
        app.credit_score = result["score"]
        app.scorecard_points = result["scorecard_points"]
        app.dti = affordability.dti if affordability else None
        app.pti = affordability.pti if affordability else None
        fields = ["auto_outcome", "credit_score", "scorecard_points", "dti", "pti"]
        outstanding = missing_documents(app) if outcome == "approve" else []
        state_reasons = list(reasons)
        if outstanding:
            state_reasons.append({**DOCUMENTS_OUTSTANDING, "outcome": "refer", "rule": ""})
        app.decision_reasons = state_reasons
        fields.append("decision_reasons")
        DecisionRecord.objects.create(
            application=app,
            kind=DecisionRecord.Kind.AUTOMATIC,
            outcome=outcome,
            reasons=reasons,
            trace=result["trace"],
            inputs=_json(result["variables"]),
            rule_set_version=result["rule_set_version"],
            note="Documents outstanding: " + ", ".join(d["kind"] for d in outstanding)
            if outstanding
            else "",
        )
        meta = {
            "outcome": outcome,
            "score": result["score"],
            "reasons": [r["code"] for r in reasons],
        }
        if outcome == "approve" and not outstanding:
            app.approved_amount = app.requested_amount
            app.approved_term = app.requested_term
            app.approved_rate = result["rate"]
            app.decided_at = timezone.now()
            apply_transition(
                app,
                "approve",
                acting_user=None,
                note="Automatic approval",
                fields=(*fields, "approved_amount", "approved_term", "approved_rate", "decided_at"),
                metadata=meta,
            )
            from origination.services.closing import make_offers

            make_offers(application=app)
        elif outcome == "decline":
            app.decided_at = timezone.now()
            apply_transition(
                app,
                "decline",
                acting_user=None,
                note="Automatic decline: " + "; ".join(r["text"] for r in reasons),
                fields=(*fields, "decided_at"),
                metadata=meta,
            )
            from origination.services import adverse_action

            # the notice's content now; its PDF and e-mail after commit
            notice = adverse_action.record_notice(app, reasons=reasons, pull=pull)
            adverse_action.schedule_delivery(notice)
        else:
            apply_transition(
                app,
                "refer",
                acting_user=None,
                note="Referred: " + "; ".join(r["text"] for r in state_reasons),
                fields=tuple(fields),
                metadata=meta,
            )
    return app
