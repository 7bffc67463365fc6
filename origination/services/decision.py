"""The automatic decision of a submitted application.

run_decision evaluates the application outside the write transaction
(evaluate_application, a frozen Decision: it pulls the credit report with
retry through the configured adapter, computes the proposed payment with the
engine on the priced terms, affordability, the scorecard, the identity
checks and the sanctions screening, and evaluates the product's rule set),
then stores the BureauPull and a DecisionRecord with the full trace, and
moves the application:
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
scores (the joint rules: origination.decisioning.joint). The trace shows
both subjects' inputs ("subjects", "score_used").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.businessdate import get_business_date
from core.exceptions import DomainError
from core.finance import TermsError, build_schedule, product_terms
from customers.models import Customer
from origination.decisioning.affordability import (
    Affordability,
    amount_to_income,
    assess_affordability,
)
from origination.decisioning.bureau import (
    BureauIdentity,
    BureauResponse,
    CreditReport,
    bureau_variables,
    pull_with_retry,
    report_summary,
)
from origination.decisioning.identity import IdentityResult
from origination.decisioning.joint import (
    applicant_reasons,
    decision_score,
    joint_only_affordability_declines,
    joint_outcome,
    refer_joint_only,
    subject_rule_set,
)
from origination.decisioning.reasons import (
    CANNOT_PRICE,
    CO_APPLICANT,
    DOCUMENTS_OUTSTANDING,
    SANCTIONS_UNAVAILABLE,
    Outcome,
    Reason,
)
from origination.decisioning.rules import Decision as RuleDecision
from origination.decisioning.rules import evaluate_rules
from origination.decisioning.scorecard import evaluate_scorecard
from origination.models import (
    Application,
    ApplicationState,
    BureauPull,
    DecisionRecord,
    encrypt_report,
)
from origination.services import adverse_action, kyc
from origination.services._common import apply_transition, lock
from origination.services.bureau_reports import bureau_adapter
from origination.services.closing import make_offers
from origination.services.documents import missing_documents
from origination.services.products import fee_amounts, highest_rate_for, price_for

S = ApplicationState

RESIDENTIAL = {"own": "own", "mortgage": "own", "rent": "rent", "other": "other"}


@dataclass(frozen=True)
class Pull:
    """One subject's credit bureau pull (stored as a BureauPull)."""

    customer: Customer
    response: BureauResponse
    pulled_at: datetime
    bureau_vars: dict[str, Any]
    report: CreditReport | None

    @property
    def score(self) -> int | None:
        return self.report.score if self.report else None

    @property
    def no_hit(self) -> bool:
        return bool(self.report is not None and not self.report.hit)


