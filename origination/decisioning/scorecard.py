"""Points-based application scorecard, configured as plain data.

A scorecard is a dict::

    {"name": "...", "version": 1, "base_points": 200,
     "characteristics": [
        {"variable": "dti", "reason_code": "EXCESSIVE_OBLIGATIONS",
         "missing_points": 0,
         "bins": [{"max": "0.20", "points": 60},
                  {"min": "0.20", "max": "0.30", "points": 50},
                  {"min": "0.50", "points": 0}]},
        {"variable": "residential_status", "reason_code": "RESIDENTIAL_STATUS",
         "bins": [{"categories": ["own"], "points": 30}, ...]}]}

Numeric bins are half-open, `min <= x < max`, either end may be omitted;
category bins list the values they hold. Bins are tried in order and the
first that matches counts. A missing value (absent or None), or one that no
bin holds, scores `missing_points` (default 0) and is labelled "missing" or
"unmatched". Decimal bounds are strings so the config round-trips through
JSON exactly.

Reason codes rank the characteristics by points lost against the best bin
of each (largest loss first, ties in config order); characteristics that
scored their maximum give no reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.exceptions import ValidationFailed
from origination.decisioning.reasons import REASONS
from origination.decisioning.variables import VARIABLES, VariableTypeError, coerce, json_safe


class ScorecardInvalid(ValidationFailed):
    default_code = "invalid_scorecard"

    def __init__(self, errors: list[str]):
        self.errors = tuple(errors)
        super().__init__(
            "invalid scorecard: " + "; ".join(self.errors),
            fields={"characteristics": list(self.errors)},
        )


@dataclass(frozen=True)
class CharacteristicScore:
    variable: str
    value: Any
    bin_index: int | None  # None when missing or unmatched
    bin_label: str
    points: int
    max_points: int
    reason_code: str

    @property
    def points_lost(self) -> int:
        return self.max_points - self.points


@dataclass(frozen=True)
class ScoreResult:
    total_points: int
    base_points: int
    max_total_points: int
    characteristics: tuple[CharacteristicScore, ...]
    reason_codes: tuple[str, ...]

    @property
    def points_by_variable(self) -> dict[str, int]:
        return {c.variable: c.points for c in self.characteristics}

    @property
    def bins_hit(self) -> dict[str, str]:
        return {c.variable: c.bin_label for c in self.characteristics}

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_points": self.total_points,
            "base_points": self.base_points,
            "max_total_points": self.max_total_points,
            "reason_codes": list(self.reason_codes),
            "characteristics": [
                {
                    "variable": c.variable,
                    "value": json_safe(c.value),
                    "bin": c.bin_label,
                    "points": c.points,
                    "max_points": c.max_points,
                    "reason_code": c.reason_code,
                }
                for c in self.characteristics
            ],
        }


@dataclass(frozen=True)
class _Bin:
    label: str
    low: Any
    high: Any
    categories: tuple[str, ...] | None
    points: int

    def holds(self, value: Any) -> bool:
        if self.categories is not None:
            return value in self.categories
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


def _label(spec: Mapping[str, Any]) -> str:
    if "categories" in spec:
        return ", ".join(str(c) for c in spec["categories"])
    low, high = spec.get("min"), spec.get("max")
    if low is None:
        return f"< {high}"
    if high is None:
        return f">= {low}"
    return f"{low} to < {high}"


def _points(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"points must be a whole number, got {value!r}")
    return value


def _compile(config: Any) -> tuple[int, list[tuple[Any, list[_Bin], int, str]]]:
    errors: list[str] = []
    if not isinstance(config, Mapping):
        raise ScorecardInvalid(["a scorecard is an object with base_points and characteristics"])
    try:
        base = _points(config.get("base_points", 0))
    except ValueError as exc:
        errors.append(f"base_points: {exc}")
        base = 0
    chars = config.get("characteristics")
    if not isinstance(chars, list | tuple) or not chars:
        raise ScorecardInvalid([*errors, "characteristics must be a non-empty list"])
    compiled = []
    seen: set[str] = set()
    for i, spec in enumerate(chars):
        where = f"characteristic {i + 1}"
        name = spec.get("variable") if isinstance(spec, Mapping) else None
        variable = VARIABLES.get(name) if isinstance(name, str) else None
        if variable is None:
            errors.append(f"{where}: unknown variable {name!r}")
            continue
        where = f"characteristic {i + 1} ({name})"
        if name in seen:
            errors.append(f"{where}: variable used twice")
        seen.add(name)
        reason_code = spec.get("reason_code")
        if reason_code not in REASONS:
            errors.append(f"{where}: unknown reason_code {reason_code!r}")
        bins: list[_Bin] = []
        bin_specs = spec.get("bins") or ()
        if not bin_specs:
            errors.append(f"{where}: needs at least one bin")
        for j, b in enumerate(bin_specs):
            try:
                points = _points(b.get("points"))
                if "categories" in b:
                    if variable.type != "str":
                        raise ValueError("categories apply to text variables only")
                    cats = tuple(coerce(variable, c) for c in b["categories"])
                    bins.append(_Bin(_label(b), None, None, cats, points))
                    continue
                if variable.type not in ("int", "decimal"):
                    raise ValueError("min/max apply to numeric variables only")
                bounds = []
                for key in ("min", "max"):
                    raw = b.get(key)
                    if isinstance(raw, float):
                        raise ValueError(f"write {key} {raw!r} as a string, not a float")
                    bounds.append(None if raw is None else coerce(variable, raw))
                low, high = bounds
                if low is not None and high is not None and low >= high:
                    raise ValueError("min must be below max")
                bins.append(_Bin(_label(b), low, high, None, points))
            except (ValueError, VariableTypeError, TypeError, AttributeError) as exc:
                errors.append(f"{where} bin {j + 1}: {exc}")
        if len(bins) != len(bin_specs):
            continue
        try:
            missing_points = _points(spec.get("missing_points", 0))
        except ValueError as exc:
            errors.append(f"{where} missing_points: {exc}")
            continue
        compiled.append((variable, bins, missing_points, reason_code))
    if errors:
        raise ScorecardInvalid(errors)
    return base, compiled


def validate_scorecard(config: Any) -> None:
    """Raise ScorecardInvalid listing every problem in `config`."""
    _compile(config)


def evaluate_scorecard(config: Any, variables: Mapping[str, Any]) -> ScoreResult:
    """Score `variables` against `config`; pure, no I/O."""
    base, compiled = _compile(config)
    results: list[CharacteristicScore] = []
    for variable, bins, missing_points, reason_code in compiled:
        original = variables.get(variable.name)
        best = max([b.points for b in bins] + [missing_points])
        if original is None:
            index, label, points = None, "missing", missing_points
        else:
            value = coerce(variable, original)
            index = next((k for k, b in enumerate(bins) if b.holds(value)), None)
            if index is None:
                label, points = "unmatched", missing_points
            else:
                label, points = bins[index].label, bins[index].points
        results.append(
            CharacteristicScore(
                variable=variable.name,
                value=original,
                bin_index=index,
                bin_label=label,
                points=points,
                max_points=best,
                reason_code=reason_code,
            )
        )
    ranked = sorted(
        (c for c in results if c.points_lost > 0),
        key=lambda c: -c.points_lost,  # sorted() is stable: ties keep config order
    )
    codes: list[str] = []
    for c in ranked:
        if c.reason_code not in codes:
            codes.append(c.reason_code)
    return ScoreResult(
        total_points=base + sum(c.points for c in results),
        base_points=base,
        max_total_points=base + sum(c.max_points for c in results),
        characteristics=tuple(results),
        reason_codes=tuple(codes),
    )


def _num(points: int, low: Any = None, high: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"points": points}
    if low is not None:
        spec["min"] = low
    if high is not None:
        spec["max"] = high
    return spec


# Plain data (JSON round-trips exactly). Copy before editing: it is shared.
# Maximum total 510 (200 base + 310); a clean prime file scores 450-510.
DEFAULT_SCORECARD: dict[str, Any] = {
    "name": "default-consumer-installment",
    "version": 1,
    "base_points": 200,
    "characteristics": [
        {
            "variable": "score",
            "reason_code": "CREDIT_SCORE",
            "missing_points": 0,
            "bins": [
                _num(0, None, 580),
                _num(15, 580, 620),
                _num(35, 620, 660),
                _num(55, 660, 700),
                _num(75, 700, 740),
                _num(90, 740, 780),
                _num(100, 780, None),
            ],
        },
        {
            "variable": "dti",
            "reason_code": "EXCESSIVE_OBLIGATIONS",
            "missing_points": 0,
            "bins": [
                _num(60, None, "0.20"),
                _num(50, "0.20", "0.30"),
                _num(40, "0.30", "0.36"),
                _num(25, "0.36", "0.43"),
                _num(10, "0.43", "0.50"),
                _num(0, "0.50", None),
            ],
        },
        {
            "variable": "employment_months",
            "reason_code": "LENGTH_OF_EMPLOYMENT",
            "missing_points": 0,
            "bins": [
                _num(0, None, 6),
                _num(10, 6, 12),
                _num(20, 12, 24),
                _num(30, 24, 60),
                _num(40, 60, None),
            ],
        },
        {
            "variable": "delinquencies_24m",
            "reason_code": "DELINQUENT_CREDIT",
            "missing_points": 0,
            "bins": [_num(50, None, 1), _num(25, 1, 2), _num(10, 2, 3), _num(0, 3, None)],
        },
        {
            "variable": "inquiries_6m",
            "reason_code": "EXCESSIVE_INQUIRIES",
            "missing_points": 0,
            "bins": [_num(30, None, 1), _num(20, 1, 3), _num(8, 3, 5), _num(0, 5, None)],
        },
        {
            "variable": "residential_status",
            "reason_code": "RESIDENTIAL_STATUS",
            "missing_points": 0,
            "bins": [
                {"categories": ["own"], "points": 30},
                {"categories": ["rent"], "points": 18},
                {"categories": ["with_family"], "points": 12},
                {"categories": ["other"], "points": 5},
            ],
        },
    ],
}

# Within this module the natural name; the package exports evaluate_scorecard.
evaluate = evaluate_scorecard
