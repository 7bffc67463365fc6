"""Pure decisioning: bureau simulator and parser, affordability, scorecard, rules.

No database: these modules are functions of their arguments.
"""

import copy
import json
import statistics
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from origination.decisioning import (
    DEFAULT_RULE_SET,
    DEFAULT_SCORECARD,
    OPERATORS,
    REASONS,
    SIMULATED_BUREAU_CONTACT,
    BureauAdapter,
    BureauIdentity,
    BureauReportInvalid,
    BureauTimeout,
    BureauUnavailable,
    RuleSetInvalid,
    ScorecardInvalid,
    SimulatedBureau,
    VariableTypeError,
    amount_to_income,
    assess_affordability,
    bureau_variables,
    evaluate_rules,
    evaluate_scorecard,
    parse_report,
    pull_with_retry,
    validate_rule_set,
    validate_scorecard,
)

PULLED_AT = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)
MAGIC = ("0000", "0001", "0002", "0003", "0004", "9999")


def identity(tax_id="123456789", dob=date(1980, 5, 5)):
    return BureauIdentity(
        first_name="Jane",
        last_name="Doe",
        date_of_birth=dob,
        tax_id=tax_id,
        address_line="1 Main Street",
        postal_code="62701",
    )


def pull(tax_id, dob=date(1980, 5, 5)):
    return SimulatedBureau().pull(identity(tax_id, dob), pulled_at=PULLED_AT)


# --------------------------------------------------------------------------- bureau


def test_simulated_bureau_satisfies_the_adapter_protocol():
    assert isinstance(SimulatedBureau(), BureauAdapter)
    assert SimulatedBureau.contact == SIMULATED_BUREAU_CONTACT
    assert SIMULATED_BUREAU_CONTACT.phone == "1-800-555-0199"
    assert SIMULATED_BUREAU_CONTACT.website == "https://bureau.example.com"


def test_same_identity_gives_identical_raw_report():
    first = pull("123456789")
    second = pull("123456789")
    assert first.raw == second.raw
    assert json.dumps(first.raw, sort_keys=True) == json.dumps(second.raw, sort_keys=True)
    assert first.raw["pulled_at"] == "2025-03-14T10:30:00+00:00"
    assert first.raw["subject"]["tax_id_last4"] == "6789"
    # The full tax id never appears in the stored report.
    assert "123456789" not in json.dumps(first.raw)


def test_different_identities_differ_and_dob_is_part_of_the_seed():
    assert pull("123456789").raw != pull("123456788").raw
    a = pull("123456789", date(1980, 5, 5)).raw
    b = pull("123456789", date(1981, 5, 5)).raw
    assert (a["tradelines"], a["score"]) != (b["tradelines"], b["score"])


def test_distribution_over_500_identities_is_realistic():
    reports = []
    n = 0
    while len(reports) < 500:
        tax_id = f"{(123456789 + n * 104729) % 10**9:09d}"
        n += 1
        if tax_id[-4:] in MAGIC:
            continue
        dob = date(1950 + n % 50, 1 + n % 12, 1 + n % 28)
        reports.append(pull(tax_id, dob).report())
    scores = [r.score for r in reports if r.score is not None]
    assert 670 <= statistics.mean(scores) <= 710
    assert min(scores) >= 500
    assert max(scores) <= 830
    assert statistics.pstdev(scores) > 40  # a spread, not one value
    thin = sum(r.thin_file for r in reports)
    assert 5 <= thin <= 50  # about 4%
    assert 1 <= sum(r.has_bankruptcy for r in reports) <= 25
    delinquent = sum(r.delinquencies_24m > 0 for r in reports)
    assert 25 <= delinquent <= 200
    # Delinquency and score agree: the delinquent mean score is lower.
    late_scores = [r.score for r in reports if r.score and r.delinquencies_24m]
    clean_scores = [r.score for r in reports if r.score and not r.delinquencies_24m]
    assert statistics.mean(late_scores) < statistics.mean(clean_scores) - 20
    assert all(r.hit and len(r.key_factors) <= 4 for r in reports)


def test_magic_0000_times_out():
    with pytest.raises(BureauTimeout):
        pull("123450000")


def test_magic_0001_is_a_no_hit():
    response = pull("123450001")
    report = response.report()
    assert response.ok
    assert report.hit is False
    assert report.score is None
    assert report.tradelines == ()
    assert report.thin_file
    assert report.oldest_trade_age_months is None
    assert report.total_monthly_obligations == Decimal("0.00")
    assert bureau_variables(response)["no_credit_file"] is True


def test_magic_0002_is_a_thin_file():
    report = pull("123450002").report()
    assert report.hit
    assert report.score is None
    assert len(report.tradelines) == 1
    assert report.tradelines[0].opened == date(2024, 12, 14)
    assert report.oldest_trade_age_months == 3
    assert report.thin_file
    assert report.total_monthly_obligations == Decimal("25.00")


