"""The automatic decision of a submitted application.

run_decision pulls the credit report (with retry, through the configured
adapter), computes the proposed payment with the engine on the priced terms,
affordability, the scorecard, the identity checks and the sanctions
screening, evaluates the product's rule set, stores the BureauPull and a
DecisionRecord with the full trace, and moves the application:
approve -> approved (terms from the grid), decline -> declined (adverse
action notice), refer -> in underwriting. A bureau that stays unavailable
refers; it never approves.

A joint application (an applicant and a co-applicant) is underwritten on
both subjects: the co-applicant is screened against sanctions, gets the same
identity (KYC) checks and their own bureau pull (stored as a second
BureauPull, customer = the co-applicant), and the product's rules on
subject-level inputs (credit file, age, identity) are evaluated on the
co-applicant too, their reasons marked "Co-applicant: ...". Affordability
takes the combined stated income and both subjects' bureau obligations; the
score the policy, the scorecard and pricing use is the lower of the two
scores. The trace shows both subjects' inputs ("subjects", "score_used").
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
from origination.decisioning.affordability import amount_to_income, assess_affordability
from origination.decisioning.bureau import (
    BureauIdentity,
    BureauResponse,
    bureau_variables,
    pull_with_retry,
    report_summary,
)
from origination.decisioning.reasons import REASONS
from origination.decisioning.rules import evaluate_rules
from origination.decisioning.scorecard import evaluate_scorecard
from origination.models import (
    Application,
    ApplicationState,
    BureauPull,
    DecisionRecord,
    encrypt_report,
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

# Rule variables that describe one subject (their credit file, age and
# identity), evaluated for the co-applicant as well. "score" is not among
# them: a joint application is decided on the lower of the two scores.
SUBJECT_VARIABLES = frozenset(
    {
        "bureau_unavailable",
        "no_credit_file",
        "thin_file",
        "delinquencies_24m",
        "delinquencies_90_24m",
        "public_records",
        "has_bankruptcy",
        "inquiries_6m",
        "oldest_trade_months",
        "age",
        "kyc_passed",
    }
)
CO_APPLICANT_PREFIX = "Co-applicant: "
# Rule variables that adding the co-applicant's obligations changes.
JOINT_OBLIGATION_VARIABLES = frozenset({"dti", "pti", "residual_income"})
JOINT_ONLY_NOTE = (
    " (with the co-applicant's obligations; their income is not captured"
    " separately: verify the household income)"
)


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
    if subject.date_of_birth is None or len(digits) != 9:
        return None
    return BureauIdentity(
        first_name=customer.first_name or customer.legal_name,
        last_name=customer.last_name or "",
        date_of_birth=subject.date_of_birth,
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


def decision_score(applicant_score: int | None, co_applicant_score: int | None) -> int | None:
    """The credit score a (joint) application is decided and priced on: the
    lower of the two subjects' scores; the one there is when only one
    subject has a score (a co-applicant without a score refers through
    their own no-file / thin-file / bureau rules)."""
    scores = [s for s in (applicant_score, co_applicant_score) if s is not None]
    return min(scores) if scores else None


def _bureau_summary(response: BureauResponse, customer) -> dict:
    report = response.report() if response.ok else None
    return {
        "customer": customer.pk,
        "bureau": response.bureau,
        "status": response.status,
        "attempts": response.attempts,
        "error": response.error,
        "score": report.score if report else None,
    }


def _subject_rule_set(rule_set) -> dict:
    """The rule set's rules on SUBJECT_VARIABLES only (same name and version)."""
    if isinstance(rule_set, dict):
        rules, name = rule_set.get("rules") or [], rule_set.get("name", "")
        version = rule_set.get("version")
    else:
        rules, name, version = rule_set or [], "", None
    return {
        "name": name,
        "version": version,
        "rules": [
            r for r in rules if isinstance(r, dict) and r.get("variable") in SUBJECT_VARIABLES
        ],
    }


def _co_applicant_reason(reason: dict, customer) -> dict:
    return {
        **reason,
        "text": CO_APPLICANT_PREFIX + reason["text"],
        "subject": "co_applicant",
        "customer": customer.pk,
    }


