# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""The borrower's application pages in the portal, driven through real
POSTs: apply in four saved steps (resume a draft), the automatic decision's
result (approved with offers, declined with the adverse action notice),
document upload refusing a renamed executable, accepting an offer and
signing with the request's evidence, the bank account, and a second
borrower getting 404 on every application URL."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from customers import services as customer_services
from origination.forms.portal import CONSENT_VERSION, CREDIT_PULL_TEXT, E_RECORDS_TEXT
from origination.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationState,
    Consent,
    Disbursement,
    GeneratedDocument,
    Offer,
    SanctionsList,
    Signature,
)
from origination.selectors.closing import read_document, signing_package
from origination.services import applications as app_services
from origination.services import closing, kyc, underwriting
from tests.factories import UserFactory
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    approved_application,
    make_loan_product,
    servicing_product,
    set_business_date,
)

pytestmark = pytest.mark.django_db
S = ApplicationState

IP = "198.51.100.7"
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) MobileSafari/604.1"
ROUTING = "011000015"  # a valid ABA routing number
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def product(servicing_product):
    set_business_date(TODAY)
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)
    return make_loan_product(servicing_product.pk)


_n = {"i": 0}


def borrower(first="Dana", last="Rivera"):
    _n["i"] += 1
    return customer_services.register_borrower(
        first_name=first,
        last_name=last,
        email=f"{first}.{last}.{_n['i']}@example.com".lower(),
        date_of_birth=date(1985, 6, 15),
        password="a-long-borrower-pass-1",
        accept_electronic_records=True,
    )


def client_for(customer) -> Client:
    client = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
    client.force_login(customer.user)
    return client


def with_identity(customer, tax_id: str):
    """A borrower with the tax id and address the bureau needs."""
    customer_services.update_customer(
        customer=customer, changes={"tax_id": tax_id, "tax_id_type": "ssn"}
    )
    customer_services.add_address(
        customer=customer,
        data={
            "kind": "residential",
            "line1": "12 St Marks Pl",
            "city": "New York",
            "state": "NY",
            "postal_code": "10003",
        },
    )
    customer.refresh_from_db()
    return customer


LOAN = {"requested_amount": "10000.00", "requested_term": "36", "purpose": "debt_consolidation"}
ABOUT = {
    "employment_status": "employed",
    "employer": "Acme Corp",
    "employment_months": "60",
    "gross_monthly_income": "25000.00",
    "housing_status": "rent",
    "housing_cost": "1500.00",
    "other_obligations": "0.00",
}
IDENTITY = {
    "line1": "12 St Marks Pl",
    "city": "New York",
    "state": "NY",
    "postal_code": "10003",
}


def start(client, product) -> Application:
    response = client.post(reverse("portal:apply"), {"product": str(product.pk), **LOAN})
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:apply-about", args=[application.pk])
    return application


