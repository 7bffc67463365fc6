"""Joint applications: the co-applicant gets identity checks, a bureau pull,
a place in affordability (combined income and obligations) and the lower of
the two scores is used; the stored trace shows both subjects."""

from datetime import date
from decimal import Decimal

import pytest

from customers.services import customer as customer_services
from origination.decisioning.affordability import assess_affordability
from origination.decisioning.joint import decision_score
from origination.models import Application, ApplicationState, BureauPull, DecisionRecord
from origination.services import applications as apps
from tests.origination.test_applications import (
    APPLICATION_DATA,
    BANKRUPT,
    CLEAN,
    TIMEOUT,
    consent_all,
    default_product,
    import_sample_sdn,
    person,
    transitions,
)

pytestmark = pytest.mark.django_db
S = ApplicationState

CO_CLEAN = "406-12-9999"  # simulated bureau: clean file, score 820
CO_BANKRUPT = "407-12-0003"  # chapter 7, score 548
CO_TIMEOUT = "913-71-0000"  # an ITIN; the bureau times out
# The application captures one stated income (the household's); with both
# clean files' obligations added, 12,000 would put DTI above 50%.
HOUSEHOLD_INCOME = "20000.00"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    import_sample_sdn()


def co_person(tax_id, *, addresses=True):
    if addresses:
        return person(tax_id, first="Charles", last="Babbage", dob=date(1980, 6, 1))
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Charles",
            "last_name": "Babbage",
            "date_of_birth": date(1980, 6, 1),
            "tax_id": tax_id,
            "email": "charles.babbage@example.com",
        },
        addresses=[],
    )


def joint(applicant, co_applicant, **overrides) -> Application:
    app = apps.start_application(
        applicant=applicant,
        co_applicant=co_applicant,
        product=default_product(),
        channel="portal",
        data={**APPLICATION_DATA, **overrides},
    )
    consent_all(app)
    return apps.submit(app)


def record_of(app) -> DecisionRecord:
    return DecisionRecord.objects.get(application=app, kind="automatic")


def co_reasons(app) -> list[dict]:
    return [r for r in app.decision_reasons if r.get("subject") == "co_applicant"]


def test_clean_applicant_and_clean_co_applicant_are_approved_on_combined_figures():
    ada, charles = person(CLEAN), co_person(CO_CLEAN)
    app = joint(ada, charles, gross_monthly_income=HOUSEHOLD_INCOME)
    assert app.state == S.APPROVED
    assert (app.auto_outcome, app.credit_score) == ("approve", 820)
    assert app.decision_reasons == []
    assert transitions(app)[-1] == ("submitted", "approved")

    pulls = {p.customer_id: p for p in BureauPull.objects.filter(application=app)}
    assert set(pulls) == {ada.pk, charles.pk}
    assert (pulls[charles.pk].status, pulls[charles.pk].score) == ("ok", 820)
    assert (pulls[ada.pk].status, pulls[ada.pk].score) == ("ok", 820)
    # the applicant's stays the application's latest pull (notices, pipeline)
    assert app.bureau_pulls.order_by("-pulled_at", "-id").first().customer_id == ada.pk

    record = record_of(app)
    aff = record.trace["affordability"]
    own = Decimal(aff["applicant_bureau_obligations"])
    co = Decimal(aff["co_applicant_bureau_obligations"])
    assert co > 0  # a clean file has trade lines with payments
    assert Decimal(aff["combined_income"]) == Decimal(HOUSEHOLD_INCOME)
    assert aff["co_applicant_income"] is None
    assert "no separate income field" in aff["income_note"]
    payment = Decimal(aff["proposed_payment"])
    total = Decimal("1500.00") + own + co + payment
    assert Decimal(aff["total_obligations"]) == total
    assert app.dti == (total / Decimal(HOUSEHOLD_INCOME)).quantize(Decimal("0.0001"))
    assert Decimal(record.inputs["dti"]) == app.dti