def _evaluate_co_applicant(app: Application, adapter, backoff, business_date) -> dict:
    """The co-applicant's pull, identity checks and subject-level rules."""
    customer = app.co_applicant
    response, pulled_at = _pull(customer, adapter, backoff)
    bureau_vars = bureau_variables(response)
    report = response.report() if response.ok else None
    identity = kyc.check_identity(customer=customer)
    age = customer.age_on(business_date)
    variables = {**bureau_vars, "age": age, "kyc_passed": identity.passed}
    decision = evaluate_rules(_subject_rule_set(app.product.rule_set), variables)
    reasons = [
        _co_applicant_reason(
            {"code": r.code, "text": r.text, "outcome": r.outcome, "rule": r.rule_code}, customer
        )
        for r in decision.reasons
    ]
    return {
        "customer": customer,
        "response": response,
        "pulled_at": pulled_at,
        "report": report,
        "score": report.score if report else None,
        "no_hit": bool(report is not None and not report.hit),
        "bureau_vars": bureau_vars,
        "identity": identity,
        "age": age,
        "variables": variables,
        "decision": decision,
        "reasons": reasons,
    }


def _joint_only_affordability_declines(
    app, variables, decision, *, bureau_vars, affordability, payment
) -> set:
    """Codes of the decline rules on DTI/PTI/residual income that fire with
    the co-applicant's bureau obligations added but not on the applicant's
    own (empty without a co-applicant or when none fired)."""
    if affordability is None or not affordability.co_applicant_bureau_obligations:
        return set()
    fired = {
        t.code
        for t in decision.trace
        if t.fired and t.outcome == "decline" and t.variable in JOINT_OBLIGATION_VARIABLES
    }
    if not fired:
        return set()
    solo = assess_affordability(
        gross_monthly_income=app.gross_monthly_income,
        housing_cost=app.housing_cost,
        bureau_monthly_obligations=bureau_vars.get("bureau_monthly_obligations") or 0,
        other_obligations=app.other_obligations,
        proposed_payment=payment,
    )
    solo_decision = evaluate_rules(app.product.rule_set, {**variables, **solo.variables()})
    solo_fired = {t.code for t in solo_decision.trace if t.fired and t.outcome == "decline"}
    return fired - solo_fired


def _merge_reasons(main: list[dict], co: list[dict]) -> list[dict]:
    """Declines before refers (the applicant's first within each), without
    repeating a reason (code and subject); each subject's list is already
    at most the rules engine's principal reasons."""
    merged: list[dict] = []
    for outcome in ("decline", "refer", "approve"):
        for reason in main + co:
            if reason.get("outcome") != outcome:
                continue
            key = (reason["code"], reason.get("subject"))
            if all((m["code"], m.get("subject")) != key for m in merged):
                merged.append(reason)
    return merged


