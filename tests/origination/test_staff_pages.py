# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""Staff application pages through real HTTP requests: the pipeline board
(by state, counts, filters, SLA ageing, pinned query count), the
underwriting queue, the new-application form, the application page
(trace, bureau) and every action's POST changing the state through the
services, with refusals as 400/403 and nothing written."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from core.models import BusinessDate
from origination.decisioning.default_rules import DEFAULT_RULE_SET
from origination.models import (
    Application,
    ApplicationDocument,
    ApplicationState,
    Condition,
    Consent,
    Disbursement,
    DisbursementBatch,
    GeneratedDocument,
    SanctionsList,
)
from origination.selectors.closing import signing_package
from origination.selectors.pipeline import business_days_between, sla_level
from origination.services import applications as app_services
from origination.services import closing, kyc
from servicing.models import Loan
from tests.conftest import login_staff
from tests.factories import UserFactory
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    accepted_application,
    approved_application,
    make_customer,
    make_loan_product,
    servicing_product,
    set_business_date,
)
from tests.origination.test_applications import person, submitted

pytestmark = pytest.mark.django_db
S = ApplicationState
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ACH = {
    "ACH_DESTINATION_ROUTING": "011000015",
    "ACH_DESTINATION_NAME": "Federal Reserve Bank",
    "ACH_ODFI_ROUTING": "021000021",
    "ACH_ORIGIN_NAME": "Acme Lending",
    "ACH_COMPANY_NAME": "Acme Lending",
    "ACH_COMPANY_ID": "1234567890",
}
ROUTING = "011000015"


@pytest.fixture
def product(servicing_product):
    return make_loan_product(servicing_product.pk)


def staff(role, **kwargs):
    user = UserFactory(role=role, **kwargs)
    return login_staff(Client(), user), user


_serial = {"n": 0}


def referred(product, last="Lovelace"):
    """A submitted application the automatic decision referred (score 612)."""
    set_business_date(TODAY)
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)
    _serial["n"] += 1
    tax_id = f"403-{20 + _serial['n']:02d}-0004"  # last four 0004: recent lates, score 612
    applicant = person(tax_id, last=last, email=f"ada.{last.lower()}@example.com")
    app = submitted(applicant, product, gross_monthly_income="20000.00")
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING, app.decision_reasons
    return app


