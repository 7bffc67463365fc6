# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""Bureau reports and dates of birth in origination: encrypted at rest (read
back with raw SQL), the summary on the application page, the full report
only through an audited reveal for underwriting roles, masked dates of birth
on application and compliance pages, and the age policy rule still fed the
decrypted date (issue 11)."""

import json
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from origination.models import BureauPull, DecisionRecord, SanctionsHit, bureau_report_of
from origination.services import kyc
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    make_loan_product,
    servicing_product,
    set_business_date,
)
from tests.origination.test_applications import person, submitted
from tests.origination.test_staff_pages import page, referred, staff

pytestmark = pytest.mark.django_db

DOB_FORMS = ("1985-12-10", "12/10/1985", "Dec 10, 1985", "Dec. 10, 1985", "December 10, 1985")


@pytest.fixture
def product(servicing_product):
    return make_loan_product(servicing_product.pk)


def raw_row(table: str, pk: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        names = [c.name for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def creditors(pull: BureauPull) -> list[str]:
    return sorted({t["creditor"] for t in bureau_report_of(pull)["tradelines"]})


def report_reveals():
    return AuditEvent.objects.filter(action="application.bureau_report_revealed")


def reveal_url(app, pull) -> str:
    return reverse("origination:application-bureau-report", args=[app.pk, pull.pk])


def test_the_raw_report_is_stored_encrypted_with_a_plain_summary(product):
    app = referred(product)
    pull = BureauPull.objects.get(application=app)
    row = raw_row("origination_bureaupull", pull.pk)
    assert "raw" not in row
    stored = json.dumps({k: str(v) for k, v in row.items()})
    report = bureau_report_of(pull)
    assert report["subject"]["date_of_birth"] == "1985-12-10"
    assert report["tradelines"], "the simulated file has trade lines"
    for secret in ("1985-12-10", "Lovelace", *creditors(pull)):
        assert secret not in stored, secret
    summary = json.loads(row["summary"])  # jsonb comes back from the cursor as text
    assert summary["score"] == 612 == pull.score
    assert summary["tradeline_count"] == len(report["tradelines"])
    assert set(summary) >= {"key_factors", "delinquencies_30_24m", "inquiries_6m"}
    # the decision evidence (append-only) holds no date of birth either
    record = DecisionRecord.objects.get(application=app)
    evidence = json.dumps([record.trace, record.inputs])
    assert all(form not in evidence for form in DOB_FORMS)
    assert record.inputs["age"] == 40  # born 1985-12-10, decided 2026-03-02


def test_a_loan_officer_sees_the_summary_and_masked_dates_only(product):
    app = referred(product)
    pull = BureauPull.objects.get(application=app)
    client, _ = staff("loan_officer")
    html = page(client, app)
    assert 'data-score="612"' in html
    assert "••/••/1985" in html and "age 40" in html
    assert "stored encrypted and shown to underwriting roles only" in html
    assert 'data-testid="reveal-bureau-report"' not in html
    assert 'data-testid="reveal-date-of-birth"' not in html
    assert 'id="tradelines"' not in html
    for secret in (*DOB_FORMS, *creditors(pull)):
        assert secret not in html, secret
    refused = client.post(reveal_url(app, pull), HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert all(name not in refused.content.decode() for name in creditors(pull))
    assert not report_reveals().exists()


def test_an_underwriter_opens_the_full_report_through_an_audited_reveal(product):
    app = referred(product)
    pull = BureauPull.objects.get(application=app)
    client, underwriter = staff("underwriter")
    html = page(client, app)
    assert 'data-testid="reveal-bureau-report"' in html
    assert all(name not in html for name in creditors(pull))  # not before the reveal
    assert client.get(reveal_url(app, pull)).status_code == 405  # GET never reveals
    assert not report_reveals().exists()

    response = client.post(reveal_url(app, pull), HTTP_HX_REQUEST="true", HTTP_X_REQUEST_ID="r-9")
    body = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert 'id="tradelines"' in body and 'data-testid="bureau-report-revealed"' in body
    assert all(name in body for name in creditors(pull))
    event = report_reveals().get()
    assert (event.category, event.actor, event.object_type, event.object_id) == (
        "sensitive_read",
        underwriter,
        "origination.application",
        str(app.pk),
    )
    assert event.request_id == "r-9" and event.occurred_at is not None
    assert event.metadata == {
        "bureau_pull": pull.pk,
        "bureau": pull.bureau,
        "customer": app.applicant_id,
    }

    full = client.post(reveal_url(app, pull))
    assert full.status_code == 200 and f"Credit report for {app.reference}" in full.content.decode()
    assert report_reveals().count() == 2


def test_a_pull_of_another_application_is_404_and_not_audited(product):
    first = referred(product, last="First")
    second = referred(product, last="Second")
    pull = BureauPull.objects.get(application=first)
    client, _ = staff("manager")
    assert client.post(reveal_url(second, pull)).status_code == 404
    assert not report_reveals().exists()


def test_the_age_rule_uses_the_decrypted_date_of_birth(product):
    """Created on the day they turn 18, decided on a business date two days
    earlier: 17 years old, so the under-18 knock-out declines."""
    set_business_date(TODAY)
    kyc.import_sdn(files=SAMPLE_SDN)
    young = person("403-55-0004", first="Yuri", last="Young", dob=date(2008, 3, 2))
    set_business_date(date(2026, 2, 28))
    app = submitted(young, product, gross_monthly_income="20000.00")
    app.refresh_from_db()
    record = DecisionRecord.objects.get(application=app)
    assert record.inputs["age"] == 17
    assert app.state == "declined"
    assert "MINIMUM_AGE" in [r["code"] for r in app.decision_reasons]
    fired = {r["code"]: r["fired"] for r in record.trace["rules"]["trace"]}
    assert fired["KO01"] is True


def test_compliance_pages_and_api_mask_the_screened_date_of_birth(product):
    set_business_date(TODAY)
    kyc.import_sdn(files=SAMPLE_SDN)
    smith = person("401-23-4567", first="John", last="Smith", dob=date(1965, 3, 12))
    hit = kyc.screen_customer(customer=smith, application_id=None)
    row = raw_row("origination_sanctionshit", hit.pk)
    assert "screened_dob" not in row and row["screened_birth_year"] == 1965
    assert "1965-03-12" not in json.dumps({k: str(v) for k, v in row.items()})
    hit = SanctionsHit.objects.get(pk=hit.pk)
    client, _ = staff("underwriter")
    plain = ("1965-03-12", "03/12/1965", "Mar 12, 1965", "March 12, 1965")
    for url in (
        reverse("origination:compliance-queue"),
        reverse("origination:compliance-detail", args=[hit.pk]),
        "/api/v1/compliance/hits/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "••/••/1965" in text, url
        assert all(p not in text for p in plain), url
    detail = client.get(reverse("origination:compliance-detail", args=[hit.pk])).content.decode()
    assert 'data-testid="reveal-date-of-birth"' in detail  # the customer's audited reveal


def test_an_anonymous_visitor_is_sent_to_sign_in(product):
    app = referred(product)
    pull = BureauPull.objects.get(application=app)
    response = Client().post(reveal_url(app, pull))
    assert response.status_code == 302
    assert not report_reveals().exists()