def test_magic_0003_has_a_bankruptcy():
    report = pull("123450003").report()
    assert report.score == 548
    assert report.has_bankruptcy
    assert [(p.record_type, p.filed) for p in report.public_records] == [
        ("bankruptcy_ch7", date(2023, 3, 14))
    ]
    assert report.key_factors[0].code == "40"


def test_magic_0004_has_recent_delinquencies():
    report = pull("123450004").report()
    assert report.score == 612
    assert (report.delinquencies_30_24m, report.delinquencies_60_24m) == (1, 1)
    assert report.delinquencies_90_24m == 0
    assert report.delinquencies_24m == 2
    assert report.inquiries_within(6) == 2
    assert max(t.worst_delinquency for t in report.tradelines) == 60
    assert [f.code for f in report.key_factors][:2] == ["02", "13"]


def test_magic_9999_is_clean_820():
    report = pull("123459999").report()
    assert report.score == 820
    assert report.score_model == "FICO Score 8 (simulated)"
    assert report.delinquencies_24m == 0
    assert report.public_records == ()
    assert report.inquiries_within(6) == 0
    assert report.oldest_trade_age_months == 180
    assert not report.thin_file
    assert len(report.key_factors) == 4


def test_parse_round_trip_matches_raw():
    response = pull("555443333")
    raw = response.raw
    report = parse_report(raw)
    # Through JSON (how it is stored) and back parses to the same report.
    assert parse_report(json.loads(json.dumps(raw))) == report
    assert report.bureau == "SIMULATED"
    assert report.report_id == raw["report_id"]
    assert report.pulled_at == PULLED_AT
    assert report.score == raw["score"]["value"]
    assert [(f.code, f.text) for f in report.key_factors] == [
        (f["code"], f["text"]) for f in raw["score"]["factors"]
    ]
    assert len(report.tradelines) == len(raw["tradelines"])
    for parsed, source in zip(report.tradelines, raw["tradelines"], strict=True):
        assert parsed.creditor == source["creditor"]
        assert parsed.account_type == source["type"]
        assert str(parsed.balance) == source["balance"]
        assert str(parsed.monthly_payment) == source["monthly_payment"]
        assert parsed.opened.isoformat() == source["opened"]
        assert parsed.payment_history == source["payment_history"]
    assert report.total_monthly_obligations == sum(
        (Decimal(t["monthly_payment"]) for t in raw["tradelines"] if t["status"] == "open"),
        Decimal("0"),
    )
    late = "".join(t["payment_history"] for t in raw["tradelines"])
    assert report.delinquencies_30_24m == late.count("1")
    assert report.delinquencies_60_24m == late.count("2")
    assert report.delinquencies_90_24m == late.count("3")
    assert [(i.date.isoformat(), i.creditor) for i in report.inquiries] == [
        (i["date"], i["creditor"]) for i in raw["inquiries"]
    ]


def test_parse_counts_delinquencies_from_payment_history():
    raw = {
        "bureau": "X",
        "report_id": "R1",
        "pulled_at": "2025-03-14T00:00:00+00:00",
        "hit": True,
        "score": {"value": 640, "model": "M", "factors": [{"code": "02", "text": "t"}]},
        "tradelines": [
            {
                "creditor": "A",
                "type": "revolving",
                "balance": "100.50",
                "credit_limit": "1000",
                "monthly_payment": "25",
                "opened": "2020-01-20",
                "status": "open",
                "worst_delinquency": 90,
                "payment_history": "C1C2C3CCCCCCCCCCCCCCCC11",
            },
            {
                "creditor": "B",
                "type": "installment",
                "balance": "0",
                "credit_limit": None,
                "monthly_payment": "0",
                "opened": "2023-06-01",
                "status": "paid",
                "worst_delinquency": 0,
                "payment_history": "CCCCCCCCCCCCCCCCCCCCC---",
            },
        ],
        "inquiries": [
            {"date": "2024-09-15", "creditor": "Q"},
            {"date": "2024-09-14", "creditor": "Q"},
        ],
        "public_records": [{"type": "civil_judgment", "filed": "2022-01-01", "amount": "1500"}],
    }
    report = parse_report(raw)
    assert (report.delinquencies_30_24m, report.delinquencies_60_24m) == (3, 1)
    assert report.delinquencies_90_24m == 1
    assert report.total_monthly_obligations == Decimal("25.00")
    assert report.tradelines[0].balance == Decimal("100.50")
    assert report.tradelines[1].credit_limit is None
    # Jan 20 2020 to Mar 14 2025: 61 whole months.
    assert report.oldest_trade_age_months == 61
    # Six months back from Mar 14 is Sep 14; only the later inquiry counts.
    assert report.inquiries_within(6) == 1
    assert not report.has_bankruptcy
    assert report.public_records[0].amount == Decimal("1500.00")

    bad = copy.deepcopy(raw)
    bad["tradelines"][0]["type"] = "payday"
    with pytest.raises(BureauReportInvalid, match="payday"):
        parse_report(bad)
    bad = copy.deepcopy(raw)
    del bad["pulled_at"]
    with pytest.raises(BureauReportInvalid):
        parse_report(bad)


