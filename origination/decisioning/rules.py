"""Policy rules engine: plain-data rule sets, evaluated with a full trace.

A rule set is a list of rules (or a dict with a "rules" list plus optional
"name" and "version"), each rule a dict::

    {"code": "D01", "description": "Credit score below minimum",
     "variable": "score", "operator": "<", "value": 580,
     "outcome": "decline", "reason_code": "CREDIT_SCORE",
     "reason_text": "Credit score below minimum"}

Operators: < <= > >= == != in not_in between is_true is_false. `in` and
`not_in` take a list; `between` takes [low, high], both inclusive;
`is_true`/`is_false` take no value. Decimal thresholds are written as
strings ("0.50"); floats are refused so that a rule set round-trips through
JSON exactly. `reason_text` defaults to the catalogue text of `reason_code`.

A rule *fires* when its comparison is true. Outcome precedence: any fired
decline -> decline; else any fired refer, or any rule whose variable is
missing (absent or None) -> refer; else approve. A fired "approve" rule is
recorded but cannot override a decline or a refer. Principal reasons: the
fired declines' reasons in rule order, then refer reasons, deduplicated by
reason code, at most four; "Credit application incomplete" (for missing
inputs) comes last.
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from core.exceptions import ValidationFailed
from origination.decisioning.reasons import REASONS, Outcome, Reason
from origination.decisioning.variables import (
    VARIABLES,
    Variable,
    VariableTypeError,
    coerce,
    json_safe,
)

OUTCOMES = ("approve", "decline", "refer")
MAX_PRINCIPAL_REASONS = 4
MISSING_REASON_CODE = "INCOMPLETE_APPLICATION"

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": op.lt,
    "<=": op.le,
    ">": op.gt,
    ">=": op.ge,
    "==": op.eq,
    "!=": op.ne,
}
OPERATORS = (*_COMPARISONS, "in", "not_in", "between", "is_true", "is_false")
_ORDERED = ("<", "<=", ">", ">=", "between")
_OPERATORS_BY_TYPE = {
    "int": (*_COMPARISONS, "in", "not_in", "between"),
    "decimal": (*_COMPARISONS, "in", "not_in", "between"),
    "str": ("==", "!=", "in", "not_in"),
    "bool": ("==", "!=", "is_true", "is_false"),
}
_RULE_KEYS = {
    "code",
    "description",
    "variable",
    "operator",
    "value",
    "outcome",
    "reason_code",
    "reason_text",
}


class RuleSetInvalid(ValidationFailed):
    """A rule set failed validation; `errors` has one message per problem."""

    default_code = "invalid_rule_set"

    def __init__(self, errors: Sequence[str]):
        self.errors = tuple(errors)
        super().__init__(
            "invalid rule set: " + "; ".join(self.errors), fields={"rules": list(self.errors)}
        )


@dataclass(frozen=True)
class Rule:
    """A validated rule; `value` holds the coerced comparison value(s)."""

    code: str
    description: str
    variable: Variable
    operator: str
    value: Any
    raw_value: Any
    outcome: Outcome
    reason_code: str
    reason_text: str


@dataclass(frozen=True)
class RuleTrace:
    """How one rule went: the input it saw, the comparison, and the result.

    status is "fired", "not_fired" or "missing" (the variable was absent or
    None; the rule could not be evaluated and the decision refers).
    """

    code: str
    description: str
    variable: str
    operator: str
    expected: Any
    seen: Any
    comparison: str
    fired: bool
    status: Literal["fired", "not_fired", "missing"]
    outcome: Outcome

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "variable": self.variable,
            "operator": self.operator,
            "expected": json_safe(self.expected),
            "seen": json_safe(self.seen),
            "comparison": self.comparison,
            "fired": self.fired,
            "status": self.status,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    trace: tuple[RuleTrace, ...]
    missing: tuple[str, ...]
    rule_set_name: str = ""
    rule_set_version: Any = None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, for storing the trace with the application."""
        return {
            "outcome": self.outcome,
            "rule_set": {"name": self.rule_set_name, "version": self.rule_set_version},
            "reasons": [r.as_dict() for r in self.reasons],
            "missing": list(self.missing),
            "trace": [t.as_dict() for t in self.trace],
        }