def apply_through_review(client, product, tax_id: str) -> Application:
    application = start(client, product)
    response = client.post(
        reverse("portal:apply-about", args=[application.pk]),
        {**ABOUT, **IDENTITY, "tax_id": tax_id},
    )
    assert response.status_code == 302, response.context["form"].errors
    response = client.post(
        reverse("portal:apply-consents", args=[application.pk]),
        {"credit_pull": "on", "e_records": "on"},
    )
    assert response["Location"] == reverse("portal:apply-review", args=[application.pk])
    response = client.post(reverse("portal:apply-review", args=[application.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:application-result", args=[application.pk])
    application.refresh_from_db()
    return application


# --- apply -------------------------------------------------------------------------------


def test_apply_in_steps_to_an_automatic_approval_with_offers(product):
    customer = borrower()
    client = client_for(customer)
    assert (customer.tax_id_last4, customer.addresses.count()) == ("", 0)

    page = client.get(reverse("portal:apply"))
    assert page.status_code == 200
    assert f'value="{product.pk}"' in page.content.decode()

    application = start(client, product)
    assert (application.state, application.channel, application.applicant_id) == (
        S.DRAFT,
        "portal",
        customer.pk,
    )
    assert (application.requested_amount, application.requested_term, application.purpose) == (
        Decimal("10000.00"),
        36,
        "debt_consolidation",
    )

    # Step 2 asks for the identity the customer lacks and saves it through customers.services.
    about = client.get(reverse("portal:apply-about", args=[application.pk])).content.decode()
    assert 'name="tax_id"' in about and 'name="line1"' in about
    assert 'name="date_of_birth"' not in about  # on file from sign-up
    response = client.post(
        reverse("portal:apply-about", args=[application.pk]),
        {**ABOUT, **IDENTITY, "tax_id": "412-55-9999"},
    )
    assert response["Location"] == reverse("portal:apply-consents", args=[application.pk])
    customer.refresh_from_db()
    assert customer.tax_id_last4 == "9999"
    assert customer.addresses.get().postal_code == "10003"
    application.refresh_from_db()
    assert (application.employment_status, application.gross_monthly_income) == (
        "employed",
        Decimal("25000.00"),
    )
    assert (application.housing_cost, application.employment_months) == (Decimal("1500.00"), 60)

    # Step 3 shows the exact wording and version; the consents keep the request's evidence.
    consents = client.get(reverse("portal:apply-consents", args=[application.pk]))
    assert CREDIT_PULL_TEXT in consents.content.decode()
    assert E_RECORDS_TEXT in consents.content.decode()
    assert CONSENT_VERSION in consents.content.decode()
    client.post(
        reverse("portal:apply-consents", args=[application.pk]),
        {"credit_pull": "on", "e_records": "on"},
    )
    rows = {c.kind: c for c in Consent.objects.filter(application=application)}
    assert set(rows) == {"credit_pull", "e_records"}
    assert rows["credit_pull"].text == CREDIT_PULL_TEXT
    assert rows["e_records"].text == E_RECORDS_TEXT
    assert {(c.wording_version, c.ip, c.user_agent) for c in rows.values()} == {
        (CONSENT_VERSION, IP, UA)
    }

    response = client.post(reverse("portal:apply-review", args=[application.pk]))
    assert response["Location"] == reverse("portal:application-result", args=[application.pk])
    application.refresh_from_db()
    assert application.state == S.APPROVED
    assert application.credit_score == 820

    # Approval made the offers (one per allowed term, the approved term first).
    offers = list(application.offers.order_by("id"))
    assert [(o.term, o.status) for o in offers] == [
        (36, "offered"),
        (12, "offered"),
        (24, "offered"),
        (48, "offered"),
        (60, "offered"),
    ]
    result = client.get(reverse("portal:application-result", args=[application.pk]))
    html = result.content.decode()
    assert 'data-outcome="approved"' in html
    assert html.count("data-offer=") == 5
    assert "313.32" in html  # 36 months at 7.99 %: the engine's payment
    assert "10.07%" in html  # its APR


def test_a_step_with_errors_writes_nothing(product):
    customer = borrower()
    client = client_for(customer)
    response = client.post(
        reverse("portal:apply"), {"product": str(product.pk), **LOAN, "requested_amount": "50"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["requested_amount"] == [
        "Enter an amount between 1,000.00 and 35,000.00."
    ]
    assert not Application.objects.exists()

    application = start(client, product)
    response = client.post(
        reverse("portal:apply-about", args=[application.pk]),
        {**ABOUT, **IDENTITY, "tax_id": "412-55-9999", "employment_months": ""},
    )
    assert response.context["form"].errors["employment_months"] == [
        "State how long you have been employed."
    ]
    customer.refresh_from_db()
    application.refresh_from_db()
    assert (customer.tax_id_last4, customer.addresses.count()) == ("", 0)
    assert application.employment_status == ""

    # Submitting before the consents is refused with the reasons, nothing changes.
    client.post(
        reverse("portal:apply-about", args=[application.pk]),
        {**ABOUT, **IDENTITY, "tax_id": "412-55-9999"},
    )
    response = client.post(reverse("portal:apply-review", args=[application.pk]))
    assert response.status_code == 400
    assert response.context["problems"] == {
        "consent_credit_pull": "The credit report pull consent is required.",
        "consent_e_records": "The electronic records consent is required.",
    }
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_a_draft_can_be_resumed_from_the_applications_list(product):
    customer = borrower()
    client = client_for(customer)
    application = start(client, product)

    listing = client.get(reverse("portal:applications")).content.decode()
    about_url = reverse("portal:apply-about", args=[application.pk])
    assert f'href="{about_url}" role="button" data-resume' in listing
    assert "Continue your application" in listing
    # The apply page offers the draft instead of silently starting another.
    assert about_url in client.get(reverse("portal:apply")).content.decode()

    # Leave after step 2 and come back: the list points at step 3, with the values kept.
    client.post(about_url, {**ABOUT, **IDENTITY, "tax_id": "412-56-9999"})
    consents_url = reverse("portal:apply-consents", args=[application.pk])
    again = client_for(customer)  # a new session
    assert (
        f'href="{consents_url}" role="button" data-resume'
        in again.get(reverse("portal:applications")).content.decode()
    )
    form = again.get(about_url).context["form"]
    assert (form["employer"].value(), form["gross_monthly_income"].value()) == (
        "Acme Corp",
        Decimal("25000.00"),
    )
    loan = again.get(reverse("portal:apply-loan", args=[application.pk])).context["form"]
    assert loan["requested_amount"].value() == Decimal("10000.00")
    assert Application.objects.count() == 1


def test_a_decline_shows_the_adverse_action_notice(product):
    customer = borrower("Pat", "Chapter")
    client = client_for(customer)
    application = apply_through_review(client, product, "412-57-0003")  # bankruptcy file
    assert application.state == S.DECLINED
    notice = GeneratedDocument.objects.get(application=application, kind="adverse_action")

    html = client.get(reverse("portal:application-result", args=[application.pk])).content.decode()
    assert 'data-outcome="declined"' in html
    url = reverse("portal:application-document", args=[application.pk, notice.pk])
    assert url in html
    assert not Offer.objects.filter(application=application).exists()

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    notice.refresh_from_db()  # rendered by the download
    assert response.content == read_document(notice)


def test_a_referral_says_we_are_reviewing(product):
    customer = borrower("Lee", "Late")
    client = client_for(customer)
    application = apply_through_review(client, product, "412-58-0004")  # recent delinquencies
    assert application.state == S.IN_UNDERWRITING
    html = client.get(reverse("portal:application-result", args=[application.pk])).content.decode()
    assert 'data-outcome="referred"' in html
    assert "We&#x27;re reviewing your application." in html or "We're reviewing" in html
    assert not Offer.objects.filter(application=application).exists()


def test_an_underwriters_approval_makes_the_offers_the_portal_shows(product):
    customer = borrower("Lee", "Late")
    client = client_for(customer)
    application = apply_through_review(client, product, "412-63-0004")
    assert application.state == S.IN_UNDERWRITING
    assert not Offer.objects.filter(application=application).exists()

    underwriting.approve(application, UserFactory(role="underwriter"), note="Lates explained")

    application.refresh_from_db()
    assert application.state == S.APPROVED
    offers = list(application.offers.order_by("id"))
    assert offers[0].term == application.approved_term == 36
    assert offers[0].annual_rate == application.approved_rate
    assert {o.status for o in offers} == {"offered"}
    html = client.get(reverse("portal:application-detail", args=[application.pk])).content.decode()
    assert 'data-outcome="approved"' in html
    assert html.count("data-offer=") == len(offers)


def test_returned_for_information_the_borrower_edits_and_resubmits(product):
    customer = borrower("Lee", "Late")
    client = client_for(customer)
    application = apply_through_review(client, product, "412-64-0004")
    app_services.return_for_info(
        application, "Tell us about the late payments.", UserFactory(role="underwriter")
    )
    detail = reverse("portal:application-detail", args=[application.pk])
    html = client.get(detail).content.decode()
    assert "Tell us about the late payments." in html
    review = reverse("portal:apply-review", args=[application.pk])
    assert f'href="{review}" role="button" data-resume' in html  # every step is done

    client.post(
        reverse("portal:apply-about", args=[application.pk]),
        {**ABOUT, "gross_monthly_income": "26000.00"},
    )
    response = client.post(review)
    assert response["Location"] == reverse("portal:application-result", args=[application.pk])
    application.refresh_from_db()
    assert application.gross_monthly_income == Decimal("26000.00")
    assert list(application.events.values_list("to_state", flat=True)) == [
        S.DRAFT,
        S.SUBMITTED,
        S.IN_UNDERWRITING,
        S.RETURNED,
        S.SUBMITTED,
        S.IN_UNDERWRITING,
    ]
    labels = [row["label"] for row in client.get(detail).context["timeline"]]
    assert labels[3:] == [
        "We need more information from you",
        "Application submitted",
        "Under review by our team",
    ]


def test_conditions_to_satisfy_are_listed_until_resolved(product):
    customer = borrower("Lee", "Late")
    client = client_for(customer)
    application = apply_through_review(client, product, "412-65-0004")
    underwriter = UserFactory(role="underwriter")
    underwriting.approve_conditionally(
        application, underwriter, conditions=["Upload your two latest bank statements"]
    )
    detail = reverse("portal:application-detail", args=[application.pk])
    html = client.get(detail).content.decode()
    assert 'data-outcome="conditional"' in html
    assert "Upload your two latest bank statements" in html
    assert not Offer.objects.filter(application=application).exists()

    underwriting.satisfy_condition(application.conditions.get(), underwriter, note="Received")
    underwriting.approve(application, underwriter)
    html = client.get(detail).content.decode()
    assert "Upload your two latest bank statements" not in html
    assert html.count("data-offer=") == Offer.objects.filter(application=application).count() > 0


# --- documents ---------------------------------------------------------------------------


def test_upload_rejects_a_renamed_executable_and_accepts_a_png(servicing_product):
    set_business_date(TODAY)
    product = make_loan_product(
        servicing_product.pk,
        code="docs-loan",
        required_documents=[{"kind": "paystub", "label": "Recent pay stub"}],
    )
    customer = borrower()
    client = client_for(customer)
    application = start(client, product)
    url = reverse("portal:application-upload", args=[application.pk])

    response = client.post(url, {"kind": "paystub", "file": SimpleUploadedFile("paystub.pdf", EXE)})
    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"] == [
        "This file is a Windows executable; upload a PDF, JPEG or PNG document."
    ]
    assert "This file is a Windows executable" in response.content.decode()
    assert not ApplicationDocument.objects.exists()

    response = client.post(url, {"kind": "paystub", "file": SimpleUploadedFile("stub.png", PNG)})
    assert response.status_code == 302
    document = ApplicationDocument.objects.get()
    assert (document.kind, document.content_type, document.status, document.size) == (
        "paystub",
        "image/png",
        "uploaded",
        len(PNG),
    )
    html = client.get(reverse("portal:application-detail", args=[application.pk])).content.decode()
    assert 'data-kind="paystub"' in html and 'data-status="uploaded"' in html


# --- accept and sign ---------------------------------------------------------------------


def test_accept_an_offer_sign_with_the_requests_evidence_and_add_the_bank(product):
    customer = borrower()
    client = client_for(customer)
    application = apply_through_review(client, product, "412-59-9999")
    assert application.state == S.APPROVED
    chosen = application.offers.get(term=24)

    response = client.post(
        reverse("portal:application-accept", args=[application.pk]), {"offer_id": chosen.pk}
    )
    assert response["Location"] == reverse("portal:application-sign", args=[application.pk])
    application.refresh_from_db()
    chosen.refresh_from_db()
    assert (application.state, chosen.status) == (S.OFFER_ACCEPTED, "accepted")

    package = signing_package(application)
    page = client.get(reverse("portal:application-sign", args=[application.pk]))
    html = page.content.decode()
    assert package.sha256 in html
    assert page.context["form"]["shown_sha256"].value() == package.sha256
    pdf = client.get(reverse("portal:application-package", args=[application.pk]))
    assert pdf.content == package.pdf

    # A wrong typed name is a form error; nothing is signed.
    response = client.post(
        reverse("portal:application-sign", args=[application.pk]),
        {"typed_name": "Someone Else", "agree": "on", "shown_sha256": package.sha256},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["typed_name"] == [
        "Type your full name as it appears on the application."
    ]
    assert not Signature.objects.exists()

    response = client.post(
        reverse("portal:application-sign", args=[application.pk]),
        {"typed_name": " dana  RIVERA ", "agree": "on", "shown_sha256": package.sha256},
    )
    assert response["Location"] == reverse("portal:application-signed", args=[application.pk])
    signature = Signature.objects.get()
    assert (signature.ip, signature.user_agent, signature.shown_sha256) == (IP, UA, package.sha256)
    assert signature.typed_name == "dana  RIVERA"
    application.refresh_from_db()
    assert application.state == S.DOCUMENTS_SIGNED

    signed = client.get(reverse("portal:application-signed", args=[application.pk]))
    download = reverse(
        "portal:application-document", args=[application.pk, signature.signed_document_id]
    )
    assert download in signed.content.decode()
    pdf = client.get(download)
    assert pdf.content == read_document(signature.signed_document)
    assert pdf.content.startswith(b"%PDF-")

    # The bank account: a bad routing number is a form error, a good one is stored.
    bank_url = reverse("portal:application-bank", args=[application.pk])
    response = client.post(
        bank_url,
        {"routing_number": "011000016", "account_number": "123456789", "account_type": "checking"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["routing_number"]
    assert not Disbursement.objects.exists()
    response = client.post(
        bank_url,
        {"routing_number": ROUTING, "account_number": "123456789", "account_type": "checking"},
    )
    assert response.status_code == 302
    disbursement = Disbursement.objects.get()
    assert (disbursement.routing_number, disbursement.account_last4) == (ROUTING, "6789")
    assert disbursement.amount == Decimal("9700.00")  # 10,000 less the 300.00 withheld fee


def test_signing_asks_for_the_e_records_consent_first(product):
    customer = with_identity(borrower(), "412-60-9999")
    application = approved_application(product, customer=customer)
    # an application from another channel without the e-records consent
    application.consents.filter(kind="e_records").delete()
    offer = application.offers.order_by("id").first()
    closing.accept_offer(application=application, offer_id=offer.pk)
    client = client_for(customer)

    response = client.get(reverse("portal:application-sign", args=[application.pk]))
    assert response["Location"] == reverse("portal:application-consent", args=[application.pk])
    page = client.get(response["Location"])
    assert E_RECORDS_TEXT in page.content.decode()
    client.post(response["Location"], {"agree": "on"})
    consent = application.consents.get(kind="e_records")
    assert (consent.wording_version, consent.ip, consent.user_agent) == (CONSENT_VERSION, IP, UA)
    assert client.get(reverse("portal:application-sign", args=[application.pk])).status_code == 200


def test_a_stale_hash_is_refused_and_nothing_is_signed(product):
    customer = with_identity(borrower(), "412-61-9999")
    application = approved_application(product, customer=customer)
    closing.accept_offer(application=application, offer_id=application.offers.first().pk)
    client = client_for(customer)
    response = client.post(
        reverse("portal:application-sign", args=[application.pk]),
        {"typed_name": "Dana Rivera", "agree": "on", "shown_sha256": "0" * 64},
    )
    assert response.status_code == 400
    assert "The documents changed since they were shown; review them again." in (
        response.content.decode()
    )
    assert not Signature.objects.exists()
    application.refresh_from_db()
    assert application.state == S.OFFER_ACCEPTED


# --- access ------------------------------------------------------------------------------


def test_a_second_borrower_gets_404_on_every_application_url(product):
    owner = with_identity(borrower(), "412-62-9999")
    application = approved_application(product, customer=owner)
    offers = list(application.offers.order_by("id"))
    closing.accept_offer(application=application, offer_id=offers[0].pk)
    document = application.generated_documents.first()
    other = client_for(borrower("Eve", "Other"))
    pk = application.pk
    before = (
        ApplicationEvent.objects.count(),
        Consent.objects.count(),
        ApplicationDocument.objects.count(),
        Signature.objects.count(),
        Disbursement.objects.count(),
    )

    gets = [
        ("portal:apply-loan", [pk]),
        ("portal:apply-about", [pk]),
        ("portal:apply-consents", [pk]),
        ("portal:apply-review", [pk]),
        ("portal:application-detail", [pk]),
        ("portal:application-result", [pk]),
        ("portal:application-consent", [pk]),
        ("portal:application-sign", [pk]),
        ("portal:application-package", [pk]),
        ("portal:application-signed", [pk]),
        ("portal:application-document", [pk, document.pk]),
        ("portal:application-bank", [pk]),
    ]
    for name, args in gets:
        assert other.get(reverse(name, args=args)).status_code == 404, name
    posts = [
        ("portal:apply-loan", [pk], {"product": product.pk, **LOAN}),
        ("portal:apply-about", [pk], ABOUT),
        ("portal:apply-consents", [pk], {"credit_pull": "on", "e_records": "on"}),
        ("portal:apply-review", [pk], {}),
        (
            "portal:application-upload",
            [pk],
            {"kind": "other", "file": SimpleUploadedFile("a.png", PNG)},
        ),
        ("portal:application-accept", [pk], {"offer_id": offers[1].pk}),
        ("portal:application-consent", [pk], {"agree": "on"}),
        ("portal:application-sign", [pk], {"typed_name": "Dana Rivera", "agree": "on"}),
        (
            "portal:application-bank",
            [pk],
            {"routing_number": ROUTING, "account_number": "1234567", "account_type": "checking"},
        ),
    ]
    for name, args, data in posts:
        assert other.post(reverse(name, args=args), data).status_code == 404, name
    assert (
        ApplicationEvent.objects.count(),
        Consent.objects.count(),
        ApplicationDocument.objects.count(),
        Signature.objects.count(),
        Disbursement.objects.count(),
    ) == before
    assert "data-application" not in other.get(reverse("portal:applications")).content.decode()

    # The owner reaches the same pages.
    mine = client_for(owner)
    assert mine.get(reverse("portal:application-sign", args=[pk])).status_code == 200
    assert (
        mine.get(reverse("portal:application-document", args=[pk, document.pk])).status_code == 200
    )


def test_the_portal_home_links_to_my_applications(product):
    customer = borrower()
    html = client_for(customer).get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal:applications")}"' in html