def test_identity_validation():
    with pytest.raises(ValueError, match="9 digits"):
        identity(tax_id="123-45-6789")


class FlakyBureau:
    """A bureau that is down for its first `failures` calls (a test double of
    the external system, not of our code)."""

    name = "FLAKY"
    contact = SIMULATED_BUREAU_CONTACT

    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def pull(self, identity, *, pulled_at):
        self.calls += 1
        if self.calls <= self.failures:
            raise BureauUnavailable("503 from bureau")
        return SimulatedBureau().pull(identity, pulled_at=pulled_at)


def test_retry_recovers_after_transient_failures():
    bureau = FlakyBureau(failures=2)
    waits = []
    response = pull_with_retry(bureau, identity(), pulled_at=PULLED_AT, backoff=waits.append)
    assert response.ok
    assert response.attempts == 3
    assert waits == [1, 2]
    assert response.raw == pull("123456789").raw


def test_retry_exhausted_returns_unavailable_and_the_rules_refer():
    waits = []
    response = pull_with_retry(
        SimulatedBureau(), identity("123450000"), pulled_at=PULLED_AT, backoff=waits.append
    )
    assert response.unavailable
    assert response.raw is None
    assert response.attempts == 3
    assert waits == [1, 2]  # no wait after the last try
    assert response.error == "BureauTimeout: simulated bureau timed out"
    with pytest.raises(BureauUnavailable):
        response.report()
    variables = {**applicant_inputs(), **bureau_variables(response)}
    decision = evaluate_rules(DEFAULT_RULE_SET, variables)
    assert decision.outcome == "refer"
    assert decision.reason_codes == ("BUREAU_UNAVAILABLE", "INCOMPLETE_APPLICATION")
    assert decision.missing == (
        "score",
        "has_bankruptcy",
        "delinquencies_24m",
        "no_credit_file",
        "thin_file",
        "public_records",
        "inquiries_6m",
    )


def test_retry_does_not_swallow_other_errors():
    class Broken:
        name = "BROKEN"
        contact = SIMULATED_BUREAU_CONTACT

        def pull(self, identity, *, pulled_at):
            raise KeyError("bug")

    with pytest.raises(KeyError):
        pull_with_retry(Broken(), identity(), pulled_at=PULLED_AT, backoff=None)
    with pytest.raises(ValueError):
        pull_with_retry(FlakyBureau(0), identity(), pulled_at=PULLED_AT, attempts=0)


def test_single_attempt_never_backs_off():
    waits = []
    response = pull_with_retry(
        FlakyBureau(failures=5), identity(), pulled_at=PULLED_AT, attempts=1, backoff=waits.append
    )
    assert (response.status, response.attempts, waits) == ("unavailable", 1, [])


# --------------------------------------------------------------------------- affordability


def test_affordability_exact_values():
    result = assess_affordability(
        gross_monthly_income=Decimal("6000.00"),
        housing_cost=Decimal("1500.00"),
        bureau_monthly_obligations=Decimal("450.50"),
        other_obligations=Decimal("100.00"),
        proposed_payment=Decimal("387.33"),
    )
    assert result.total_obligations == Decimal("2437.83")
    assert result.dti == Decimal("0.4063")  # 0.406305
    assert result.pti == Decimal("0.0646")  # 0.064555, half-up
    assert result.residual_income == Decimal("3562.17")
    assert result.income_zero is False
    assert result.variables() == {
        "dti": Decimal("0.4063"),
        "pti": Decimal("0.0646"),
        "monthly_income": Decimal("6000.00"),
        "residual_income": Decimal("3562.17"),
    }


@pytest.mark.parametrize(
    ("income", "housing", "bureau", "other", "payment", "dti", "pti", "residual"),
    [
        ("3000", "0", "0", "0", "100.35", "0.0335", "0.0335", "2899.65"),  # half-up tie
        ("4500", "1200", "612", "0", "455.18", "0.5038", "0.1012", "2232.82"),  # 0.503818
        ("2500", "950", "1200.75", "250", "420", "1.1283", "0.1680", "-320.75"),
        ("7000", "0", "0", "0", "0", "0.0000", "0.0000", "7000.00"),
    ],
)
def test_affordability_table(income, housing, bureau, other, payment, dti, pti, residual):
    result = assess_affordability(
        gross_monthly_income=income,
        housing_cost=housing,
        bureau_monthly_obligations=bureau,
        other_obligations=other,
        proposed_payment=payment,
    )
    assert (result.dti, result.pti, result.residual_income) == (
        Decimal(dti),
        Decimal(pti),
        Decimal(residual),
    )