@dataclass(frozen=True)
class CoApplicant:
    """The co-applicant's pull, identity checks and subject-level rules."""

    pull: Pull
    identity: IdentityResult
    age: int | None
    rules: RuleDecision
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Decision:
    """What evaluate_application found, before anything is written: the
    outcome and its reasons, the figures stored on the application, the
    pulls to store, the rule inputs and the trace (JSON-safe, the shape
    DecisionRecord.trace keeps)."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    score: int | None
    rate: Decimal | None
    payment: Decimal | None
    affordability: Affordability | None
    scorecard_points: int | None
    applicant_pull: Pull
    co_applicant: CoApplicant | None
    variables: dict[str, Any]
    trace: dict[str, Any]
    rule_set_version: str

    @property
    def pulls(self) -> tuple[Pull, ...]:
        """The pulls to store, the co-applicant's first (so that the
        applicant's stays the application's latest)."""
        if self.co_applicant is None:
            return (self.applicant_pull,)
        return (self.co_applicant.pull, self.applicant_pull)


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


def _pull(customer, adapter, backoff) -> Pull:
    pulled_at = timezone.now()
    identity = _identity(customer)
    if identity is None:
        response = BureauResponse(
            bureau=adapter.name,
            status="unavailable",
            raw=None,
            attempts=0,
            error="No date of birth or 9-digit tax id on file: the report cannot be pulled.",
        )
    else:
        response = pull_with_retry(
            adapter, identity, pulled_at=pulled_at, backoff=backoff or _settings_backoff
        )
    return Pull(
        customer=customer,
        response=response,
        pulled_at=pulled_at,
        bureau_vars=bureau_variables(response),
        report=response.report() if response.ok else None,
    )


def _settings_backoff(attempt: int) -> None:
    """Wait BUREAU_RETRY_BASE_SECONDS x 2^(attempt-1) before the next try
    (0.25 s, 0.5 s, ... by default; 0 under TESTING, so tests never sleep)."""
    base = settings.BUREAU_RETRY_BASE_SECONDS
    if base > 0:
        time.sleep(base * 2 ** (attempt - 1))


def proposed_payment(product, amount: Decimal, term: int, rate: Decimal, disbursed_on):
    """The level instalment of `amount` over `term` at `rate` on the
    product's engine settings (core.finance.build_schedule)."""
    terms = product_terms(
        product,
        principal=amount,
        annual_rate=rate,
        term=term,
        disbursement_date=disbursed_on,
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


def _bureau_summary(pull: Pull) -> dict:
    return {
        "customer": pull.customer.pk,
        "bureau": pull.response.bureau,
        "status": pull.response.status,
        "attempts": pull.response.attempts,
        "error": pull.response.error,
        "score": pull.score,
    }


def _evaluate_co_applicant(app: Application, adapter, backoff, business_date) -> CoApplicant:
    """The co-applicant's pull, identity checks and subject-level rules."""
    customer = app.co_applicant
    pull = _pull(customer, adapter, backoff)
    identity = kyc.check_identity(customer=customer)
    age = customer.age_on(business_date)
    variables = {**pull.bureau_vars, "age": age, "kyc_passed": identity.passed}
    rules = evaluate_rules(subject_rule_set(app.product.rule_set), variables)
    return CoApplicant(
        pull=pull,
        identity=identity,
        age=age,
        rules=rules,
        reasons=tuple(r.for_co_applicant(customer.pk) for r in rules.reasons),
    )


def _price(app: Application, score, business_date) -> tuple[Decimal | None, Decimal | None, Any]:
    """The grid rate for `score`; the rate the proposed payment is computed
    at (the grid's highest for the term when the score has no price); and
    that payment (None when there is no rate or the engine refuses)."""
    product = app.product
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
    return rate, payment_rate, payment


def _affordability(
    app: Application, bureau_vars, payment, co: CoApplicant | None
) -> Affordability | None:
    """Affordability of the proposed payment on the stated income and both
    subjects' bureau obligations (None without a payment or an income)."""
    if payment is None or app.gross_monthly_income is None:
        return None
    return assess_affordability(
        gross_monthly_income=app.gross_monthly_income,
        housing_cost=app.housing_cost,
        bureau_monthly_obligations=bureau_vars.get("bureau_monthly_obligations") or 0,
        other_obligations=app.other_obligations,
        proposed_payment=payment,
        # The application captures one stated income (the household's,
        # "from all sources"); there is no separate co-applicant income.
        co_applicant_income=None,
        co_applicant_bureau_obligations=(
            (co.pull.bureau_vars.get("bureau_monthly_obligations") or 0) if co else None
        ),
    )


def _screenings(app: Application) -> list[dict]:
    """The sanctions screening of the applicant (and co-applicant)."""
    screenings = [_screen(app.applicant, app.pk)]
    if app.co_applicant_id:
        screenings.append(_screen(app.co_applicant, app.pk))
    return screenings


def _rule_variables(
    app: Application, bureau_vars, *, age, identity, sanctions_flag, affordability
) -> dict:
    """The inputs of the scorecard and the product's rules."""
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
        "sanctions_hit": sanctions_flag,
    }
    if affordability is not None:
        variables.update(affordability.variables())
    else:
        variables.setdefault("monthly_income", app.gross_monthly_income)
    return variables


def _referrals(
    reasons: list[Reason], *, pull: Pull, co: CoApplicant | None, sanctions_unavailable, rate
) -> list[Reason]:
    """The refer reasons the decision adds to one not declined: sanctions
    screening or the bureau unavailable, no price for the score."""
    extra = []
    if sanctions_unavailable:
        extra.append(SANCTIONS_UNAVAILABLE)
    if rate is None:
        extra.append(CANNOT_PRICE)
    unavailable = Reason.of("BUREAU_UNAVAILABLE", "refer")
    if pull.response.unavailable and not any(r.code == unavailable.code for r in reasons):
        extra.append(unavailable)
    if (
        co is not None
        and co.pull.response.unavailable
        and not any(r.code == unavailable.code and r.subject == CO_APPLICANT for r in reasons)
    ):
        extra.append(unavailable.for_co_applicant(co.pull.customer.pk))
    return extra


