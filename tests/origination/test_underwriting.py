"""Underwriting: conditions, approval blockers, authority limit, overrides,
counter-offers and declines."""

from decimal import Decimal

import pytest

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from origination.models import ApplicationState, DecisionRecord, GeneratedDocument
from origination.services import documents, products, underwriting
from tests.factories import UserFactory
from tests.origination.test_applications import (
    CLEAN,
    DELINQUENT,
    default_product,
    import_sample_sdn,
    person,
    submitted,
    transitions,
)

pytestmark = pytest.mark.django_db
S = ApplicationState
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    import_sample_sdn()


@pytest.fixture
def underwriter():
    return UserFactory(role="underwriter")


@pytest.fixture
def referred():
    return submitted(person(DELINQUENT))  # score 612 -> refer


def test_referred_application_approved_at_grid_rate(referred, underwriter):
    assert referred.state == S.IN_UNDERWRITING
    app = underwriting.approve(referred, underwriter, note="Lates explained")
    assert (app.state, app.approved_rate, app.approved_amount) == (
        S.APPROVED,
        Decimal("0.2699"),
        Decimal("10000.00"),
    )
    assert app.decided_at is not None
    record = DecisionRecord.objects.filter(application=app).last()
    assert (record.kind, record.outcome, record.created_by_id) == (
        "underwriter",
        "approve",
        underwriter.pk,
    )
    with pytest.raises(Conflict) as exc:
        underwriting.approve(app, underwriter)
    assert exc.value.message == f"Cannot approve application {app.reference}: it is approved."


def test_open_condition_blocks_approval(referred, underwriter):
    condition = underwriting.add_condition(referred, "Proof of address", underwriter)
    with pytest.raises(Conflict) as exc:
        underwriting.approve(referred, underwriter)
    assert exc.value.fields == {"conditions": ["Proof of address"]}
    referred.refresh_from_db()
    assert referred.state == S.IN_UNDERWRITING
    with pytest.raises(ValidationFailed):
        underwriting.waive_condition(condition, underwriter, "")
    underwriting.satisfy_condition(condition, underwriter, "Utility bill seen")
    assert underwriting.approve(referred, underwriter).state == S.APPROVED


def test_conditional_approval_then_final(referred, underwriter):
    app = underwriting.approve_conditionally(
        referred, underwriter, conditions=["Verify employment"]
    )
    assert app.state == S.CONDITIONALLY_APPROVED
    condition = app.conditions.get()
    with pytest.raises(Conflict):
        underwriting.approve(app, underwriter)
    underwriting.waive_condition(condition, underwriter, "Employer letter on file")
    app = underwriting.approve(app, underwriter)
    assert transitions(app)[-2:] == [
        ("in_underwriting", "conditionally_approved"),
        ("conditionally_approved", "approved"),
    ]


def test_unverified_required_document_blocks_approval(underwriter):
    product = products.revise_product(
        default_product(), {"required_documents": [{"kind": "pay_stub", "label": "Pay stub"}]}
    )
    app = submitted(person(DELINQUENT), product)
    doc = documents.upload_document(app, kind="pay_stub", file_name="stub.pdf", data=PDF)
    with pytest.raises(Conflict) as exc:
        underwriting.approve(app, underwriter)
    assert exc.value.fields == {"documents": ["Pay stub (uploaded)"]}
    with pytest.raises(ValidationFailed):
        documents.upload_document(app, kind="pay_stub", file_name="x.pdf", data=b"MZ\x90\x00")
    documents.verify_document(doc, underwriter)
    assert documents.missing_documents(app) == []
    assert underwriting.approve(app, underwriter).state == S.APPROVED


def test_authority_limit(underwriter):
    app = submitted(person(DELINQUENT), requested_amount="30000.00")
    with pytest.raises(PermissionDenied):
        underwriting.approve(app, underwriter)
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING
    manager = UserFactory(role="manager")
    assert underwriting.approve(app, manager).state == S.APPROVED


def test_counter_offer(referred, underwriter):
    app = underwriting.counter_offer(referred, underwriter, amount="6000.00", term=24)
    assert (app.state, app.approved_amount, app.approved_term, app.approved_rate) == (
        S.APPROVED,
        Decimal("6000.00"),
        24,
        Decimal("0.2699"),
    )
    assert DecisionRecord.objects.filter(application=app).last().kind == "counter_offer"


def test_decline_needs_reasons_and_produces_notice(referred, underwriter):
    with pytest.raises(ValidationFailed):
        underwriting.decline(referred, underwriter, reasons=[])
    app = underwriting.decline(referred, underwriter, reasons=["DELINQUENT_CREDIT"])
    assert app.state == S.DECLINED
    assert GeneratedDocument.objects.filter(application=app, kind="adverse_action").count() == 1
    with pytest.raises(Conflict):
        underwriting.add_condition(app, "late", underwriter)


def test_override_of_automatic_approval_needs_a_reason(underwriter):
    product = products.revise_product(
        default_product(), {"required_documents": [{"kind": "pay_stub", "label": "Pay stub"}]}
    )
    app = submitted(person(CLEAN), product)
    assert (app.state, app.auto_outcome) == (S.IN_UNDERWRITING, "approve")
    count = DecisionRecord.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        underwriting.decline(app, underwriter, reasons=["UNABLE_TO_VERIFY_INCOME"])
    assert exc.value.code == "override_reason_required"
    assert DecisionRecord.objects.count() == count
    app = underwriting.decline(
        app,
        underwriter,
        reasons=["UNABLE_TO_VERIFY_INCOME"],
        override_reason="Pay stub shows half the stated income",
    )
    assert DecisionRecord.objects.filter(application=app).last().kind == "override"


def test_non_underwriter_may_not_decide(referred):
    officer = UserFactory(role="loan_officer")
    with pytest.raises(PermissionDenied):
        underwriting.approve(referred, officer)