def test_affordability_zero_income_is_flagged_not_divided():
    result = assess_affordability(
        gross_monthly_income=0,
        housing_cost="800",
        bureau_monthly_obligations="0",
        other_obligations="0",
        proposed_payment="200",
    )
    assert result.income_zero is True
    assert result.dti is None
    assert result.pti is None
    assert result.total_obligations == Decimal("1000.00")
    assert result.residual_income == Decimal("-1000.00")
    assert amount_to_income("10000", "0") is None
    assert amount_to_income("10000", "3000") == Decimal("3.3333")
    # Missing ratios refer under the default policy; never an approval.
    decision = evaluate_rules(DEFAULT_RULE_SET, {**clean_application(), **result.variables()})
    assert decision.outcome == "decline"  # KO06: no stated income
    assert decision.reason_codes[0] == "INSUFFICIENT_INCOME"


def test_affordability_refuses_floats_and_negatives():
    kwargs = {
        "gross_monthly_income": "5000",
        "housing_cost": "0",
        "bureau_monthly_obligations": "0",
        "other_obligations": "0",
        "proposed_payment": "100",
    }
    with pytest.raises(TypeError, match="proposed_payment"):
        assess_affordability(**{**kwargs, "proposed_payment": 100.0})
    with pytest.raises(ValueError, match="housing_cost may not be negative"):
        assess_affordability(**{**kwargs, "housing_cost": "-1"})


# --------------------------------------------------------------------------- scorecard


def test_scorecard_exact_points_and_reason_order():
    result = evaluate_scorecard(
        DEFAULT_SCORECARD,
        {
            "score": 705,
            "dti": Decimal("0.38"),
            "employment_months": 8,
            "delinquencies_24m": 1,
            "inquiries_6m": 0,
            "residential_status": "rent",
        },
    )
    assert result.points_by_variable == {
        "score": 75,
        "dti": 25,
        "employment_months": 10,
        "delinquencies_24m": 25,
        "inquiries_6m": 30,
        "residential_status": 18,
    }
    assert result.total_points == 383
    assert result.base_points == 200
    assert result.max_total_points == 510
    assert result.bins_hit == {
        "score": "700 to < 740",
        "dti": "0.36 to < 0.43",
        "employment_months": "6 to < 12",
        "delinquencies_24m": "1 to < 2",
        "inquiries_6m": "< 1",
        "residential_status": "rent",
    }
    # Lost: dti 35, employment 30, score 25 = delinquencies 25 (config order), residence 12.
    assert result.reason_codes == (
        "EXCESSIVE_OBLIGATIONS",
        "LENGTH_OF_EMPLOYMENT",
        "CREDIT_SCORE",
        "DELINQUENT_CREDIT",
        "RESIDENTIAL_STATUS",
    )
    assert json.loads(json.dumps(result.as_dict()))["characteristics"][1]["value"] == "0.38"


@pytest.mark.parametrize(
    ("variables", "total", "reasons"),
    [
        # Bin lower bounds are inclusive.
        (
            {
                "score": 780,
                "dti": "0.20",
                "employment_months": 60,
                "delinquencies_24m": 0,
                "inquiries_6m": 1,
                "residential_status": "own",
            },
            490,
            ("EXCESSIVE_OBLIGATIONS", "EXCESSIVE_INQUIRIES"),
        ),
        # Perfect file: no reasons at all.
        (
            {
                "score": 830,
                "dti": "0.05",
                "employment_months": 120,
                "delinquencies_24m": 0,
                "inquiries_6m": 0,
                "residential_status": "own",
            },
            510,
            (),
        ),
        # Worst bins everywhere.
        (
            {
                "score": 579,
                "dti": "0.50",
                "employment_months": 5,
                "delinquencies_24m": 7,
                "inquiries_6m": 9,
                "residential_status": "other",
            },
            205,
            (
                "CREDIT_SCORE",
                "EXCESSIVE_OBLIGATIONS",
                "DELINQUENT_CREDIT",
                "LENGTH_OF_EMPLOYMENT",
                "EXCESSIVE_INQUIRIES",
                "RESIDENTIAL_STATUS",
            ),
        ),
    ],
)
def test_scorecard_table(variables, total, reasons):
    result = evaluate_scorecard(DEFAULT_SCORECARD, variables)
    assert result.total_points == total
    assert result.reason_codes == reasons