def test_co_applicant_obligations_over_the_limit_refer_rather_than_decline():
    # the same applicant alone is approved on 12,000 (test_decision); with the
    # co-applicant's obligations added the combined DTI is above 50%, but as
    # the co-applicant's income is not captured separately that refers
    app = joint(person(CLEAN), co_person(CO_CLEAN))
    assert (app.state, app.auto_outcome) == (S.IN_UNDERWRITING, "refer")
    assert app.dti > Decimal("0.50")
    ko04 = next(r for r in app.decision_reasons if r["rule"] == "KO04")
    assert (ko04["code"], ko04["outcome"]) == ("EXCESSIVE_OBLIGATIONS", "refer")
    assert "co-applicant's obligations" in ko04["text"]
    assert "verify the household income" in ko04["text"]
    record = record_of(app)
    assert record.outcome == "refer"
    assert not BureauPull.objects.filter(application=app, status="unavailable").exists()


def test_trace_shows_both_subjects_and_the_score_used():
    ada, charles = person(CLEAN), co_person(CO_BANKRUPT)
    app = joint(ada, charles)
    trace = record_of(app).trace
    assert trace["score_used"] == {
        "applicant": 820,
        "co_applicant": 548,
        "used": 548,
        "rule": "the lower of the applicant's and the co-applicant's scores",
    }
    subjects = trace["subjects"]
    assert subjects["applicant"]["customer"] == ada.pk
    assert subjects["co_applicant"]["customer"] == charles.pk
    assert subjects["applicant"]["kyc"]["passed"] is True
    assert subjects["co_applicant"]["kyc"]["passed"] is True
    assert subjects["applicant"]["bureau"]["score"] == 820
    assert subjects["co_applicant"]["bureau"]["score"] == 548
    assert subjects["co_applicant"]["bureau_variables"]["has_bankruptcy"] is True
    assert subjects["applicant"]["bureau_variables"]["has_bankruptcy"] is False
    co_rules = {t["code"]: t for t in subjects["co_applicant"]["rules"]["trace"]}
    assert co_rules["KO03"]["fired"] is True
    assert "KO02" not in co_rules  # the score rule runs once, on the lower score
    assert [s["customer"] for s in trace["sanctions"]] == [ada.pk, charles.pk]
    assert record_of(app).inputs["score"] == 548


def test_bankrupt_co_applicant_declines_with_the_co_applicant_named():
    ada, charles = person(CLEAN), co_person(CO_BANKRUPT)
    app = joint(ada, charles, gross_monthly_income=HOUSEHOLD_INCOME)
    assert app.state == S.DECLINED
    assert (app.auto_outcome, app.credit_score) == ("decline", 548)
    codes = [r["code"] for r in app.decision_reasons]
    assert codes[:2] == ["CREDIT_SCORE", "BANKRUPTCY"]
    score_reason, bankruptcy = app.decision_reasons[:2]
    assert score_reason["text"] == "Credit score below minimum (the co-applicant's score, 548)"
    assert bankruptcy["text"] == "Co-applicant: Bankruptcy"
    assert (bankruptcy["subject"], bankruptcy["customer"]) == ("co_applicant", charles.pk)
    pull = BureauPull.objects.get(application=app, customer=charles)
    assert (pull.status, pull.score) == ("ok", 548)
    # the applicant's own credit file raised nothing: the other reasons come
    # from the co-applicant's file or the (lower) score the scorecard used
    assert [(r["code"], r.get("subject")) for r in app.decision_reasons[2:]] == [
        ("SCORECARD_CUTOFF", None),
        ("COLLECTION_OR_JUDGMENT", "co_applicant"),
    ]
    assert app.decision_reasons[3]["text"] == "Co-applicant: Collection action or judgment"


def test_co_applicant_failing_identity_checks_refers_naming_them():
    ada, charles = person(CLEAN), co_person(CO_CLEAN, addresses=False)
    app = joint(ada, charles, gross_monthly_income=HOUSEHOLD_INCOME)
    assert app.state == S.IN_UNDERWRITING
    assert app.auto_outcome == "refer"
    assert [(r["code"], r["text"]) for r in co_reasons(app)] == [
        ("UNABLE_TO_VERIFY_IDENTITY", "Co-applicant: Unable to verify identity")
    ]
    assert [r["code"] for r in app.decision_reasons] == ["UNABLE_TO_VERIFY_IDENTITY"]
    kyc = record_of(app).trace["subjects"]["co_applicant"]["kyc"]
    assert kyc["passed"] is False
    failed = [c for c in kyc["checks"] if not c["passed"]]
    assert failed == [{"check": "address", "passed": False, "reason": "No address on file."}]
    # the applicant's own checks passed
    assert record_of(app).trace["kyc"]["passed"] is True


