"""The catalogue of decision reason codes and their notice texts.

Decline reasons end up, verbatim, as the "principal reasons" of an adverse
action notice, so their texts follow the Regulation B sample forms (12 CFR
1002, Appendix C, form C-1) wherever one fits, and are specific otherwise.
Refer reasons are read by underwriters and may be more technical.

Codes are stable identifiers (stored in traces and notices); texts may be
reworded without migrating anything.
"""

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