def test_scorecard_missing_and_unmatched_values_score_missing_points():
    result = evaluate_scorecard(
        DEFAULT_SCORECARD,
        {
            "score": None,
            "dti": "0.25",
            "employment_months": 30,
            "delinquencies_24m": 0,
            "inquiries_6m": 0,
            "residential_status": "houseboat",
        },
    )
    assert result.bins_hit["score"] == "missing"
    assert result.bins_hit["residential_status"] == "unmatched"
    assert result.points_by_variable["score"] == 0
    assert result.total_points == 200 + 0 + 50 + 30 + 50 + 30 + 0
    assert result.reason_codes[:2] == ("CREDIT_SCORE", "RESIDENTIAL_STATUS")


def test_scorecard_validation_lists_every_problem():
    config = {
        "base_points": 10,
        "characteristics": [
            {"variable": "shoe_size", "reason_code": "CREDIT_SCORE", "bins": [{"points": 1}]},
            {
                "variable": "dti",
                "reason_code": "NOPE",
                "bins": [{"min": 0.1, "points": 5}, {"min": "0.5", "max": "0.4", "points": 1}],
            },
            {"variable": "residential_status", "reason_code": "RESIDENTIAL_STATUS", "bins": []},
        ],
    }
    with pytest.raises(ScorecardInvalid) as info:
        validate_scorecard(config)
    assert info.value.errors == (
        "characteristic 1: unknown variable 'shoe_size'",
        "characteristic 2 (dti): unknown reason_code 'NOPE'",
        "characteristic 2 (dti) bin 1: write min 0.1 as a string, not a float",
        "characteristic 2 (dti) bin 2: min must be below max",
        "characteristic 3 (residential_status): needs at least one bin",
    )
    assert info.value.status_code == 400
    validate_scorecard(json.loads(json.dumps(DEFAULT_SCORECARD)))


# --------------------------------------------------------------------------- rules


def applicant_inputs():
    """The default-policy variables that do not come from the bureau."""
    return {
        "age": 40,
        "dti": Decimal("0.3100"),
        "pti": Decimal("0.0800"),
        "monthly_income": Decimal("6000.00"),
        "kyc_passed": True,
        "sanctions_hit": False,
        "employment_months": 48,
        "amount_to_income": Decimal("2.5000"),
        "scorecard_points": 450,
    }


def clean_application():
    """Every default-policy variable, for a good applicant with a clean file."""
    return {
        **applicant_inputs(),
        "score": 742,
        "has_bankruptcy": False,
        "delinquencies_24m": 0,
        "bureau_unavailable": False,
        "no_credit_file": False,
        "thin_file": False,
        "public_records": 0,
        "inquiries_6m": 1,
    }


def one_rule(variable, operator, value=None, outcome="decline"):
    rule = {
        "code": "T1",
        "description": "test",
        "variable": variable,
        "operator": operator,
        "outcome": outcome,
        "reason_code": "DELINQUENT_CREDIT",
    }
    if value is not None:
        rule["value"] = value
    return [rule]


@pytest.mark.parametrize(
    ("variable", "operator", "value", "seen", "fired", "comparison"),
    [
        ("score", "<", 580, 579, True, "score 579 < 580: true"),
        ("score", "<", 580, 580, False, "score 580 < 580: false"),
        ("score", "<=", 580, 580, True, "score 580 <= 580: true"),
        ("score", "<=", 580, 581, False, "score 581 <= 580: false"),
        ("dti", ">", "0.50", Decimal("0.5001"), True, "dti 0.5001 > 0.50: true"),
        ("dti", ">", "0.50", Decimal("0.5000"), False, "dti 0.5000 > 0.50: false"),
        ("dti", ">=", "0.50", Decimal("0.5"), True, "dti 0.5 >= 0.50: true"),
        ("dti", ">=", "0.50", "0.4999", False, "dti 0.4999 >= 0.50: false"),
        ("term", "==", 36, 36, True, "term 36 == 36: true"),
        ("term", "!=", 36, 36, False, "term 36 != 36: false"),
        ("term", "!=", 36, 48, True, "term 48 != 36: true"),
        (
            "residential_status",
            "==",
            "rent",
            "rent",
            True,
            "residential_status 'rent' == 'rent': true",
        ),
        ("term", "in", [12, 24], 24, True, "term 24 in [12, 24]: true"),
        ("term", "in", [12, 24], 36, False, "term 36 in [12, 24]: false"),
        (
            "residential_status",
            "not_in",
            ["own", "rent"],
            "other",
            True,
            "residential_status 'other' not in ['own', 'rent']: true",
        ),
        ("residential_status", "not_in", ["own"], "own", False, None),
        ("score", "between", [580, 639], 580, True, "580 <= score 580 <= 639: true"),
        ("score", "between", [580, 639], 639, True, "580 <= score 639 <= 639: true"),
        ("score", "between", [580, 639], 640, False, "580 <= score 640 <= 639: false"),
        ("sanctions_hit", "is_true", None, True, True, "sanctions_hit true is true: true"),
        ("sanctions_hit", "is_true", None, False, False, "sanctions_hit false is true: false"),
        ("kyc_passed", "is_false", None, False, True, "kyc_passed false is false: true"),
        ("kyc_passed", "is_false", None, True, False, "kyc_passed true is false: false"),
        ("kyc_passed", "==", True, True, True, "kyc_passed true == true: true"),
    ],
)
def test_every_operator(variable, operator, value, seen, fired, comparison):
    decision = evaluate_rules(one_rule(variable, operator, value), {variable: seen})
    (entry,) = decision.trace
    assert entry.fired is fired
    assert entry.status == ("fired" if fired else "not_fired")
    assert entry.seen == seen
    if comparison:
        assert entry.comparison == comparison
    assert decision.outcome == ("decline" if fired else "approve")


