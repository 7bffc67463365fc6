"""The automatic decision at submit: bureau, affordability, scorecard, KYC,
sanctions and rules, with the stored trace; adverse action on a decline."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from core.models import AuditEvent
from origination.decisioning.default_rules import DEFAULT_RULE_SET
from origination.decisioning.simulated import SIMULATED_BUREAU_CONTACT
from origination.models import (
    ApplicationState,
    BureauPull,
    DecisionRecord,
    GeneratedDocument,
    SanctionsHit,
)
from tests.origination.test_applications import (
    BANKRUPT,
    CLEAN,
    DELINQUENT,
    THIN,
    TIMEOUT,
    default_product,
    import_sample_sdn,
    person,
    submitted,
    transitions,
)

pytestmark = pytest.mark.django_db
S = ApplicationState


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    import_sample_sdn()


def test_clean_applicant_is_approved_at_the_grid_rate():
    app = submitted(person(CLEAN))
    assert app.state == S.APPROVED
    assert (app.auto_outcome, app.credit_score) == ("approve", 820)
    assert (app.approved_amount, app.approved_term, app.approved_rate) == (
        Decimal("10000.00"),
        36,
        Decimal("0.079900"),
    )
    assert app.decided_at >= app.submitted_at
    assert app.dti is not None and app.pti is not None
    assert transitions(app) == [("", "draft"), ("draft", "submitted"), ("submitted", "approved")]
    pull = BureauPull.objects.get(application=app)
    assert (pull.status, pull.score, pull.attempts, pull.bureau) == ("ok", 820, 1, "SIMULATED")
    record = DecisionRecord.objects.get(application=app)
    assert (record.kind, record.outcome) == ("automatic", "approve")
    assert record.rule_set_version == "default-consumer-installment v1"
    traced = [t["code"] for t in record.trace["rules"]["trace"]]
    assert traced == [r["code"] for r in DEFAULT_RULE_SET["rules"]]
    assert set(record.trace) >= {"rules", "scorecard", "affordability", "kyc", "sanctions"}
    assert record.trace["sanctions"][0]["status"] == "clear"
    assert record.trace["kyc"]["passed"] is True
    assert record.inputs["score"] == 820
    assert AuditEvent.objects.filter(action="application.approve", object_id=str(app.pk)).exists()
    assert GeneratedDocument.objects.count() == 0


def test_bankruptcy_is_declined_with_an_adverse_action_notice(
    settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # the PDF and e-mail come from the task queued after commit
    with django_capture_on_commit_callbacks(execute=True):
        app = submitted(person(BANKRUPT, first="Brian", last="Brokeman"))
    assert app.state == S.DECLINED
    assert (app.auto_outcome, app.credit_score) == ("decline", 548)
    codes = [r["code"] for r in app.decision_reasons]
    assert codes[:2] == ["CREDIT_SCORE", "BANKRUPTCY"]
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    data = notice.file.open("rb").read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == notice.sha256
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    text = " ".join(text.split())
    assert "Credit score below minimum" in text
    assert "Bankruptcy" in text
    assert "548" in text
    assert SIMULATED_BUREAU_CONTACT.phone in text
    assert SIMULATED_BUREAU_CONTACT.website in text
    assert "did not make the decision" in text
    assert "60 days" in text
    assert "Equal Credit Opportunity Act" in text
    assert "Federal Trade Commission" in text
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["brian.brokeman@example.com"]
    assert message.attachments[0][0] == f"{app.reference}-adverse-action.pdf"
    assert message.attachments[0][1] == data


@pytest.mark.parametrize("tax_id", [THIN, DELINQUENT])
def test_thin_file_or_recent_delinquencies_refer_to_underwriting(tax_id):
    app = submitted(person(tax_id))
    assert app.state == S.IN_UNDERWRITING
    assert app.auto_outcome == "refer"
    assert transitions(app)[-1] == ("submitted", "in_underwriting")
    assert len(mail.outbox) == 0


def test_bureau_timeout_refers_never_approves():
    app = submitted(person(TIMEOUT))
    assert (app.state, app.auto_outcome, app.credit_score) == (S.IN_UNDERWRITING, "refer", None)
    pull = BureauPull.objects.get(application=app)
    assert (pull.status, pull.attempts) == ("unavailable", 3)
    assert "BUREAU_UNAVAILABLE" in [r["code"] for r in app.decision_reasons]


def test_sanctions_exact_match_refers_with_a_linked_hit():
    customer = person(
        CLEAN.replace("401", "407"), first="John", last="Smith", dob=date(1965, 3, 12)
    )
    app = submitted(customer)
    assert app.state == S.IN_UNDERWRITING
    hit = SanctionsHit.objects.get(customer=customer)
    assert hit.application_id == app.pk
    assert hit.matches[0]["ent_num"] == 1001
    codes = [r["code"] for r in app.decision_reasons]
    assert "SANCTIONS_REVIEW" in codes
    record = DecisionRecord.objects.get(application=app)
    assert record.trace["sanctions"][0]["status"] == "potential_match"


def test_without_a_sanctions_list_the_decision_refers(db):
    from origination.models import SanctionsList

    SanctionsList.objects.update(is_active=False)
    app = submitted(person(CLEAN))
    assert app.state == S.IN_UNDERWRITING
    assert "SANCTIONS_UNAVAILABLE" in [r["code"] for r in app.decision_reasons]


def test_clean_applicant_with_required_documents_is_referred():
    from origination.services import products

    product = products.revise_product(
        default_product(),
        {"required_documents": [{"kind": "pay_stub", "label": "Recent pay stub"}]},
    )
    app = submitted(person(CLEAN), product)
    assert (app.state, app.auto_outcome) == (S.IN_UNDERWRITING, "approve")
    assert app.decision_reasons[-1]["code"] == "DOCUMENTS_OUTSTANDING"