# --------------------------------------------------------------------------- validation


def _rules_of(rule_set: Any) -> tuple[Any, str, Any]:
    if isinstance(rule_set, Mapping):
        return rule_set.get("rules"), str(rule_set.get("name", "")), rule_set.get("version")
    return rule_set, "", None


def _coerce_config(variable: Variable, value: Any) -> Any:
    if isinstance(value, float):
        raise VariableTypeError(f'write {value!r} as a string such as "{value}", not a float')
    return coerce(variable, value)


def _compile(index: int, spec: Any, errors: list[str]) -> Rule | None:
    label = f"rule {index + 1}"
    if not isinstance(spec, Mapping):
        errors.append(f"{label}: must be an object, got {type(spec).__name__}")
        return None
    code = spec.get("code")
    if isinstance(code, str) and code:
        label = f"rule {index + 1} ({code})"
    problems: list[str] = []
    if not isinstance(code, str) or not code.strip():
        problems.append("code is required")
    unknown_keys = sorted(set(spec) - _RULE_KEYS)
    if unknown_keys:
        problems.append(f"unknown keys {unknown_keys}")
    name = spec.get("variable")
    variable = VARIABLES.get(name) if isinstance(name, str) else None
    if variable is None:
        problems.append(f"unknown variable {name!r} (declared: {', '.join(sorted(VARIABLES))})")
    operator = spec.get("operator")
    if operator not in OPERATORS:
        problems.append(f"unknown operator {operator!r} (expected one of {', '.join(OPERATORS)})")
    elif variable is not None and operator not in _OPERATORS_BY_TYPE[variable.type]:
        problems.append(
            f"operator {operator!r} does not apply to {variable.type} variable {variable.name!r}"
        )
    outcome = spec.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(f"unknown outcome {outcome!r} (expected decline, refer or approve)")
    reason_code = spec.get("reason_code") or ""
    reason_text = spec.get("reason_text") or REASONS.get(reason_code, "")
    if outcome in ("decline", "refer"):
        if not reason_code:
            problems.append(f"a {outcome} rule needs a reason_code")
        elif not reason_text:
            problems.append(f"reason_code {reason_code!r} is not in the catalogue: add reason_text")

    value = None
    raw_value = spec.get("value")
    if variable is not None and operator in OPERATORS and not problems:
        try:
            value = _compile_value(variable, operator, raw_value)
        except (VariableTypeError, ValueError) as exc:
            problems.append(f"value {raw_value!r}: {exc}")
    if problems:
        errors.append(f"{label}: " + "; ".join(problems))
        return None
    return Rule(
        code=code,
        description=str(spec.get("description") or ""),
        variable=variable,
        operator=operator,
        value=value,
        raw_value=raw_value,
        outcome=outcome,
        reason_code=reason_code,
        reason_text=reason_text,
    )


def _compile_value(variable: Variable, operator: str, raw: Any) -> Any:
    if operator in ("is_true", "is_false"):
        if raw is not None:
            raise ValueError(f"{operator} takes no value")
        return None
    if operator in ("in", "not_in"):
        if not isinstance(raw, list | tuple) or not raw:
            raise ValueError(f"{operator} needs a non-empty list")
        return tuple(_coerce_config(variable, v) for v in raw)
    if operator == "between":
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise ValueError("between needs [low, high]")
        low, high = (_coerce_config(variable, v) for v in raw)
        if low > high:
            raise ValueError("between needs low <= high")
        return (low, high)
    if raw is None or isinstance(raw, list | tuple | Mapping):
        raise ValueError(f"{operator} needs a single value")
    return _coerce_config(variable, raw)