def test_operators_cover_the_declared_list():
    assert OPERATORS == (
        "<", "<=", ">", ">=", "==", "!=", "in", "not_in", "between", "is_true", "is_false",
    )  # fmt: skip


def test_default_rules_approve_a_clean_application():
    decision = evaluate_rules(DEFAULT_RULE_SET, clean_application())
    assert decision.outcome == "approve"
    assert decision.reasons == ()
    assert decision.missing == ()
    assert len(decision.trace) == len(DEFAULT_RULE_SET["rules"])
    assert not any(t.fired for t in decision.trace)
    assert (decision.rule_set_name, decision.rule_set_version) == (
        "default-consumer-installment",
        1,
    )


def test_precedence_decline_beats_refer_and_reasons_put_declines_first():
    variables = {
        **clean_application(),
        "score": 560,  # KO02 decline
        "employment_months": 3,  # RF07 refer
        "dti": Decimal("0.55"),  # KO04 decline, RF10 refer
        "sanctions_hit": True,  # RF05 refer
    }
    decision = evaluate_rules(DEFAULT_RULE_SET, variables)
    assert decision.outcome == "decline"
    assert [(r.code, r.outcome, r.rule_code) for r in decision.reasons] == [
        ("CREDIT_SCORE", "decline", "KO02"),
        ("EXCESSIVE_OBLIGATIONS", "decline", "KO04"),
        ("SANCTIONS_REVIEW", "refer", "RF05"),
        ("LENGTH_OF_EMPLOYMENT", "refer", "RF07"),
    ]
    assert decision.reasons[0].text == "Credit score below minimum"
    assert decision.reasons[1].text == "Excessive obligations in relation to income"
    fired = [t.code for t in decision.trace if t.fired]
    assert fired == ["KO02", "KO04", "RF05", "RF07", "RF10"]


def test_refer_without_decline_refers():
    decision = evaluate_rules(DEFAULT_RULE_SET, {**clean_application(), "score": 612})
    assert decision.outcome == "refer"
    assert decision.reason_codes == ("CREDIT_SCORE_REVIEW",)


def test_at_most_four_principal_reasons_deduplicated():
    variables = {
        **clean_application(),
        "age": 17,
        "score": 520,
        "has_bankruptcy": True,
        "dti": Decimal("0.80"),
        "delinquencies_24m": 6,
        "monthly_income": Decimal("0"),
    }
    decision = evaluate_rules(DEFAULT_RULE_SET, variables)
    assert decision.reason_codes == (
        "MINIMUM_AGE",
        "CREDIT_SCORE",
        "BANKRUPTCY",
        "EXCESSIVE_OBLIGATIONS",
    )
    rules = [*one_rule("score", "<", 700), {**one_rule("score", "<", 650)[0], "code": "T2"}]
    assert evaluate_rules(rules, {"score": 600}).reason_codes == ("DELINQUENT_CREDIT",)


def test_missing_variable_forces_refer_and_is_traced():
    variables = clean_application()
    del variables["employment_months"]
    variables["score"] = None  # None is missing too
    decision = evaluate_rules(DEFAULT_RULE_SET, variables)
    assert decision.outcome == "refer"
    assert decision.missing == ("score", "employment_months")
    missing = [t for t in decision.trace if t.status == "missing"]
    assert [t.code for t in missing] == ["KO02", "RF06", "RF07"]
    assert missing[0].seen is None
    assert missing[0].fired is False
    assert missing[0].comparison == "score is missing: refer"
    assert decision.reason_codes == ("INCOMPLETE_APPLICATION",)
    assert decision.reasons[0].text == "Credit application incomplete"
    # Even a lone approve rule with its input missing refers.
    approve_only = one_rule("score", ">=", 700, outcome="approve")
    assert evaluate_rules(approve_only, {}).outcome == "refer"
    assert evaluate_rules(approve_only, {"score": 720}).outcome == "approve"