def _trace(
    app: Application,
    *,
    outcome,
    rules: RuleDecision,
    scorecard,
    pull: Pull,
    co: CoApplicant | None,
    score,
    rate,
    payment,
    payment_rate,
    affordability: Affordability | None,
    identity,
    age,
    screenings,
) -> dict:
    """The decision's full trace, as DecisionRecord.trace stores it."""
    affordability_trace = {"proposed_payment": payment, "payment_rate": payment_rate}
    if affordability is not None:
        affordability_trace.update(
            gross_monthly_income=affordability.gross_monthly_income,
            total_obligations=affordability.total_obligations,
            dti=affordability.dti,
            pti=affordability.pti,
            residual_income=affordability.residual_income,
            income_zero=affordability.income_zero,
        )
        affordability_trace.update(affordability.breakdown())
    trace = {
        "rules": rules.as_dict(),
        "scorecard": scorecard.as_dict(),
        "affordability": affordability_trace,
        "kyc": identity.to_dict(),
        "sanctions": screenings,
        "bureau": {
            "bureau": pull.response.bureau,
            "status": pull.response.status,
            "attempts": pull.response.attempts,
            "error": pull.response.error,
            "score": score,
        },
        "pricing": {"annual_rate": rate, "term": app.requested_term},
        "outcome": outcome,
    }
    if co is not None:
        trace["score_used"] = {
            "applicant": pull.score,
            "co_applicant": co.pull.score,
            "used": score,
            "rule": "the lower of the applicant's and the co-applicant's scores",
        }
        affordability_trace["income_note"] = (
            "The application captures one stated gross monthly income (the combined "
            "household income); the co-applicant has no separate income field."
        )
        trace["subjects"] = {
            "applicant": {
                "customer": app.applicant_id,
                "age": age,
                "kyc": identity.to_dict(),
                "bureau": _bureau_summary(pull),
                "bureau_variables": pull.bureau_vars,
            },
            "co_applicant": {
                "customer": app.co_applicant_id,
                "age": co.age,
                "kyc": co.identity.to_dict(),
                "bureau": _bureau_summary(co.pull),
                "bureau_variables": co.pull.bureau_vars,
                "rules": co.rules.as_dict(),
            },
        }
    return _json(trace)


def evaluate_application(app: Application, *, adapter=None, backoff=None) -> Decision:
    """Everything the decision needs, computed outside the write transaction
    (the bureau pull may take seconds).

    With a co-applicant: their bureau report is pulled first (so the
    applicant's stays the application's latest pull), they get the identity
    checks and the subject-level rules (see the module docstring), and
    affordability is on the combined income and obligations. The score used
    for the rules, the scorecard and pricing is the lower of the two
    scores; the trace's "score_used" shows both and the one used."""
    adapter = adapter or bureau_adapter()
    business_date = get_business_date()
    co = (
        _evaluate_co_applicant(app, adapter, backoff, business_date)
        if app.co_applicant_id
        else None
    )
    pull = _pull(app.applicant, adapter, backoff)
    bureau_vars = pull.bureau_vars
    score = decision_score(pull.score, co.pull.score) if co else pull.score
    if co is not None and "score" in bureau_vars:
        bureau_vars = {**bureau_vars, "score": score}

    rate, payment_rate, payment = _price(app, score, business_date)
    affordability = _affordability(app, bureau_vars, payment, co)
    identity = kyc.check_identity(customer=app.applicant)
    age = app.applicant.age_on(business_date)
    screenings = _screenings(app)
    sanctions_unavailable = any(s["status"] == "unavailable" for s in screenings)
    sanctions_hit = any(s["status"] == "potential_match" for s in screenings)
    variables = _rule_variables(
        app,
        bureau_vars,
        age=age,
        identity=identity,
        sanctions_flag=sanctions_hit or sanctions_unavailable,
        affordability=affordability,
    )
    scorecard = evaluate_scorecard(app.product.scorecard, variables)
    variables["scorecard_points"] = scorecard.total_points
    rules = evaluate_rules(app.product.rule_set, variables)

    reasons = applicant_reasons(
        rules,
        score=score,
        score_from_co_applicant=bool(co and score is not None and score != pull.score),
    )
    joint_only = joint_only_affordability_declines(
        app, variables, rules, bureau_vars=bureau_vars, affordability=affordability, payment=payment
    )
    outcome, reasons = refer_joint_only(rules.outcome, reasons, rules, joint_only)
    if co is not None:
        outcome, reasons = joint_outcome(outcome, reasons, co.rules.outcome, co.reasons)
    if outcome != "decline":
        extra = _referrals(
            reasons, pull=pull, co=co, sanctions_unavailable=sanctions_unavailable, rate=rate
        )
        if extra:
            outcome = "refer"
        reasons += extra

    return Decision(
        outcome=outcome,
        reasons=tuple(reasons),
        score=score,
        rate=rate,
        payment=payment,
        affordability=affordability,
        scorecard_points=scorecard.total_points,
        applicant_pull=pull,
        co_applicant=co,
        variables=variables,
        trace=_trace(
            app,
            outcome=outcome,
            rules=rules,
            scorecard=scorecard,
            pull=pull,
            co=co,
            score=score,
            rate=rate,
            payment=payment,
            payment_rate=payment_rate,
            affordability=affordability,
            identity=identity,
            age=age,
            screenings=screenings,
        ),
        rule_set_version=f"{rules.rule_set_name} v{rules.rule_set_version}",
    )


