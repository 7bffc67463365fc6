"""Pure decisioning: bureau adapter interface and simulator, affordability,
scorecard and policy rules. No Django models, no database, no clock: every
function takes what it needs as arguments and returns frozen values (the
bureau adapter's `pull` is the one I/O boundary, behind a Protocol).
"""

from origination.decisioning.affordability import (
    Affordability,
    amount_to_income,
    assess_affordability,
)
from origination.decisioning.bureau import (
    BureauAdapter,
    BureauContact,
    BureauError,
    BureauIdentity,
    BureauReportInvalid,
    BureauResponse,
    BureauTimeout,
    BureauUnavailable,
    CreditReport,
    Inquiry,
    KeyFactor,
    PublicRecord,
    Tradeline,
    bureau_variables,
    parse_report,
    pull_with_retry,
)
from origination.decisioning.default_rules import DEFAULT_RULE_SET
from origination.decisioning.reasons import REASONS, reason_text
from origination.decisioning.rules import (
    OPERATORS,
    Decision,
    Reason,
    RuleSetInvalid,
    RuleTrace,
    evaluate_rules,
    validate_rule_set,
)
from origination.decisioning.scorecard import (
    DEFAULT_SCORECARD,
    CharacteristicScore,
    ScorecardInvalid,
    ScoreResult,
    evaluate_scorecard,
    validate_scorecard,
)
from origination.decisioning.simulated import SIMULATED_BUREAU_CONTACT, SimulatedBureau
from origination.decisioning.variables import VARIABLES, Variable, VariableTypeError

__all__ = [
    "DEFAULT_RULE_SET",
    "DEFAULT_SCORECARD",
    "OPERATORS",
    "REASONS",
    "SIMULATED_BUREAU_CONTACT",
    "VARIABLES",
    "Affordability",
    "BureauAdapter",
    "BureauContact",
    "BureauError",
    "BureauIdentity",
    "BureauReportInvalid",
    "BureauResponse",
    "BureauTimeout",
    "BureauUnavailable",
    "CharacteristicScore",
    "CreditReport",
    "Decision",
    "Inquiry",
    "KeyFactor",
    "PublicRecord",
    "Reason",
    "RuleSetInvalid",
    "RuleTrace",
    "ScoreResult",
    "ScorecardInvalid",
    "SimulatedBureau",
    "Tradeline",
    "Variable",
    "VariableTypeError",
    "amount_to_income",
    "assess_affordability",
    "bureau_variables",
    "evaluate_rules",
    "evaluate_scorecard",
    "parse_report",
    "pull_with_retry",
    "reason_text",
    "validate_rule_set",
    "validate_scorecard",
]