def test_trace_records_every_rule_with_inputs_and_is_json_safe():
    decision = evaluate_rules(DEFAULT_RULE_SET, {**clean_application(), "score": 612})
    stored = json.loads(json.dumps(decision.as_dict()))
    assert stored["outcome"] == "refer"
    assert stored["rule_set"] == {"name": "default-consumer-installment", "version": 1}
    assert stored["reasons"] == [
        {
            "code": "CREDIT_SCORE_REVIEW",
            "text": "Credit score requires manual review",
            "outcome": "refer",
            "rule": "RF06",
        }
    ]
    by_code = {t["code"]: t for t in stored["trace"]}
    assert list(by_code) == [r["code"] for r in DEFAULT_RULE_SET["rules"]]
    assert by_code["RF06"] == {
        "code": "RF06",
        "description": "Credit score 580-639",
        "variable": "score",
        "operator": "between",
        "expected": [580, 639],
        "seen": 612,
        "comparison": "580 <= score 612 <= 639: true",
        "fired": True,
        "status": "fired",
        "outcome": "refer",
    }
    assert by_code["KO04"]["seen"] == "0.3100"
    assert by_code["KO04"]["comparison"] == "dti 0.3100 > 0.50: false"
    assert by_code["KO03"]["comparison"] == "has_bankruptcy false is true: false"


def test_simulated_identities_through_the_default_policy():
    def decide(tax_id):
        response = pull(tax_id)
        return evaluate_rules(
            DEFAULT_RULE_SET, {**applicant_inputs(), **bureau_variables(response)}
        )

    assert decide("123459999").outcome == "approve"
    bankrupt = decide("123450003")
    assert bankrupt.outcome == "decline"
    assert bankrupt.reason_codes[:2] == ("CREDIT_SCORE", "BANKRUPTCY")
    late = decide("123450004")
    assert late.outcome == "refer"
    assert late.reason_codes == ("CREDIT_SCORE_REVIEW", "DELINQUENT_CREDIT")
    thin = decide("123450002")
    assert thin.outcome == "refer"
    assert thin.reason_codes == ("INSUFFICIENT_CREDIT_FILE", "INCOMPLETE_APPLICATION")
    no_hit = decide("123450001")
    assert no_hit.reason_codes[:2] == ("NO_CREDIT_FILE", "INSUFFICIENT_CREDIT_FILE")


def test_input_of_the_wrong_type_is_refused():
    with pytest.raises(VariableTypeError, match="dti"):
        evaluate_rules(one_rule("dti", ">", "0.5"), {"dti": 0.6})
    with pytest.raises(VariableTypeError, match="kyc_passed"):
        evaluate_rules(one_rule("kyc_passed", "is_false"), {"kyc_passed": "no"})
    with pytest.raises(VariableTypeError, match="whole number"):
        evaluate_rules(one_rule("score", "<", 580), {"score": Decimal("579.5")})