def test_co_applicant_bureau_failure_refers():
    ada, charles = person(CLEAN), co_person(CO_TIMEOUT)
    app = joint(ada, charles)
    assert (app.state, app.auto_outcome) == (S.IN_UNDERWRITING, "refer")
    assert app.credit_score == 820  # only the applicant's score exists
    co = co_reasons(app)
    assert ("BUREAU_UNAVAILABLE", "Co-applicant: Credit report could not be obtained") in [
        (r["code"], r["text"]) for r in co
    ]
    pull = BureauPull.objects.get(application=app, customer=charles)
    assert (pull.status, pull.attempts, pull.score) == ("unavailable", 3, None)
    assert record_of(app).trace["subjects"]["co_applicant"]["bureau"]["status"] == "unavailable"


def test_applicant_bureau_failure_with_clean_co_applicant_still_refers():
    ada, charles = person(TIMEOUT), co_person(CO_CLEAN)
    app = joint(ada, charles, gross_monthly_income=HOUSEHOLD_INCOME)
    assert (app.state, app.auto_outcome) == (S.IN_UNDERWRITING, "refer")
    codes = [(r["code"], r.get("subject")) for r in app.decision_reasons]
    assert ("BUREAU_UNAVAILABLE", None) in codes
    assert co_reasons(app) == []


def test_bankrupt_applicant_with_clean_co_applicant_is_still_declined():
    app = joint(person(BANKRUPT), co_person(CO_CLEAN))
    assert (app.state, app.credit_score) == (S.DECLINED, 548)
    codes = [r["code"] for r in app.decision_reasons]
    assert codes[:2] == ["CREDIT_SCORE", "BANKRUPTCY"]
    assert co_reasons(app) == []
    assert "co-applicant" not in app.decision_reasons[0]["text"]


def test_without_a_co_applicant_nothing_joint_is_recorded():
    ada = person(CLEAN)
    app = joint(ada, None)
    assert app.state == S.APPROVED
    assert BureauPull.objects.get(application=app).customer_id == ada.pk
    trace = record_of(app).trace
    assert "subjects" not in trace and "score_used" not in trace
    assert trace["affordability"]["co_applicant_bureau_obligations"] is None
    assert trace["affordability"]["co_applicant_income"] is None
    assert len(trace["sanctions"]) == 1


def test_decision_score_is_the_lower_of_the_two():
    assert decision_score(820, 548) == 548
    assert decision_score(600, 700) == 600
    assert decision_score(820, None) == 820
    assert decision_score(None, 700) == 700
    assert decision_score(None, None) is None


def test_joint_affordability_adds_incomes_and_bureau_obligations():
    result = assess_affordability(
        gross_monthly_income="6000.00",
        co_applicant_income="4000.00",
        housing_cost="1500.00",
        bureau_monthly_obligations="500.00",
        co_applicant_bureau_obligations="300.00",
        other_obligations="0",
        proposed_payment="200.00",
    )
    assert result.gross_monthly_income == Decimal("10000.00")
    assert result.total_obligations == Decimal("2500.00")
    assert (result.dti, result.pti) == (Decimal("0.2500"), Decimal("0.0200"))
    assert result.residual_income == Decimal("7500.00")
    assert result.joint is True
    assert result.breakdown() == {
        "applicant_income": Decimal("6000.00"),
        "co_applicant_income": Decimal("4000.00"),
        "combined_income": Decimal("10000.00"),
        "applicant_bureau_obligations": Decimal("500.00"),
        "co_applicant_bureau_obligations": Decimal("300.00"),
    }
    with pytest.raises(ValueError, match="co_applicant_income may not be negative"):
        assess_affordability(
            gross_monthly_income="6000.00",
            co_applicant_income="-1",
            housing_cost="0",
            bureau_monthly_obligations="0",
            other_obligations="0",
            proposed_payment="200.00",
        )
