"""The adverse action notice of a decline shows the credit score used, the
key factors that adversely affected it (from the bureau report, at most
four, in the report's order) and the bureau's contact details; the
recorded notice content carries the same factors."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from origination.decisioning.bureau import parse_report
from origination.decisioning.simulated import FACTOR_TEXTS, SIMULATED_BUREAU_CONTACT
from origination.models import ApplicationState, BureauPull, GeneratedDocument, bureau_report_of
from origination.services import adverse_action
from tests.origination.test_adverse_action_async import _setup, pdf_text  # noqa: F401
from tests.origination.test_applications import BANKRUPT, person, submitted

pytestmark = pytest.mark.django_db


def _decline(tax_id, django_capture_on_commit_callbacks, **names):
    with django_capture_on_commit_callbacks(execute=True):
        app = submitted(person(tax_id, **names))
    assert app.state == ApplicationState.DECLINED
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    return app, notice


def test_the_notice_shows_the_score_its_key_factors_and_the_bureau(
    django_capture_on_commit_callbacks, staff_client
):
    app, notice = _decline(
        BANKRUPT, django_capture_on_commit_callbacks, first="Brian", last="Brokeman"
    )
    pull = BureauPull.objects.filter(application=app).latest("pulled_at")
    report = parse_report(bureau_report_of(pull))
    assert report.score == 548
    factors = [f.text for f in report.key_factors][:4]
    assert factors, "the bankrupt file's report carries key factors"
    assert all(text in FACTOR_TEXTS.values() for text in factors)

    # the notice as the underwriter downloads it
    client, _ = staff_client("underwriter")
    url = reverse("origination:application-generated-download", args=[app.pk, notice.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)

    score_part = text.split("Your credit score", 1)[1].split("Your right to a free credit report")[
        0
    ]
    assert "Your credit score 548" in text
    assert "a low of 300 to a high of 850" in score_part
    assert f"Date {pull.pulled_at.date():%B} {pull.pulled_at.day}, {pull.pulled_at.year}" in (
        score_part
    )
    assert "Key factors that adversely affected your credit score:" in score_part
    listed = score_part.split("Key factors that adversely affected your credit score:", 1)[1]
    # every factor, in the report's order, and no other factor text
    positions = [listed.index(factor) for factor in factors]
    assert positions == sorted(positions)
    others = set(FACTOR_TEXTS.values()) - set(factors)
    assert not [t for t in others if t in listed]

    bureau = text.split("Your right to a free credit report", 1)[1]
    contact = SIMULATED_BUREAU_CONTACT
    assert f"Consumer reporting agency {contact.name}" in bureau
    assert f"Address {contact.address}" in bureau
    assert f"Telephone (toll-free) {contact.phone}" in bureau
    assert f"Website {contact.website}" in bureau
    # the principal reasons are still there
    assert "Credit score below minimum" in text and "Bankruptcy" in text


def test_the_recorded_notice_keeps_the_factors_it_was_rendered_from(
    django_capture_on_commit_callbacks,
):
    app, _notice = _decline(BANKRUPT, django_capture_on_commit_callbacks)
    report = parse_report(
        bureau_report_of(BureauPull.objects.filter(application=app).latest("pulled_at"))
    )
    [recorded] = AuditEvent.objects.filter(
        object_id=str(app.pk), action=adverse_action.NOTICE_ACTION
    ).values_list("metadata", flat=True)
    notice = recorded["notice"]
    assert notice["score"] == 548
    assert (
        notice["key_factors"] == [{"code": f.code, "text": f.text} for f in report.key_factors][:4]
    )
    assert notice["bureau"]["phone"] == SIMULATED_BUREAU_CONTACT.phone