def test_validation_reports_each_bad_rule():
    rules = [
        {"code": "A", "variable": "score", "operator": "=>", "value": 1, "outcome": "decline",
         "reason_code": "CREDIT_SCORE"},
        {"code": "B", "variable": "shoe_size", "operator": "<", "value": 1, "outcome": "refer",
         "reason_code": "CREDIT_SCORE"},
        {"code": "C", "variable": "dti", "operator": ">", "value": 0.5, "outcome": "decline",
         "reason_code": "EXCESSIVE_OBLIGATIONS"},
        {"code": "D", "variable": "score", "operator": "between", "value": [700, 600],
         "outcome": "refer", "reason_code": "CREDIT_SCORE"},
        {"code": "E", "variable": "kyc_passed", "operator": "<", "value": True,
         "outcome": "refer", "reason_code": "UNABLE_TO_VERIFY_IDENTITY"},
        {"code": "F", "variable": "score", "operator": "<", "value": 500, "outcome": "maybe"},
        {"code": "G", "variable": "score", "operator": "<", "value": 500, "outcome": "decline"},
        {"code": "H", "variable": "term", "operator": "in", "value": [], "outcome": "refer",
         "reason_code": "AMOUNT_OUTSIDE_LIMITS"},
        {"code": "I", "variable": "score", "operator": "<", "value": 1, "outcome": "refer",
         "reason_code": "MADE_UP"},
        {"code": "A", "variable": "sanctions_hit", "operator": "is_true", "outcome": "refer",
         "reason_code": "SANCTIONS_REVIEW"},
        {"code": "J", "variable": "sanctions_hit", "operator": "is_true", "value": True,
         "outcome": "refer", "reason_code": "SANCTIONS_REVIEW", "colour": "red"},
    ]  # fmt: skip
    with pytest.raises(RuleSetInvalid) as info:
        validate_rule_set(rules)
    errors = info.value.errors
    assert errors[0].startswith("rule 1 (A): unknown operator '=>' (expected one of <, <=,")
    assert errors[1].startswith("rule 2 (B): unknown variable 'shoe_size' (declared: ")
    assert errors[2] == ('rule 3 (C): value 0.5: write 0.5 as a string such as "0.5", not a float')
    assert errors[3] == "rule 4 (D): value [700, 600]: between needs low <= high"
    assert errors[4] == "rule 5 (E): operator '<' does not apply to bool variable 'kyc_passed'"
    assert errors[5] == ("rule 6 (F): unknown outcome 'maybe' (expected decline, refer or approve)")
    assert errors[6] == "rule 7 (G): a decline rule needs a reason_code"
    assert errors[7] == "rule 8 (H): value []: in needs a non-empty list"
    assert errors[8] == (
        "rule 9 (I): reason_code 'MADE_UP' is not in the catalogue: add reason_text"
    )
    assert errors[9] == "rule 11 (J): unknown keys ['colour']"
    assert errors[10] == "rule 10 (A): duplicate code"
    assert len(errors) == 11
    assert info.value.status_code == 400
    assert info.value.fields == {"rules": list(errors)}
    with pytest.raises(RuleSetInvalid, match="list of rules"):
        validate_rule_set({"rules": "score < 580"})


def test_defaults_are_valid_json_and_use_catalogue_texts():
    assert json.loads(json.dumps(DEFAULT_RULE_SET)) == DEFAULT_RULE_SET
    assert json.loads(json.dumps(DEFAULT_SCORECARD)) == DEFAULT_SCORECARD
    compiled = validate_rule_set(json.loads(json.dumps(DEFAULT_RULE_SET)))
    assert len(compiled) == 20
    assert all(r.reason_text == REASONS[r.reason_code] for r in compiled)
    texts = {r.reason_text for r in compiled if r.outcome == "decline"}
    assert "Excessive obligations in relation to income" in texts
    assert "Delinquent past or present credit obligations with others" in texts


# --------------------------------------------------------------------------- property

SEVERITY = {"approve": 0, "refer": 1, "decline": 2}

_numeric_rule = st.builds(
    lambda var, opr, val, outcome: {
        "variable": var,
        "operator": opr,
        "value": val,
        "outcome": outcome,
        "reason_code": "CREDIT_SCORE",
    },
    st.sampled_from(["score", "inquiries_6m"]),
    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    st.integers(0, 900),
    st.sampled_from(["approve", "decline", "refer"]),
)
_bool_rule = st.builds(
    lambda var, opr, outcome: {
        "variable": var,
        "operator": opr,
        "outcome": outcome,
        "reason_code": "SANCTIONS_REVIEW",
    },
    st.sampled_from(["sanctions_hit", "kyc_passed"]),
    st.sampled_from(["is_true", "is_false"]),
    st.sampled_from(["approve", "decline", "refer"]),
)
_rules = st.lists(st.one_of(_numeric_rule, _bool_rule), max_size=8)
_inputs = st.fixed_dictionaries(
    {},
    optional={
        "score": st.one_of(st.none(), st.integers(300, 850)),
        "inquiries_6m": st.integers(0, 12),
        "sanctions_hit": st.booleans(),
        "kyc_passed": st.booleans(),
    },
)


def _numbered(rules):
    return [{**r, "code": f"R{i}"} for i, r in enumerate(rules)]


@settings(max_examples=150, deadline=None)
@given(rules=_rules, extra=st.one_of(_numeric_rule, _bool_rule), variables=_inputs)
def test_property_adding_a_rule_never_makes_the_outcome_kinder(rules, extra, variables):
    before = evaluate_rules(_numbered(rules), variables)
    after = evaluate_rules(_numbered([*rules, extra]), variables)
    assert SEVERITY[after.outcome] >= SEVERITY[before.outcome]
    # Adding a decline rule that fires always declines.
    firing = {
        "variable": "inquiries_6m",
        "operator": ">=",
        "value": 0,
        "outcome": "decline",
        "reason_code": "EXCESSIVE_INQUIRIES",
    }
    declined = evaluate_rules(_numbered([*rules, firing]), {**variables, "inquiries_6m": 0})
    assert declined.outcome == "decline"
    assert "EXCESSIVE_INQUIRIES" in declined.reason_codes or len(declined.reasons) == 4
    assert declined.reasons[0].outcome == "decline"
