"""The catalogue of decision reason codes and their notice texts.

Decline reasons end up, verbatim, as the "principal reasons" of an adverse
action notice, so their texts follow the Regulation B sample forms (12 CFR
1002, Appendix C, form C-1) wherever one fits, and are specific otherwise.
Refer reasons are read by underwriters and may be more technical.

Codes are stable identifiers (stored in traces and notices); texts may be
reworded without migrating anything. A decision's reasons are Reason
values (the rules engine's and the ones the automatic decision adds).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

Outcome = Literal["approve", "decline", "refer"]

REASONS: dict[str, str] = {
    # Regulation B, Appendix C, sample form C-1 wording.
    "INCOMPLETE_APPLICATION": "Credit application incomplete",
    "INSUFFICIENT_CREDIT_REFERENCES": "Insufficient number of credit references provided",
    "UNABLE_TO_VERIFY_CREDIT": "Unable to verify credit references",
    "TEMPORARY_EMPLOYMENT": "Temporary or irregular employment",
    "UNABLE_TO_VERIFY_EMPLOYMENT": "Unable to verify employment",
    "LENGTH_OF_EMPLOYMENT": "Length of employment",
    "INSUFFICIENT_INCOME": "Income insufficient for amount of credit requested",
    "EXCESSIVE_OBLIGATIONS": "Excessive obligations in relation to income",
    "UNABLE_TO_VERIFY_INCOME": "Unable to verify income",
    "LENGTH_OF_RESIDENCE": "Length of residence",
    "TEMPORARY_RESIDENCE": "Temporary residence",
    "UNABLE_TO_VERIFY_RESIDENCE": "Unable to verify residence",
    "NO_CREDIT_FILE": "No credit file",
    "LIMITED_CREDIT_EXPERIENCE": "Limited credit experience",
    "POOR_CREDIT_PERFORMANCE_WITH_US": "Poor credit performance with us",
    "DELINQUENT_CREDIT": "Delinquent past or present credit obligations with others",
    "COLLECTION_OR_JUDGMENT": "Collection action or judgment",
    "GARNISHMENT": "Garnishment or attachment",
    "FORECLOSURE": "Foreclosure or repossession",
    "BANKRUPTCY": "Bankruptcy",
    "EXCESSIVE_INQUIRIES": "Number of recent inquiries on credit bureau report",
    "INSUFFICIENT_COLLATERAL": "Value or type of collateral not sufficient",
    # Specific reasons the sample form leaves to "Other, specify".
    "INSUFFICIENT_CREDIT_FILE": "Insufficient credit file",
    "CREDIT_SCORE": "Credit score below minimum",
    "CREDIT_SCORE_REVIEW": "Credit score requires manual review",
    "MINIMUM_AGE": "Applicant has not reached the minimum age to contract",
    "AMOUNT_OUTSIDE_LIMITS": "Amount or term requested outside product limits",
    "SCORECARD_CUTOFF": "Application score below cut-off",
    "RESIDENTIAL_STATUS": "Residential status",
    "UNABLE_TO_VERIFY_IDENTITY": "Unable to verify identity",
    "SANCTIONS_REVIEW": "Potential sanctions list match requires compliance review",
    "SANCTIONS_MATCH": "Applicant matches a U.S. government sanctions list",
    "BUREAU_UNAVAILABLE": "Credit report could not be obtained",
}


def reason_text(code: str) -> str:
    """The catalogue text for `code`; KeyError names the unknown code."""
    try:
        return REASONS[code]
    except KeyError:
        raise KeyError(f"unknown reason code {code!r}") from None


CO_APPLICANT = "co_applicant"
CO_APPLICANT_PREFIX = "Co-applicant: "


@dataclass(frozen=True)
class Reason:
    """One reason of a decision: a catalogue code, the text shown (on a
    notice, verbatim), the outcome it argues for, the policy rule that gave
    it ("" for one the decision adds itself) and, for a reason about the
    co-applicant of a joint application, the subject and their customer id.
    `as_dict` is the form stored in traces, decision records and on the
    application (subject and customer only when there is a subject)."""

    code: str
    text: str
    outcome: Outcome
    rule_code: str = ""
    subject: str | None = None
    customer: int | None = None

    @classmethod
    def of(cls, code: str, outcome: Outcome, *, rule_code: str = "") -> Reason:
        """The reason `code` with its catalogue text."""
        return cls(code=code, text=reason_text(code), outcome=outcome, rule_code=rule_code)

    def for_co_applicant(self, customer_id: int) -> Reason:
        """The same reason about the co-applicant `customer_id`."""
        return replace(
            self,
            text=CO_APPLICANT_PREFIX + self.text,
            subject=CO_APPLICANT,
            customer=customer_id,
        )

    def as_dict(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "code": self.code,
            "text": self.text,
            "outcome": self.outcome,
            "rule": self.rule_code,
        }
        if self.subject is not None:
            stored.update(subject=self.subject, customer=self.customer)
        return stored


# Refer reasons the automatic decision adds itself (no rule gives them, so
# they are not in the catalogue a rule set or an underwriter picks from).
CANNOT_PRICE = Reason(
    "CANNOT_PRICE", "No price in the product's grid for this score and term", "refer"
)
SANCTIONS_UNAVAILABLE = Reason("SANCTIONS_UNAVAILABLE", "Sanctions screening unavailable", "refer")
DOCUMENTS_OUTSTANDING = Reason(
    "DOCUMENTS_OUTSTANDING", "Required documents are not yet verified", "refer"
)
