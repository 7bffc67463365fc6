# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""/api/v1/applications/...: the integrators' contract for origination,
through the real services on PostgreSQL."""

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from customers import services as customer_services
from origination.models import (
    Application,
    ApplicationEvent,
    Consent,
    GeneratedDocument,
    SanctionsList,
)
from origination.services import kyc
from servicing.models import Loan
from tests.customers.conftest import make_borrower
from tests.factories import UserFactory
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    make_customer,
    make_loan_product,
    servicing_product,
    set_business_date,
)
from users.authentication import hash_secret
from users.models import ApiKey, User

pytestmark = pytest.mark.django_db

ROUTING = "011000015"  # valid ABA checksum
BODY = {
    "product": "personal-loan",
    "requested_amount": "10000.00",
    "requested_term": 36,
    "purpose": "debt_consolidation",
    "employment_status": "employed",
    "employer": "Acme Corp",
    "employment_months": 60,
    "gross_monthly_income": "25000.00",
    "housing_status": "rent",
    "housing_cost": "1500.00",
    "other_obligations": "0.00",
    "consents": [
        {
            "kind": "credit_pull",
            "wording_version": "2026-01",
            "text": "I authorize a credit report pull.",
            "given_at": "2026-03-02T09:00:00-05:00",
        },
        {
            "kind": "e_records",
            "wording_version": "2026-01",
            "text": "I agree to receive disclosures and sign documents electronically.",
        },
    ],
}


def api_key_client(*scopes: str) -> Client:
    owner = User.objects.create(username=f"api:apps-{'-'.join(scopes)}", kind="integration")
    ApiKey.objects.create(
        name="test",
        prefix=f"lk_{owner.pk:08d}",
        key_hash=hash_secret("s3cret"),
        scopes=list(scopes),
        user=owner,
        created_by=UserFactory(),
    )
    return Client(
        HTTP_AUTHORIZATION=f"Api-Key lk_{owner.pk:08d}.s3cret", HTTP_USER_AGENT="partner-sdk/1.0"
    )


@pytest.fixture
def product(servicing_product):
    set_business_date(TODAY)
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)
    return make_loan_product(servicing_product.pk)


@pytest.fixture
def api():
    return api_key_client("applications:read", "applications:write")


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", **headers)


def create(client, customer, key=None, **overrides):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return post(
        client, "/api/v1/applications/", {**BODY, "applicant": customer.pk, **overrides}, **headers
    )


# --- create, idempotency, validation -----------------------------------------------------------


def test_create_returns_201_with_the_draft_and_its_consents(api, product):
    customer = make_customer()
    response = create(api, customer, key="k-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    app = Application.objects.get()
    assert (body["id"], body["reference"], body["state"], body["channel"]) == (
        app.pk,
        f"APP-{app.pk:08d}",
        "draft",
        "api",
    )
    assert body["terms"] == {
        "requested_amount": "10000.00",
        "requested_term": 36,
        "approved_amount": None,
        "approved_term": None,
        "approved_rate": None,
    }
    assert body["applicant"]["id"] == customer.pk
    assert body["product"]["code"] == "personal-loan"
    assert [(c["kind"], c["wording_version"]) for c in body["consents"]] == [
        ("credit_pull", "2026-01"),
        ("e_records", "2026-01"),
    ]
    pull = Consent.objects.get(application=app, kind="credit_pull")
    assert pull.given_at.isoformat() == "2026-03-02T14:00:00+00:00"  # the time given, in UTC
    assert app.idempotency_key == "k-1"
    assert [(e["from_state"], e["to_state"]) for e in body["timeline"]] == [("", "draft")]


def test_replay_with_the_same_key_returns_the_first_application(api, product):
    customer = make_customer()
    first = create(api, customer, key="k-replay")
    again = create(api, customer, key="k-replay")
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Application.objects.count() == 1
    assert Consent.objects.count() == 2


def test_same_key_with_a_different_body_is_422_and_writes_nothing(api, product):
    customer = make_customer()
    create(api, customer, key="k-diff")
    response = create(api, customer, key="k-diff", requested_amount="12000.00")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Application.objects.get().requested_amount == Decimal("10000.00")


def test_bad_amount_is_400_with_fields_and_nothing_written(api, product):
    customer = make_customer()
    audits = AuditEvent.objects.count()
    response = create(api, customer, key="k-bad", requested_amount="50.00")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The application has invalid values.",
        "fields": {"requested_amount": "Enter an amount between 1,000.00 and 35,000.00."},
    }
    assert not Application.objects.exists()
    assert not Consent.objects.exists()
    assert AuditEvent.objects.count() == audits
    # Malformed input is refused by the serializer, naming every field.
    response = create(api, customer, requested_amount="ten", consents=[{"kind": "nope"}])
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {
        "requested_amount",
        "consents.0.kind",
        "consents.0.wording_version",
        "consents.0.text",
    }
    response = create(api, customer, applicant=999999)
    assert response.status_code == 400
    assert response.json()["fields"] == {"applicant": ["No customer 999999."]}
    assert not Application.objects.exists()


def test_patch_edits_a_draft_and_refuses_after_submission(api, product):
    app_id = create(api, make_customer()).json()["id"]
    response = api.patch(
        f"/api/v1/applications/{app_id}/",
        {"requested_amount": "12000.00", "employer": "Babbage & Co"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["terms"]["requested_amount"] == "12000.00"
    assert response.json()["employer"] == "Babbage & Co"
    assert post(api, f"/api/v1/applications/{app_id}/submit/").json()["state"] == "approved"
    response = api.patch(
        f"/api/v1/applications/{app_id}/", {"employer": "X"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_editable"
    assert Application.objects.get().employer == "Babbage & Co"


# --- transitions ------------------------------------------------------------------------------


def test_invalid_transition_is_409_naming_the_state(api, product):
    app_id = create(api, make_customer()).json()["id"]
    events = ApplicationEvent.objects.count()
    response = post(api, f"/api/v1/applications/{app_id}/offers/1/accept/")
    # a draft accepts nothing: the state is refused before the offer is looked up
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    assert "draft" in response.json()["message"]
    response = post(
        api,
        f"/api/v1/applications/{app_id}/sign/",
        {"typed_name": "Dana Rivera", "shown_sha256": "0" * 64},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    response = post(api, f"/api/v1/applications/{app_id}/disburse/")
    assert response.status_code == 403  # the key's user may not disburse
    staff, _ = _staff("manager")
    response = post(staff, f"/api/v1/applications/{app_id}/disburse/")
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_transition",
        "message": f"Cannot disburse application APP-{app_id:08d}: it is draft.",
        "fields": {"state": "draft", "action": "disburse"},
    }
    assert ApplicationEvent.objects.count() == events
    assert Application.objects.get().state == "draft"


def test_submit_without_consents_is_400_and_a_decided_application_cannot_resubmit(api, product):
    app_id = create(api, make_customer(), consents=[]).json()["id"]
    response = post(api, f"/api/v1/applications/{app_id}/submit/")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"consent_credit_pull", "consent_e_records"}
    assert Application.objects.get().state == "draft"
    post(api, f"/api/v1/applications/{app_id}/consents/", BODY["consents"])
    assert post(api, f"/api/v1/applications/{app_id}/submit/").json()["state"] == "approved"
    again = post(api, f"/api/v1/applications/{app_id}/submit/")
    assert again.status_code == 409
    assert again.json()["fields"] == {"state": "approved", "action": "submit"}


def _staff(role):
    from tests.conftest import login_staff, make_staff

    user = make_staff(role)
    return login_staff(Client(), user), user


def test_approve_flow_through_the_api_to_disbursed(api, product):
    customer = make_customer()  # tax id ending 9999: the simulated bureau's clean file
    app_id = create(api, customer, key="flow-1").json()["id"]
    base = f"/api/v1/applications/{app_id}/"

    response = post(api, base + "submit/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "approved"
    assert body["decision"]["automatic_outcome"] == "approve"
    assert body["decision"]["credit_score"] == 820
    assert body["terms"]["approved_rate"] == "7.9900"
    assert [o["term"] for o in body["offers"]] == [36, 12, 24, 48, 60]
    offer = body["offers"][0]
    assert (offer["amount"], offer["annual_rate"], offer["status"]) == (
        "10000.00",
        "7.9900",
        "offered",
    )

    trace = api.get(base + "decision/").json()
    assert [(d["kind"], d["outcome"]) for d in trace["decisions"]] == [("automatic", "approve")]
    assert {"rules", "scorecard", "affordability", "kyc", "sanctions"} <= set(
        trace["decisions"][0]["trace"]
    )
    assert [(p["status"], p["score"]) for p in trace["bureau_pulls"]] == [("ok", 820)]

    response = post(api, base + f"offers/{offer['id']}/accept/")
    assert response.status_code == 200
    assert response.json()["state"] == "offer_accepted"
    assert post(api, base + f"offers/{offer['id']}/accept/").status_code == 200  # idempotent

    response = post(
        api,
        base + "bank-account/",
        {"routing_number": ROUTING, "account_number": "123456789", "account_type": "checking"},
    )
    assert response.status_code == 200
    assert response.json()["disbursement"]["account_last4"] == "6789"
    assert response.json()["disbursement"]["amount"] == "9700.00"

    package = api.get(base + "sign/").json()
    kinds = {d["id"]: d["kind"] for d in api.get(base).json()["generated_documents"]}
    assert kinds[package["agreement_id"]] == "loan_agreement"
    download = api.get(base + f"generated-documents/{package['disclosure_id']}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert (
        hashlib.sha256(download.content).hexdigest()
        == GeneratedDocument.objects.get(pk=package["disclosure_id"]).sha256
    )

    response = post(
        api,
        base + "sign/",
        {"typed_name": "Dana Rivera", "shown_sha256": "f" * 64},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "document_changed"
    response = post(
        api,
        base + "sign/",
        {"typed_name": "dana  rivera", "shown_sha256": package["sha256"]},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "documents_signed"
    app = Application.objects.get(pk=app_id)
    signature = app.signatures.get()
    assert (signature.user_agent, signature.shown_sha256) == ("partner-sdk/1.0", package["sha256"])
    assert signature.ip is not None

    manager, _ = _staff("manager")
    response = post(manager, base + "disburse/", HTTP_IDEMPOTENCY_KEY="fund-1")
    assert response.status_code == 200, response.json()
    body = response.json()
    loan = Loan.objects.get(origination_reference=f"APP-{app_id:08d}")
    assert (body["state"], body["loan_number"]) == ("disbursed", loan.loan_number)
    assert body["disbursement"]["status"] == "sent"
    assert loan.principal == Decimal("10000.00")
    again = post(manager, base + "disburse/")
    assert (again.status_code, again.json()["loan_number"]) == (200, loan.loan_number)
    assert Loan.objects.count() == 1
    assert [e["to_state"] for e in again.json()["timeline"]] == [
        "draft",
        "submitted",
        "approved",
        "offer_accepted",
        "documents_signed",
        "disbursed",
    ]


def test_decline_flow_lists_the_adverse_action_notice(api, product):
    # The simulated bureau's bankruptcy identity (tax id ending 0003) is declined.
    declined = customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Brian",
            "last_name": "Brokeman",
            "date_of_birth": date(1985, 6, 15),
            "tax_id": "402-34-0003",
            "email": "brian.b@example.com",
        },
        addresses=[
            {
                "kind": "residential",
                "line1": "1 Main St",
                "city": "Albany",
                "state": "NY",
                "postal_code": "12207",
            }
        ],
    )
    app_id = create(api, declined).json()["id"]
    body = post(api, f"/api/v1/applications/{app_id}/submit/").json()
    assert body["state"] == "declined"
    assert body["decision"]["credit_score"] == 548
    assert [r["code"] for r in body["reasons"]][:2] == ["CREDIT_SCORE", "BANKRUPTCY"]
    assert body["offers"] == []
    notices = [d for d in body["generated_documents"] if d["kind"] == "adverse_action"]
    assert len(notices) == 1
    download = api.get(
        f"/api/v1/applications/{app_id}/generated-documents/{notices[0]['id']}/download/"
    )
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")
    # listed before its PDF is rendered (after commit, or by this first download)
    assert notices[0]["sha256"] == ""
    listed = api.get(f"/api/v1/applications/{app_id}/").json()["generated_documents"]
    assert hashlib.sha256(download.content).hexdigest() == listed[0]["sha256"]
    response = post(api, f"/api/v1/applications/{app_id}/withdraw/", {"reason": "changed mind"})
    assert response.status_code == 409


def test_underwriting_and_documents_through_the_api(api, product):
    customer = make_customer()
    app_id = create(api, customer, consents=[]).json()["id"]
    base = f"/api/v1/applications/{app_id}/"
    underwriter, _ = _staff("underwriter")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        base + "documents/",
        {"kind": "other", "file": SimpleUploadedFile("paystub.pdf", pdf)},
    )
    assert response.status_code == 201, response.json()
    document = response.json()["documents"][0]
    assert (document["content_type"], document["sha256"]) == (
        "application/pdf",
        hashlib.sha256(pdf).hexdigest(),
    )
    exe = api.post(
        base + "documents/",
        {"kind": "other", "file": SimpleUploadedFile("statement.pdf", b"MZ\x90\x00" * 50)},
    )
    assert exe.status_code == 400
    assert len(api.get(base).json()["documents"]) == 1
    assert api.get(base + f"documents/{document['id']}/download/").content == pdf
    # An API key's user without the underwriter permission is refused by the service.
    assert post(api, base + f"documents/{document['id']}/verify/").status_code == 403
    response = post(underwriter, base + f"documents/{document['id']}/verify/")
    assert response.json()["documents"][0]["status"] == "verified"
    # Underwriting needs a submitted application.
    response = post(underwriter, base + "approve/")
    assert response.status_code == 409
    assert response.json()["fields"] == {"state": "draft", "action": "approve"}


# --- access ------------------------------------------------------------------------------------


def test_api_key_without_write_scope_is_403(product):
    customer = make_customer()
    reader = api_key_client("applications:read")
    response = create(reader, customer)
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the scope applications:write."
    assert not Application.objects.exists()
    assert reader.get("/api/v1/applications/").status_code == 200
    other = api_key_client("loans:read", "loans:write")
    assert other.get("/api/v1/applications/").status_code == 403


def test_borrower_session_is_403(product):
    borrower = make_borrower("bo@example.com")
    client = Client()
    client.force_login(borrower.user)
    assert client.get("/api/v1/applications/").status_code == 403
    response = create(client, borrower)
    assert response.status_code == 403
    assert response.json()["message"] == "This operation is for staff."
    assert not Application.objects.exists()


def test_staff_need_the_underwriting_permission(product, api):
    app_id = create(api, make_customer()).json()["id"]
    officer, _ = _staff("loan_officer")
    assert officer.get(f"/api/v1/applications/{app_id}/").status_code == 200
    response = post(officer, f"/api/v1/applications/{app_id}/decline/", {"reasons": ["OTHER"]})
    assert response.status_code == 403
    assert response.json()["message"] == "Your role does not allow this."


# --- list ---------------------------------------------------------------------------------


def test_list_filters_paginates_and_pins_its_query_count(api, product):
    customers = [make_customer() for _ in range(3)]
    ids = [create(api, c).json()["id"] for c in customers]
    post(api, f"/api/v1/applications/{ids[0]}/submit/")
    body = api.get("/api/v1/applications/?page_size=2").json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [ids[2], ids[1]]
    first = body["results"][0]
    assert (first["product_code"], first["applicant_name"], first["state"]) == (
        "personal-loan",
        "Dana Rivera",
        "draft",
    )
    approved = api.get("/api/v1/applications/?state=approved").json()
    assert [r["id"] for r in approved["results"]] == [ids[0]]
    assert approved["results"][0]["credit_score"] == 820
    mine = api.get(f"/api/v1/applications/?customer={customers[1].pk}").json()
    assert [r["id"] for r in mine["results"]] == [ids[1]]
    assert api.get("/api/v1/applications/?product=other").json()["count"] == 0
    assert api.get("/api/v1/applications/?state=bogus").status_code == 400

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/applications/").status_code == 200
        return len(ctx.captured_queries)

    three = queries()
    for c in [make_customer() for _ in range(5)]:
        create(api, c)
    assert queries() == three == 3  # API key, count, page