def validate_rule_set(rule_set: Any) -> tuple[Rule, ...]:
    """Check every rule; return them compiled, or raise RuleSetInvalid listing each problem."""
    rules, _, _ = _rules_of(rule_set)
    if not isinstance(rules, list | tuple):
        raise RuleSetInvalid(["a rule set is a list of rules (or {'rules': [...]})"])
    errors: list[str] = []
    compiled = [_compile(i, spec, errors) for i, spec in enumerate(rules)]
    seen: set[str] = set()
    for i, spec in enumerate(rules):
        code = spec.get("code") if isinstance(spec, Mapping) else None
        if isinstance(code, str) and code:
            if code in seen:
                errors.append(f"rule {i + 1} ({code}): duplicate code")
            seen.add(code)
    if errors:
        raise RuleSetInvalid(errors)
    return tuple(r for r in compiled if r is not None)


# --------------------------------------------------------------------------- evaluation


def _describe(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _apply(rule: Rule, seen: Any) -> tuple[bool, str]:
    name = rule.variable.name
    shown = _describe(seen)
    if rule.operator in _COMPARISONS:
        fired = _COMPARISONS[rule.operator](seen, rule.value)
        text = f"{name} {shown} {rule.operator} {_describe(rule.value)}"
    elif rule.operator == "in":
        fired = seen in rule.value
        text = f"{name} {shown} in {_describe(rule.value)}"
    elif rule.operator == "not_in":
        fired = seen not in rule.value
        text = f"{name} {shown} not in {_describe(rule.value)}"
    elif rule.operator == "between":
        low, high = rule.value
        fired = low <= seen <= high
        text = f"{_describe(low)} <= {name} {shown} <= {_describe(high)}"
    elif rule.operator == "is_true":
        fired = seen is True
        text = f"{name} {shown} is true"
    else:
        fired = seen is False
        text = f"{name} {shown} is false"
    return fired, f"{text}: {'true' if fired else 'false'}"


def _trace(
    rule: Rule,
    seen: Any,
    comparison: str,
    fired: bool,
    status: Literal["fired", "not_fired", "missing"],
) -> RuleTrace:
    """The trace of one rule: what it saw and how it went."""
    return RuleTrace(
        code=rule.code,
        description=rule.description,
        variable=rule.variable.name,
        operator=rule.operator,
        expected=rule.raw_value,
        seen=seen,
        comparison=comparison,
        fired=fired,
        status=status,
        outcome=rule.outcome,
    )


def evaluate(rule_set: Any, variables: Mapping[str, Any]) -> Decision:
    """Evaluate every rule against `variables` (names from VARIABLES; extra names ignored).

    Raises RuleSetInvalid for a bad rule set and VariableTypeError for an
    input of the wrong type (a float, a string where a bool belongs).
    """
    rules = validate_rule_set(rule_set)
    _, name, version = _rules_of(rule_set)
    trace: list[RuleTrace] = []
    declines: list[Reason] = []
    refers: list[Reason] = []
    incomplete: list[Reason] = []
    missing: list[str] = []
    for rule in rules:
        var = rule.variable.name
        original = variables.get(var)
        if original is None:
            if var not in missing:
                missing.append(var)
            trace.append(_trace(rule, None, f"{var} is missing: refer", False, "missing"))
            incomplete.append(
                Reason(
                    code=MISSING_REASON_CODE,
                    text=REASONS[MISSING_REASON_CODE],
                    outcome="refer",
                    rule_code=rule.code,
                )
            )
            continue
        fired, comparison = _apply(rule, coerce(rule.variable, original))
        trace.append(_trace(rule, original, comparison, fired, "fired" if fired else "not_fired"))
        if fired and rule.outcome != "approve":
            reason = Reason(rule.reason_code, rule.reason_text, rule.outcome, rule.code)
            (declines if rule.outcome == "decline" else refers).append(reason)

    if declines:
        outcome: Outcome = "decline"
    elif refers or incomplete:
        outcome = "refer"
    else:
        outcome = "approve"
    principal: list[Reason] = []
    for reason in declines + refers + incomplete:
        if len(principal) == MAX_PRINCIPAL_REASONS:
            break
        if all(reason.code != p.code for p in principal):
            principal.append(reason)
    return Decision(
        outcome=outcome,
        reasons=tuple(principal),
        trace=tuple(trace),
        missing=tuple(missing),
        rule_set_name=name,
        rule_set_version=version,
    )


# The name the package exports, beside evaluate_scorecard.
evaluate_rules = evaluate