def _lock_keeping_relations(app: Application) -> Application:
    """The locked row, with the product and applicant already loaded (not
    fetched again: a submitted application's do not change)."""
    locked = lock(app)
    for name in ("product", "applicant", "co_applicant"):
        if getattr(locked, f"{name}_id") == getattr(app, f"{name}_id"):
            setattr(locked, name, getattr(app, name))
    return locked


def _store_pull(app: Application, pull: Pull) -> BureauPull:
    """The BureauPull of one subject's pull for `app`."""
    response = pull.response
    if response.unavailable:
        status = BureauPull.Status.UNAVAILABLE
    elif pull.no_hit:
        status = BureauPull.Status.NO_HIT
    else:
        status = BureauPull.Status.OK
    return BureauPull.objects.create(
        application=app,
        customer=pull.customer,
        bureau=response.bureau,
        status=status,
        attempts=response.attempts,
        raw_encrypted=encrypt_report(response.raw or {"error": response.error}),
        summary=report_summary(pull.report) if pull.report else {"error": response.error},
        score=pull.score,
        pulled_at=pull.pulled_at,
    )


def run_decision(application: Application, *, acting_user=None, adapter=None, backoff=None):
    """Decide a submitted application automatically (see the module
    docstring). An application no longer submitted is returned unchanged."""
    app = Application.objects.select_related("product", "applicant", "co_applicant").get(
        pk=application.pk
    )
    if app.state != S.SUBMITTED:
        return app
    decision = evaluate_application(app, adapter=adapter, backoff=backoff)
    with transaction.atomic():
        app = _lock_keeping_relations(app)
        if app.state != S.SUBMITTED:
            return app
        pull = [_store_pull(app, p) for p in decision.pulls][-1]  # the applicant's
        outcome = decision.outcome
        reasons = [r.as_dict() for r in decision.reasons]
        affordability = decision.affordability
        app.auto_outcome = outcome
        app.credit_score = decision.score
        app.scorecard_points = decision.scorecard_points
        app.dti = affordability.dti if affordability else None
        app.pti = affordability.pti if affordability else None
        fields = ["auto_outcome", "credit_score", "scorecard_points", "dti", "pti"]
        outstanding = missing_documents(app) if outcome == "approve" else []
        state_reasons = list(reasons)
        if outstanding:
            state_reasons.append(DOCUMENTS_OUTSTANDING.as_dict())
        app.decision_reasons = state_reasons
        fields.append("decision_reasons")
        DecisionRecord.objects.create(
            application=app,
            kind=DecisionRecord.Kind.AUTOMATIC,
            outcome=outcome,
            reasons=reasons,
            trace=decision.trace,
            inputs=_json(decision.variables),
            rule_set_version=decision.rule_set_version,
            note="Documents outstanding: " + ", ".join(d["kind"] for d in outstanding)
            if outstanding
            else "",
        )
        meta = {
            "outcome": outcome,
            "score": decision.score,
            "reasons": [r.code for r in decision.reasons],
        }
        if outcome == "approve" and not outstanding:
            app.approved_amount = app.requested_amount
            app.approved_term = app.requested_term
            app.approved_rate = decision.rate
            app.decided_at = timezone.now()
            apply_transition(
                app,
                "approve",
                acting_user=None,
                note="Automatic approval",
                fields=(*fields, "approved_amount", "approved_term", "approved_rate", "decided_at"),
                metadata=meta,
            )
            make_offers(application=app)
        elif outcome == "decline":
            app.decided_at = timezone.now()
            apply_transition(
                app,
                "decline",
                acting_user=None,
                note="Automatic decline: " + "; ".join(r.text for r in decision.reasons),
                fields=(*fields, "decided_at"),
                metadata=meta,
            )
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