def evaluate_application(app: Application, *, adapter=None, backoff=None) -> dict:
    """Everything the decision needs, computed outside the write transaction
    (the bureau pull may take seconds). Returns a plain dict.

    With a co-applicant: their bureau report is pulled first (so the
    applicant's stays the application's latest pull), they get the identity
    checks and the subject-level rules (see the module docstring), and
    affordability is on the combined income and obligations. The score used
    for the rules, the scorecard and pricing is the lower of the two
    scores; the trace's "score_used" shows both and the one used."""
    adapter = adapter or bureau_adapter()
    product = app.product
    business_date = get_business_date()
    co = (
        _evaluate_co_applicant(app, adapter, backoff, business_date)
        if app.co_applicant_id
        else None
    )
    response, pulled_at = _pull(app.applicant, adapter, backoff)
    bureau_vars = bureau_variables(response)
    report = response.report() if response.ok else None
    applicant_score = report.score if report else None
    score = decision_score(applicant_score, co["score"]) if co else applicant_score
    score_from_co_applicant = bool(co and score is not None and score != applicant_score)
    if co is not None and "score" in bureau_vars:
        bureau_vars = {**bureau_vars, "score": score}

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
            # The application captures one stated income (the household's,
            # "from all sources"); there is no separate co-applicant income.
            co_applicant_income=None,
            co_applicant_bureau_obligations=(
                (co["bureau_vars"].get("bureau_monthly_obligations") or 0) if co else None
            ),
        )

    identity = kyc.check_identity(customer=app.applicant)
    subject = app.applicant
    age = subject.age_on(business_date)
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
    if score_from_co_applicant:
        score_rules = {t.code for t in decision.trace if t.variable == "score"}
        reasons = [
            {**r, "text": f"{r['text']} (the co-applicant's score, {score})"}
            if r["rule"] in score_rules
            else r
            for r in reasons
        ]
    joint_only = _joint_only_affordability_declines(
        app,
        variables,
        decision,
        bureau_vars=bureau_vars,
        affordability=affordability,
        payment=payment,
    )
    if joint_only:
        # A decline that rests only on adding the co-applicant's obligations
        # to the one stated income (the co-applicant's income is not captured
        # separately) goes to an underwriter to verify the household income.
        reasons = [
            {**r, "outcome": "refer", "text": r["text"] + JOINT_ONLY_NOTE}
            if r["rule"] in joint_only
            else r
            for r in reasons
        ]
        still_declined = any(
            t.fired and t.outcome == "decline" and t.code not in joint_only for t in decision.trace
        )
        outcome = "decline" if still_declined else "refer"
    if co is not None:
        co_outcome = co["decision"].outcome
        if "decline" in (outcome, co_outcome):
            outcome = "decline"
        elif "refer" in (outcome, co_outcome):
            outcome = "refer"
        reasons = _merge_reasons(reasons, co["reasons"])
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
        if (
            co is not None
            and co["response"].unavailable
            and not any(
                r["code"] == "BUREAU_UNAVAILABLE" and r.get("subject") == "co_applicant"
                for r in reasons
            )
        ):
            extra.append(
                _co_applicant_reason(
                    {
                        "code": "BUREAU_UNAVAILABLE",
                        "text": REASONS["BUREAU_UNAVAILABLE"],
                        "outcome": "refer",
                        "rule": "",
                    },
                    co["customer"],
                )
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
    if affordability is not None:
        trace["affordability"].update(affordability.breakdown())
    if co is not None:
        trace["score_used"] = {
            "applicant": applicant_score,
            "co_applicant": co["score"],
            "used": score,
            "rule": "the lower of the applicant's and the co-applicant's scores",
        }
        trace["affordability"]["income_note"] = (
            "The application captures one stated gross monthly income (the combined "
            "household income); the co-applicant has no separate income field."
        )
        trace["subjects"] = {
            "applicant": {
                "customer": app.applicant_id,
                "age": age,
                "kyc": identity.to_dict(),
                "bureau": _bureau_summary(response, app.applicant),
                "bureau_variables": bureau_variables(response),
            },
            "co_applicant": {
                "customer": app.co_applicant_id,
                "age": co["age"],
                "kyc": co["identity"].to_dict(),
                "bureau": _bureau_summary(co["response"], co["customer"]),
                "bureau_variables": co["bureau_vars"],
                "rules": co["decision"].as_dict(),
            },
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
        "co_applicant": co,
        "applicant_pull": {
            "pulled_at": pulled_at,
            "score": applicant_score,
            "no_hit": bool(report is not None and not report.hit),
        },
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
    for name in ("product", "applicant", "co_applicant"):
        if getattr(locked, f"{name}_id") == getattr(app, f"{name}_id"):
            setattr(locked, name, getattr(app, name))
    return locked


def _store_pull(app: Application, customer, response: BureauResponse, pulled: dict):
    """The BureauPull of `customer` for `app` (applicant or co-applicant)."""
    if response.unavailable:
        status = BureauPull.Status.UNAVAILABLE
    elif pulled["no_hit"]:
        status = BureauPull.Status.NO_HIT
    else:
        status = BureauPull.Status.OK
    report = response.report() if response.ok else None
    return BureauPull.objects.create(
        application=app,
        customer=customer,
        bureau=response.bureau,
        status=status,
        attempts=response.attempts,
        raw_encrypted=encrypt_report(response.raw or {"error": response.error}),
        summary=report_summary(report) if report else {"error": response.error},
        score=pulled["score"],
        pulled_at=pulled["pulled_at"],
    )


def run_decision(application: Application, *, acting_user=None, adapter=None, backoff=None):
    """Decide a submitted application automatically (see the module
    docstring). An application no longer submitted is returned unchanged."""
    app = Application.objects.select_related("product", "applicant", "co_applicant").get(
        pk=application.pk
    )
    if app.state != S.SUBMITTED:
        return app
    result = evaluate_application(app, adapter=adapter, backoff=backoff)
    with transaction.atomic():
        app = _lock_keeping_relations(app)
        if app.state != S.SUBMITTED:
            return app
        co = result["co_applicant"]
        if co is not None:
            # first, so that the applicant's stays the latest pull
            _store_pull(app, co["customer"], co["response"], co)
        pull = _store_pull(app, app.applicant, result["response"], result["applicant_pull"])
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
