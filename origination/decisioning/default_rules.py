"""The default consumer-installment policy: a plain-data rule set (see
origination.decisioning.rules for the format and how it is evaluated).
Products copy it as their starting rule set."""

from __future__ import annotations

from typing import Any

from origination.decisioning.reasons import REASONS


def _rule(code, description, variable, operator, value, outcome, reason_code):
    rule = {
        "code": code,
        "description": description,
        "variable": variable,
        "operator": operator,
        "outcome": outcome,
        "reason_code": reason_code,
        "reason_text": REASONS[reason_code],
    }
    if value is not None:
        rule["value"] = value
    return rule


# Plain data (JSON round-trips exactly). Copy before editing: it is shared.
DEFAULT_RULE_SET: dict[str, Any] = {
    "name": "default-consumer-installment",
    "version": 1,
    "rules": [
        # Knock-outs.
        _rule("KO01", "Applicant under 18", "age", "<", 18, "decline", "MINIMUM_AGE"),
        _rule(
            "KO02", "Credit score below minimum (580)", "score", "<", 580, "decline", "CREDIT_SCORE"
        ),
        _rule(
            "KO03",
            "Bankruptcy on the credit file",
            "has_bankruptcy",
            "is_true",
            None,
            "decline",
            "BANKRUPTCY",
        ),
        _rule(
            "KO04",
            "Debt-to-income above 50%",
            "dti",
            ">",
            "0.50",
            "decline",
            "EXCESSIVE_OBLIGATIONS",
        ),
        _rule(
            "KO05",
            "Three or more late months in 24 months",
            "delinquencies_24m",
            ">=",
            3,
            "decline",
            "DELINQUENT_CREDIT",
        ),
        _rule(
            "KO06", "No stated income", "monthly_income", "<=", 0, "decline", "INSUFFICIENT_INCOME"
        ),
        # Referrals to an underwriter.
        _rule(
            "RF01",
            "Credit bureau unavailable",
            "bureau_unavailable",
            "is_true",
            None,
            "refer",
            "BUREAU_UNAVAILABLE",
        ),
        _rule(
            "RF02", "No credit file", "no_credit_file", "is_true", None, "refer", "NO_CREDIT_FILE"
        ),
        _rule(
            "RF03",
            "Thin credit file",
            "thin_file",
            "is_true",
            None,
            "refer",
            "INSUFFICIENT_CREDIT_FILE",
        ),
        _rule(
            "RF04",
            "Identity checks not passed",
            "kyc_passed",
            "is_false",
            None,
            "refer",
            "UNABLE_TO_VERIFY_IDENTITY",
        ),
        _rule(
            "RF05",
            "Potential sanctions match",
            "sanctions_hit",
            "is_true",
            None,
            "refer",
            "SANCTIONS_REVIEW",
        ),
        _rule(
            "RF06",
            "Credit score 580-639",
            "score",
            "between",
            [580, 639],
            "refer",
            "CREDIT_SCORE_REVIEW",
        ),
        _rule(
            "RF07",
            "Employment under 6 months",
            "employment_months",
            "<",
            6,
            "refer",
            "LENGTH_OF_EMPLOYMENT",
        ),
        _rule(
            "RF08",
            "Amount above 5x monthly income",
            "amount_to_income",
            ">",
            "5",
            "refer",
            "INSUFFICIENT_INCOME",
        ),
        _rule(
            "RF09",
            "Payment-to-income above 20%",
            "pti",
            ">",
            "0.20",
            "refer",
            "INSUFFICIENT_INCOME",
        ),
        _rule(
            "RF10", "Debt-to-income 43-50%", "dti", ">", "0.43", "refer", "EXCESSIVE_OBLIGATIONS"
        ),
        _rule(
            "RF11",
            "One or two late months in 24 months",
            "delinquencies_24m",
            "between",
            [1, 2],
            "refer",
            "DELINQUENT_CREDIT",
        ),
        _rule(
            "RF12",
            "Public record other than bankruptcy",
            "public_records",
            ">=",
            1,
            "refer",
            "COLLECTION_OR_JUDGMENT",
        ),
        _rule(
            "RF13",
            "Six or more inquiries in 6 months",
            "inquiries_6m",
            ">=",
            6,
            "refer",
            "EXCESSIVE_INQUIRIES",
        ),
        _rule(
            "RF14",
            "Scorecard below cut-off (380 points)",
            "scorecard_points",
            "<",
            380,
            "refer",
            "SCORECARD_CUTOFF",
        ),
    ],
}
