"""The rules of a joint application (an applicant and a co-applicant).

The co-applicant gets the product's rules on subject-level inputs (credit
file, age, identity: SUBJECT_VARIABLES), their reasons marked
"Co-applicant: ..."; the score the policy, the scorecard and pricing use is
the lower of the two (decision_score). Affordability takes the one stated
(household) income and both subjects' bureau obligations; a decline that
rests only on adding the co-applicant's obligations refers instead, for an
underwriter to verify the income. Pure: functions of their arguments.
"""

from __future__ import annotations

from dataclasses import replace

from origination.decisioning.affordability import assess_affordability
from origination.decisioning.reasons import Outcome, Reason
from origination.decisioning.rules import Decision, evaluate_rules

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
# Rule variables that adding the co-applicant's obligations changes.
JOINT_OBLIGATION_VARIABLES = frozenset({"dti", "pti", "residual_income"})
JOINT_ONLY_NOTE = (
    " (with the co-applicant's obligations; their income is not captured"
    " separately: verify the household income)"
)


def decision_score(applicant_score: int | None, co_applicant_score: int | None) -> int | None:
    """The credit score a (joint) application is decided and priced on: the
    lower of the two subjects' scores; the one there is when only one
    subject has a score (a co-applicant without a score refers through
    their own no-file / thin-file / bureau rules)."""
    scores = [s for s in (applicant_score, co_applicant_score) if s is not None]
    return min(scores) if scores else None


def subject_rule_set(rule_set) -> dict:
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


def joint_only_affordability_declines(
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


def applicant_reasons(rules: Decision, *, score, score_from_co_applicant) -> list[Reason]:
    """The rules' reasons; a score reason names the co-applicant's score
    when that is the one used."""
    reasons = list(rules.reasons)
    if score_from_co_applicant:
        score_rules = {t.code for t in rules.trace if t.variable == "score"}
        reasons = [
            replace(r, text=f"{r.text} (the co-applicant's score, {score})")
            if r.rule_code in score_rules
            else r
            for r in reasons
        ]
    return reasons


def refer_joint_only(
    outcome: Outcome, reasons: list[Reason], rules: Decision, joint_only: set
) -> tuple[Outcome, list[Reason]]:
    """A decline that rests only on adding the co-applicant's obligations
    to the one stated income (the co-applicant's income is not captured
    separately) goes to an underwriter to verify the household income."""
    if not joint_only:
        return outcome, reasons
    reasons = [
        replace(r, outcome="refer", text=r.text + JOINT_ONLY_NOTE)
        if r.rule_code in joint_only
        else r
        for r in reasons
    ]
    still_declined = any(
        t.fired and t.outcome == "decline" and t.code not in joint_only for t in rules.trace
    )
    return ("decline" if still_declined else "refer"), reasons


def merge_reasons(main: list[Reason], co: tuple[Reason, ...]) -> list[Reason]:
    """Declines before refers (the applicant's first within each), without
    repeating a reason (code and subject); each subject's list is already
    at most the rules engine's principal reasons."""
    merged: list[Reason] = []
    for outcome in ("decline", "refer", "approve"):
        for reason in [*main, *co]:
            if reason.outcome != outcome:
                continue
            if all((m.code, m.subject) != (reason.code, reason.subject) for m in merged):
                merged.append(reason)
    return merged


def joint_outcome(
    outcome: Outcome, reasons: list[Reason], co_outcome: Outcome, co_reasons: tuple[Reason, ...]
) -> tuple[Outcome, list[Reason]]:
    """The joint outcome (the worse of the two subjects') and reasons."""
    outcomes = (outcome, co_outcome)
    if "decline" in outcomes:
        outcome = "decline"
    elif "refer" in outcomes:
        outcome = "refer"
    return outcome, merge_reasons(reasons, co_reasons)