def page(client, app) -> str:
    response = client.get(reverse("origination:application-detail", args=[app.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post(client, name, app, data=None, *args):
    return client.post(reverse(f"origination:{name}", args=[app.pk, *args]), data or {})


# --- SLA rule ------------------------------------------------------------------------------


def test_business_days_and_sla_levels():
    monday = date(2026, 3, 2)
    assert [business_days_between(monday, monday + timedelta(days=n)) for n in range(11)] == [
        0,
        1,
        2,
        3,
        4,
        4,
        4,
        5,
        6,
        7,
        8,
    ]
    assert sla_level("submitted", monday, date(2026, 3, 4)) == ""  # 2 business days
    assert sla_level("submitted", monday, date(2026, 3, 5)) == "warn"  # 3
    assert sla_level("in_underwriting", monday, date(2026, 3, 9)) == "warn"  # 5
    assert sla_level("in_underwriting", monday, date(2026, 3, 10)) == "late"  # 6
    assert sla_level("approved", monday, date(2026, 3, 30)) == ""


# --- board -----------------------------------------------------------------------------------


def _columns(html) -> dict[str, list[str]]:
    out = {}
    for state, body in re.findall(r'data-column="(\w+)".*?>(.*?)</section>', html, re.S):
        out[state] = re.findall(r'<li class="app-card[^"]*" data-app="([\w-]+)"', body)
    return out


def _counts(html) -> dict[str, int]:
    return {
        s: int(n) for s, n in re.findall(r'data-column="(\w+)".*?data-count="(\d+)"', html, re.S)
    }


def test_board_groups_by_state_with_counts_filters_and_sla(product):
    client, _ = staff("loan_officer")
    _, underwriter = staff("underwriter")
    first = referred(product, "One")
    second = referred(product, "Two")
    approved = approved_application(product)
    draft = app_services.start_application(
        applicant=make_customer("Dee", "Raft"),
        product=product,
        channel="staff",
        data={"requested_amount": "5000.00", "requested_term": 24},
    )
    app_services.assign(second, underwriter, acting_user=underwriter)
    since = timezone.localdate(first.submitted_at)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": since + timedelta(days=14)})

    html = client.get(reverse("origination:application-board")).content.decode()
    columns = _columns(html)
    assert columns["in_underwriting"] == [first.reference, second.reference]
    assert columns["approved"] == [approved.reference]
    assert columns["draft"] == [draft.reference]
    assert columns["submitted"] == []
    assert _counts(html) == {
        "draft": 1,
        "submitted": 0,
        "returned": 0,
        "in_underwriting": 2,
        "conditionally_approved": 0,
        "approved": 1,
        "offer_accepted": 0,
        "documents_signed": 0,
    }
    # 14 calendar days = 10 business days in underwriting: red; a draft does not age.
    assert f'data-app="{first.reference}" data-sla="late"' in html
    assert f'data-app="{draft.reference}" data-sla=""' in html

    url = reverse("origination:application-board")
    html = client.get(url, {"officer": str(underwriter.pk)}).content.decode()
    assert _columns(html)["in_underwriting"] == [second.reference]
    assert _counts(html)["in_underwriting"] == 1 and _counts(html)["approved"] == 0
    html = client.get(url, {"officer": "none", "state": "in_underwriting"}).content.decode()
    assert _columns(html) == {"in_underwriting": [first.reference]}
    html = client.get(url, {"product": product.code, "min_age": 14}).content.decode()
    assert sum(_counts(html).values()) == 4
    html = client.get(url, {"product": product.code, "min_age": 15}).content.decode()
    assert sum(_counts(html).values()) == 0
    html = client.get(url, {"view": "list", "state": "in_underwriting"}).content.decode()
    assert re.findall(r'<tr data-app="([\w-]+)"', html) == [first.reference, second.reference]


def test_board_query_count_is_pinned(product, django_assert_num_queries):
    client, _ = staff("loan_officer")
    url = reverse("origination:application-board")
    referred(product, "One")
    client.get(url)  # warm the session and the role cache
    with django_assert_num_queries(QUERIES) as few:
        assert client.get(url, {"view": "list"}).status_code == 200
    referred(product, "Two")
    referred(product, "Three")
    approved_application(product)
    with django_assert_num_queries(QUERIES):
        html = client.get(url).content.decode()
    assert sum(_counts(html).values()) == 4
    assert len(few.captured_queries) == QUERIES


QUERIES = 13  # session, user, 2FA, role, permissions, nav; workers, products; counts, cards


# --- application page -----------------------------------------------------------------------


def test_page_shows_every_rule_of_the_trace_and_the_bureau(product):
    client, _ = staff("underwriter")
    app = referred(product)
    html = page(client, app)
    assert 'data-score="612"' in html
    fired = dict(re.findall(r'data-rule="(\w+)" data-fired="(yes|no)"', html))
    assert list(fired) == [rule["code"] for rule in DEFAULT_RULE_SET["rules"]]
    assert {code for code, f in fired.items() if f == "yes"} == {
        r["rule"] for r in app.decision_reasons if r["rule"]
    }
    assert re.findall(r'data-characteristic="(\w+)"', html) == [
        c["variable"] for c in app.product.scorecard["characteristics"]
    ]
    assert 'data-testid="reveal-bureau-report"' in html and 'data-sanctions="clear"' in html
    assert 'data-check="tax_id"' in html
    # the underwriter sees the decision forms; the approve form has no override field
    for form_id in ("approve-form", "decline-form", "conditional-form", "counter-form"):
        assert f'id="{form_id}"' in html
    assert "approve-override_reason" not in html


def test_queue_oldest_first_and_assign_to_me(product):
    client, underwriter = staff("underwriter")
    first = referred(product, "One")
    second = referred(product, "Two")
    url = reverse("origination:underwriting-queue")
    html = client.get(url).content.decode()
    assert re.findall(r'<tr data-app="([\w-]+)"', html) == [first.reference, second.reference]
    response = post(client, "application-assign-me", second, {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    second.refresh_from_db()
    assert second.assigned_to_id == underwriter.pk
    html = client.get(url, {"assigned": "me"}).content.decode()
    assert re.findall(r'<tr data-app="([\w-]+)"', html) == [second.reference]
    html = client.get(url, {"assigned": "none"}).content.decode()
    assert re.findall(r'<tr data-app="([\w-]+)"', html) == [first.reference]


# --- new application ---------------------------------------------------------------------------

NEW = {
    "requested_amount": "8000.00",
    "requested_term": "24",
    "purpose": "home_improvement",
    "employment_status": "employed",
    "employer": "Acme Corp",
    "employment_months": "60",
    "gross_monthly_income": "25000.00",
    "housing_status": "rent",
    "housing_cost": "1500.00",
    "other_obligations": "0.00",
    "consent_credit_pull": "on",
    "consent_e_records": "on",
    "consent_version": "branch-2026-01",
}


def test_loan_officer_takes_an_application_in_the_branch_and_submits_it(product):
    set_business_date(TODAY)
    kyc.import_sdn(files=SAMPLE_SDN)
    client, officer = staff("loan_officer")
    customer = make_customer("Grace", "Hopper")
    url = reverse("origination:application-new")
    html = client.get(url, {"q": "Hopper"}).content.decode()
    assert f'data-customer="{customer.pk}"' in html
    html = client.get(url, {"q": "Hopper", "customer": customer.pk}).content.decode()
    assert f'data-chosen="{customer.pk}"' in html

    response = client.post(url, {**NEW, "customer": customer.pk, "product": product.pk})
    app = Application.objects.get(applicant=customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("origination:application-detail", args=[app.pk])
    assert (app.channel, app.state, app.requested_amount, app.requested_term, app.created_by) == (
        "staff",
        "draft",
        Decimal("8000.00"),
        24,
        officer,
    )
    assert sorted(
        Consent.objects.filter(application=app).values_list("kind", "wording_version")
    ) == [("credit_pull", "branch-2026-01"), ("e_records", "branch-2026-01")]
    assert 'id="submit-form"' in page(client, app)
    response = post(client, "application-submit", app)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == S.APPROVED  # clean file, automatic approval


def test_new_application_refuses_bad_input_and_writes_nothing(product):
    client, _ = staff("loan_officer")
    customer = make_customer("Grace", "Hopper")
    url = reverse("origination:application-new")
    response = client.post(
        url,
        {**NEW, "customer": customer.pk, "product": product.pk, "requested_amount": "500000.00"},
    )
    assert response.status_code == 400
    assert "Enter an amount between 1,000.00 and 35,000.00." in response.content.decode()
    response = client.post(url, {**NEW, "product": product.pk})
    assert response.status_code == 400
    assert "Pick the applicant" in response.content.decode()
    response = client.post(
        url, {**NEW, "customer": customer.pk, "product": product.pk, "requested_term": "30"}
    )
    assert response.status_code == 400
    assert "Choose one of: 12, 24, 36, 48, 60 months." in response.content.decode()
    assert Application.objects.count() == 0 and Consent.objects.count() == 0


# --- actions -------------------------------------------------------------------------------------


def test_underwriter_approves_a_referred_application_and_offers_follow(product):
    client, _ = staff("underwriter")
    app = referred(product)
    response = post(client, "application-approve", app, {"approve-note": "Lates explained"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.state, app.approved_amount, app.approved_rate) == (
        S.APPROVED,
        Decimal("10000.00"),
        Decimal("0.2699"),
    )
    html = page(client, app)
    assert "26.99% (0.269900)" in html
    assert len(re.findall(r'data-offer-status="offered"', html)) == app.offers.count() > 0
    # approving again is refused with the state named, 409
    response = post(client, "application-approve", app)
    assert response.status_code == 409
    assert f"Cannot approve application {app.reference}: it is approved." in (
        response.content.decode()
    )


def test_loan_officer_cannot_approve(product):
    client, _ = staff("loan_officer")
    app = referred(product)
    assert 'id="approve-form"' not in page(client, app)
    response = post(client, "application-approve", app)
    assert response.status_code == 403
    assert "Your role may not underwrite applications." in response.content.decode()
    response = post(client, "application-return", app, {"return-reason": "Need payslips"})
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING and app.decisions.count() == 1


def test_decline_with_reasons_lists_the_adverse_action_notice(product):
    client, _ = staff("underwriter")
    app = referred(product)
    response = post(client, "application-decline", app, {"decline-reasons": []})
    assert response.status_code == 400
    response = post(
        client,
        "application-decline",
        app,
        {"decline-reasons": ["DELINQUENT_CREDIT", "EXCESSIVE_INQUIRIES"]},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == S.DECLINED
    assert [r["code"] for r in app.decision_reasons] == ["DELINQUENT_CREDIT", "EXCESSIVE_INQUIRIES"]
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    html = page(client, app)
    assert 'data-generated="adverse_action"' in html and notice.sha256 in html
    download = client.get(
        reverse("origination:application-generated-download", args=[app.pk, notice.pk])
    )
    assert download.status_code == 200 and download.content.startswith(b"%PDF")


def test_override_of_an_automatic_approval_needs_a_reason(product):
    """An approved-by-engine outcome held for documents: declining it is an override."""
    client, _ = staff("underwriter")
    docs_product = make_loan_product(
        product.servicing_product_id,
        code="docs-loan",
        required_documents=[{"kind": "pay_stub", "label": "Recent pay stub"}],
    )
    set_business_date(TODAY)
    kyc.import_sdn(files=SAMPLE_SDN)
    app = submitted(make_customer("Alan", "Turing"), docs_product, gross_monthly_income="25000.00")
    app.refresh_from_db()
    assert (app.state, app.auto_outcome) == (S.IN_UNDERWRITING, "approve")
    assert "decline-override_reason" in page(client, app)
    response = post(client, "application-decline", app, {"decline-reasons": ["CREDIT_SCORE"]})
    assert response.status_code == 400
    assert "Give the reason for overriding the automatic decision." in response.content.decode()
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING

    # approval is blocked until the pay stub is verified
    response = post(client, "application-approve", app)
    assert response.status_code == 409
    assert "required documents not verified: Recent pay stub (missing)" in (
        response.content.decode()
    )
    response = client.post(
        reverse("origination:application-upload", args=[app.pk]),
        {"upload-kind": "pay_stub", "upload-file": _file("stub.pdf", PDF)},
    )
    assert response.status_code == 302
    document = ApplicationDocument.objects.get(application=app)
    assert 'data-status="uploaded"' in page(client, app)
    response = post(client, "application-document-verify", app, {}, document.pk)
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == "verified"
    assert 'data-required="pay_stub"><td>Recent pay stub</td><td><span class="badge ok"' in (
        page(client, app)
    )
    assert post(client, "application-approve", app).status_code == 302
    app.refresh_from_db()
    assert app.state == S.APPROVED


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_renamed_executable_upload_is_refused(product):
    client, _ = staff("loan_officer")
    app = referred(product)
    response = client.post(
        reverse("origination:application-upload", args=[app.pk]),
        {"upload-kind": "other", "upload-file": _file("payslip.pdf", b"MZ\x90\x00" + b"\0" * 64)},
    )
    assert response.status_code == 400
    assert ApplicationDocument.objects.count() == 0


def test_add_satisfy_condition_then_approve(product):
    client, underwriter = staff("underwriter")
    app = referred(product)
    response = post(client, "application-condition", app, {"condition-text": "Proof of address"})
    assert response.status_code == 302
    condition = Condition.objects.get(application=app)
    response = post(client, "application-approve", app)
    assert response.status_code == 409
    assert "open conditions: Proof of address" in response.content.decode()
    response = post(
        client,
        "application-condition-resolve",
        app,
        {f"resolve{condition.pk}-note": "Utility bill seen"},
        condition.pk,
        "satisfy",
    )
    assert response.status_code == 302
    condition.refresh_from_db()
    assert (condition.status, condition.note, condition.resolved_by) == (
        "satisfied",
        "Utility bill seen",
        underwriter,
    )
    assert post(client, "application-approve", app).status_code == 302


def test_conditional_approval_counter_offer_return_and_withdraw(product):
    client, _ = staff("manager")
    app = referred(product, "One")
    response = post(
        client,
        "application-approve-conditionally",
        app,
        {"conditional-conditions": "Verify employment\n\nProof of address\n"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == S.CONDITIONALLY_APPROVED
    assert list(app.conditions.values_list("text", flat=True)) == [
        "Verify employment",
        "Proof of address",
    ]
    other = referred(product, "Two")
    response = post(
        client, "application-counter", other, {"counter-amount": "6000.00", "counter-term": "24"}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert (other.state, other.approved_amount, other.approved_term) == (
        S.APPROVED,
        Decimal("6000.00"),
        24,
    )
    third = referred(product, "Three")
    response = post(client, "application-return", third, {"return-reason": "Need payslips"})
    assert response.status_code == 302
    third.refresh_from_db()
    assert (third.state, third.return_reason) == (S.RETURNED, "Need payslips")
    response = post(client, "application-withdraw", third, {"withdraw-reason": ""})
    assert response.status_code == 400
    response = post(client, "application-withdraw", third, {"withdraw-reason": "Changed mind"})
    third.refresh_from_db()
    assert (response.status_code, third.state) == (302, S.WITHDRAWN)


def test_assign_to_a_colleague(product):
    client, _ = staff("manager")
    _, underwriter = staff("underwriter")
    app = referred(product)
    response = post(client, "application-assign", app, {"assign-user": str(underwriter.pk)})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.assigned_to == underwriter


# --- funding ---------------------------------------------------------------------------


def _signed(product):
    application, _ = accepted_application(product)
    package = signing_package(application)
    customer = application.applicant
    closing.sign_documents(
        application=application,
        typed_name=f"{customer.first_name} {customer.last_name}",
        ip="203.0.113.9",
        user_agent="pytest",
        shown_sha256=package.sha256,
    )
    application.refresh_from_db()
    return application


def test_bad_routing_number_is_a_form_error_and_nothing_is_written(product):
    client, _ = staff("loan_officer")
    app = _signed(product)
    response = post(
        client,
        "application-bank-account",
        app,
        {
            "bank-routing_number": "011000016",
            "bank-account_number": "123456789",
            "bank-account_type": "checking",
        },
    )
    assert response.status_code == 400
    assert 'id="id_bank-routing_number_error"' in response.content.decode()
    assert Disbursement.objects.count() == 0


def test_loan_officer_disburses_and_the_loan_is_in_servicing(product):
    client, _ = staff("loan_officer")
    app = _signed(product)
    assert 'id="disburse-form"' in page(client, app)
    response = post(
        client,
        "application-bank-account",
        app,
        {
            "bank-routing_number": ROUTING,
            "bank-account_number": "123456789",
            "bank-account_type": "checking",
        },
    )
    assert response.status_code == 302
    assert Disbursement.objects.get(application=app).account_last4 == "6789"
    response = post(client, "application-disburse", app)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == S.DISBURSED and app.loan_number
    loan = Loan.objects.get(loan_number=app.loan_number)
    assert loan.origination_reference == app.reference
    html = page(client, app)
    assert f'data-loan="{app.loan_number}"' in html
    assert 'id="disburse-form"' not in html
    # a repeated POST (double click) is a no-op: still one loan
    post(client, "application-disburse", app)
    assert Loan.objects.filter(origination_reference=app.reference).count() == 1


@override_settings(**ACH)
def test_disbursement_file_page_creates_and_downloads_todays_file(product):
    client, _ = staff("loan_officer")
    app = _signed(product)
    post(
        client,
        "application-bank-account",
        app,
        {
            "bank-routing_number": ROUTING,
            "bank-account_number": "123456789",
            "bank-account_type": "checking",
        },
    )
    post(client, "application-disburse", app)
    url = reverse("origination:disbursement-files")
    assert client.post(url).status_code == 302
    batch = DisbursementBatch.objects.get()
    assert batch.entry_count == 1
    html = client.get(url).content.decode()
    assert f'data-batch="{batch.pk}"' in html
    download = client.get(reverse("origination:disbursement-file-download", args=[batch.pk]))
    assert download.status_code == 200 and download.content.decode() == batch.file_text
    client_uw, _ = staff("underwriter")
    assert client_uw.get(url).status_code == 403


def test_borrower_and_anonymous_are_kept_out(product):
    app = referred(product)
    borrower = UserFactory(kind="borrower")
    client = Client()
    client.force_login(borrower)
    for url in (
        reverse("origination:application-board"),
        reverse("origination:underwriting-queue"),
        reverse("origination:application-detail", args=[app.pk]),
    ):
        assert client.get(url).status_code == 403
        assert Client().get(url).status_code == 302
    assert post(client, "application-approve", app).status_code == 403
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING


def test_reject_document_needs_a_reason_and_download_returns_the_bytes(product):
    client, underwriter = staff("underwriter")
    app = referred(product)
    client.post(
        reverse("origination:application-upload", args=[app.pk]),
        {"upload-kind": "other", "upload-file": _file("letter.pdf", PDF)},
    )
    document = ApplicationDocument.objects.get(application=app)
    download = client.get(
        reverse("origination:application-document-download", args=[app.pk, document.pk])
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    url_args = (document.pk,)
    response = post(client, "application-document-reject", app, {}, *url_args)
    assert response.status_code == 400
    document.refresh_from_db()
    assert document.status == "uploaded"
    response = post(
        client,
        "application-document-reject",
        app,
        {f"reject{document.pk}-reason": "Blurred"},
        *url_args,
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.status, document.rejection_reason, document.reviewed_by) == (
        "rejected",
        "Blurred",
        underwriter,
    )
