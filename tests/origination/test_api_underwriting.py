# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""/api/v1/applications/<id>/...: every underwriting action through the API,
on a referred application (the simulated bureau's delinquent file, score
612, lands in in_underwriting): assign, return for information and
resubmit, conditions, approve (blocked, then priced offers), approve
conditionally, counter-offer, decline with the adverse action notice,
document verify/reject, and the override reason. Each action: the body,
the database, the timeline or audit event, and who is refused (403)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.models import AuditEvent
from customers import services as customer_services
from origination.api.serializers import rate_percent
from origination.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Condition,
    DecisionRecord,
    GeneratedDocument,
    Offer,
    SanctionsList,
)
from origination.services import kyc
from origination.services.products import price_for
from tests.conftest import login_staff, make_staff
from tests.customers.conftest import make_borrower
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    ADDRESS,
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    make_customer,
    make_loan_product,
    servicing_product,
    set_business_date,
)
from tests.origination.test_api_applications import (
    api_key_client,
    create,
    post,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCOPE_403 = "This API key lacks the scope applications:write."
ROLE_403 = "Your role does not allow this."
SERVICE_403 = "Your role may not underwrite applications."


def setup_env():
    set_business_date(TODAY)
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)  # screening needs a list, else it refers


@pytest.fixture
def product(servicing_product):
    setup_env()
    return make_loan_product(servicing_product.pk)


@pytest.fixture
def product_with_pay_stub(servicing_product):
    setup_env()
    return make_loan_product(
        servicing_product.pk, required_documents=[{"kind": "pay_stub", "label": "Pay stub"}]
    )


@pytest.fixture
def api():
    return api_key_client("applications:read", "applications:write")


@pytest.fixture
def reader():
    return api_key_client("applications:read")


def staff(role):
    user = make_staff(role)
    return login_staff(Client(), user), user


@pytest.fixture
def uw():
    return staff("underwriter")


@pytest.fixture
def officer():
    return staff("loan_officer")[0]  # views applications, may not underwrite


def delinquent_customer(serial: int = 0):
    """The simulated bureau keys on the last four digits: 0004 is delinquent."""
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Lena",
            "last_name": "Latepay",
            "date_of_birth": date(1984, 4, 4),
            "tax_id": f"403-{45 + serial}-0004",
            "email": f"lena.latepay.{serial}@example.com",
        },
        addresses=[ADDRESS],
    )


def referred_application(api, customer=None) -> int:
    app_id = create(api, customer or delinquent_customer()).json()["id"]
    body = post(api, f"/api/v1/applications/{app_id}/submit/").json()
    assert (body["state"], body["decision"]["automatic_outcome"]) == ("in_underwriting", "refer")
    assert body["decision"]["credit_score"] == 612
    return app_id


@pytest.fixture
def referred(api, product) -> int:
    return referred_application(api)


def grid_percent(product, term: int) -> str:
    """The grid's rate for the delinquent file's score at `term`, as the API shows it."""
    return str(rate_percent(price_for(product, 612, term)))


def base(app_id) -> str:
    return f"/api/v1/applications/{app_id}/"


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def last_event(app_id) -> ApplicationEvent:
    return ApplicationEvent.objects.filter(application_id=app_id).order_by("id").last()


def snapshot(app_id) -> tuple:
    """Everything an action may write, to prove a refusal wrote nothing."""
    app = Application.objects.get(pk=app_id)
    return (
        app.state,
        app.assigned_to_id,
        app.return_reason,
        app.approved_amount,
        app.approved_rate,
        ApplicationEvent.objects.filter(application_id=app_id).count(),
        DecisionRecord.objects.filter(application_id=app_id).count(),
        list(Condition.objects.filter(application_id=app_id).values_list("status", flat=True)),
        list(
            ApplicationDocument.objects.filter(application_id=app_id).values_list(
                "status", flat=True
            )
        ),
        Offer.objects.filter(application_id=app_id).count(),
        GeneratedDocument.objects.filter(application_id=app_id).count(),
        AuditEvent.objects.count(),
    )


def refused(client, path, body=None, *, status, app_id, message=None, code=None):
    """POST is refused with `status` (and message/code) and writes nothing."""
    before = snapshot(app_id)
    response = post(client, path, body)
    assert response.status_code == status, response.json()
    if message is not None:
        assert response.json()["message"] == message
    if code is not None:
        assert response.json()["code"] == code
    assert snapshot(app_id) == before
    return response.json()


# --- assign ------------------------------------------------------------------------------------


def test_assign_reassign_and_unassign(referred, uw, officer, reader):
    client, acting = uw
    first, second = make_staff("underwriter"), make_staff("underwriter")
    path = base(referred) + "assign/"

    response = post(client, path, {"username": first.username})
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == first.username
    assert Application.objects.get(pk=referred).assigned_to_id == first.pk
    [event] = audits("application.assigned")
    assert (event.object_type, event.object_id) == ("origination.application", str(referred))
    assert (event.changes, event.actor_id) == ({"assigned_to": [None, first.pk]}, acting.pk)

    # Assigning again to the same person is a no-op: 200, nothing new audited.
    assert post(client, path, {"username": first.username}).json()["assigned_to"] == first.username
    assert len(audits("application.assigned")) == 1

    response = post(client, path, {"username": second.username})
    assert response.json()["assigned_to"] == second.username
    assert Application.objects.get(pk=referred).assigned_to_id == second.pk
    assert audits("application.assigned")[-1].changes == {"assigned_to": [first.pk, second.pk]}

    # A staff member who may not work on applications is refused (the service's 403).
    collector = make_staff("collections_agent")
    body = refused(client, path, {"username": collector.username}, status=403, app_id=referred)
    assert (body["code"], body["message"]) == (
        "not_allowed",
        f"{collector.username} may not work on applications.",
    )
    # A borrower, or nobody, is not a staff member: 400 naming the field.
    borrower = make_borrower("assign-me@example.com")
    body = refused(client, path, {"username": borrower.user.username}, status=400, app_id=referred)
    assert body["fields"] == {"username": ["No such staff member."]}
    body = refused(client, path, {"username": "nobody-here"}, status=400, app_id=referred)
    assert body["fields"] == {"username": ["No such staff member."]}
    refused(client, path, {}, status=400, app_id=referred)  # the field is required
    # A key without the write scope is refused before anything runs.
    refused(
        reader, path, {"username": first.username}, status=403, app_id=referred, message=SCOPE_403
    )

    # null unassigns.
    response = post(client, path, {"username": None})
    assert response.status_code == 200
    assert response.json()["assigned_to"] is None
    assert Application.objects.get(pk=referred).assigned_to_id is None
    assert audits("application.assigned")[-1].changes == {"assigned_to": [second.pk, None]}
    # Assignment is not a state change: no timeline event.
    assert last_event(referred).to_state == "in_underwriting"


def test_assigning_to_a_loan_officer_is_allowed_and_a_final_application_is_409(referred, uw, api):
    """The service lets any staff member who may view applications be
    assigned (origination.services.applications.assign), not only
    underwriters."""
    client, _ = uw
    loan_officer = make_staff("loan_officer")
    path = base(referred) + "assign/"
    response = post(client, path, {"username": loan_officer.username})
    assert response.status_code == 200
    assert response.json()["assigned_to"] == loan_officer.username
    post(client, base(referred) + "decline/", {"reasons": ["DELINQUENT_CREDIT"]})
    body = refused(client, path, {"username": loan_officer.username}, status=409, app_id=referred)
    assert body["fields"] == {"state": "declined", "action": "assign"}


# --- return for information --------------------------------------------------------------------


def test_return_for_info_then_the_applicant_resubmits(referred, uw, officer, reader, api):
    client, acting = uw
    path = base(referred) + "return/"
    refused(
        officer, path, {"reason": "Need a pay stub"}, status=403, app_id=referred, message=ROLE_403
    )
    refused(
        reader, path, {"reason": "Need a pay stub"}, status=403, app_id=referred, message=SCOPE_403
    )
    body = refused(client, path, {"reason": ""}, status=400, app_id=referred)
    assert set(body["fields"]) == {"reason"}
    body = refused(client, path, {"reason": "   "}, status=400, app_id=referred)
    assert set(body["fields"]) == {"reason"}

    response = post(client, path, {"reason": "Upload your two most recent pay stubs"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["return_reason"]) == (
        "returned",
        "Upload your two most recent pay stubs",
    )
    assert body["timeline"][-1]["from_state"] == "in_underwriting"
    assert body["timeline"][-1]["to_state"] == "returned"
    assert body["timeline"][-1]["note"] == "Upload your two most recent pay stubs"
    assert body["timeline"][-1]["actor"] == acting.username
    app = Application.objects.get(pk=referred)
    assert (app.state, app.return_reason) == ("returned", "Upload your two most recent pay stubs")
    [audit] = audits("application.return_for_info")
    assert audit.changes == {"state": ["in_underwriting", "returned"]}
    assert audit.metadata["note"] == "Upload your two most recent pay stubs"
    assert audit.actor_id == acting.pk
    # The same return again answers 200 unchanged.
    again = post(client, path, {"reason": "Upload your two most recent pay stubs"})
    assert again.status_code == 200
    assert len(audits("application.return_for_info")) == 1

    # Underwriting waits for the resubmission.
    body = refused(client, base(referred) + "approve/", status=409, app_id=referred)
    assert body["fields"] == {"state": "returned", "action": "approve"}

    # The applicant's side (the integrator's key) edits and resubmits.
    response = api.patch(
        base(referred), {"employer": "Babbage & Co"}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    response = post(api, base(referred) + "submit/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "in_underwriting"  # decided again: still referred
    assert body["employer"] == "Babbage & Co"
    states = [e["to_state"] for e in body["timeline"]]
    assert states[-4:] == ["in_underwriting", "returned", "submitted", "in_underwriting"]
    assert Application.objects.get(pk=referred).state == "in_underwriting"
    assert DecisionRecord.objects.filter(application_id=referred, kind="automatic").count() == 2


# --- conditions and approval -------------------------------------------------------------------


def test_open_condition_blocks_approval_until_satisfied_or_waived(
    referred, uw, officer, reader, api, product
):
    client, acting = uw
    b = base(referred)
    for who, message in ((officer, ROLE_403), (reader, SCOPE_403)):
        refused(
            who,
            b + "conditions/",
            {"text": "Proof of address"},
            status=403,
            app_id=referred,
            message=message,
        )
    # The key's user has the scope but not the underwriting permission.
    refused(
        api,
        b + "conditions/",
        {"text": "Proof of address"},
        status=403,
        app_id=referred,
        message=SERVICE_403,
    )
    body = refused(client, b + "conditions/", {"text": ""}, status=400, app_id=referred)
    assert set(body["fields"]) == {"text"}

    response = post(client, b + "conditions/", {"text": "Proof of address"})
    assert response.status_code == 200, response.json()
    [address] = response.json()["conditions"]
    assert (address["text"], address["status"], address["resolved_at"]) == (
        "Proof of address",
        "open",
        None,
    )
    post(client, b + "conditions/", {"text": "Employer letter"})
    letter = Condition.objects.get(application_id=referred, text="Employer letter")
    [added, _] = audits("application.condition_added")
    assert (added.object_type, added.object_id) == ("origination.condition", str(address["id"]))
    assert (added.metadata, added.actor_id) == (
        {"application": referred, "text": "Proof of address"},
        acting.pk,
    )
    assert Application.objects.get(pk=referred).state == "in_underwriting"

    # Approval is refused while they are open, naming them; nothing written.
    body = refused(
        client, b + "approve/", {"note": "ok"}, status=409, app_id=referred, code="approval_blocked"
    )
    assert body["fields"] == {"conditions": ["Proof of address", "Employer letter"]}
    assert "Proof of address" in body["message"] and "Employer letter" in body["message"]

    # Satisfy one (with a note), waive the other (a note is required).
    response = post(client, b + f"conditions/{address['id']}/satisfy/", {"note": "Utility bill"})
    assert response.status_code == 200, response.json()
    shown = {c["id"]: c for c in response.json()["conditions"]}
    assert (shown[address["id"]]["status"], shown[address["id"]]["note"]) == (
        "satisfied",
        "Utility bill",
    )
    assert shown[address["id"]]["resolved_at"] is not None
    condition = Condition.objects.get(pk=address["id"])
    assert (condition.status, condition.resolved_by_id) == ("satisfied", acting.pk)
    [satisfied] = audits("application.condition_satisfied")
    assert satisfied.changes == {"status": ["open", "satisfied"]}
    # Satisfying again answers 200; waiving a satisfied one is 409.
    assert post(client, b + f"conditions/{address['id']}/satisfy/").status_code == 200
    assert len(audits("application.condition_satisfied")) == 1
    refused(
        client,
        b + f"conditions/{address['id']}/waive/",
        {"note": "x"},
        status=409,
        app_id=referred,
        code="condition_resolved",
    )
    body = refused(client, b + "approve/", status=409, app_id=referred, code="approval_blocked")
    assert body["fields"] == {"conditions": ["Employer letter"]}

    waive = b + f"conditions/{letter.pk}/waive/"
    body = refused(client, waive, {"note": ""}, status=400, app_id=referred)
    assert set(body["fields"]) == {"note"}
    refused(officer, waive, {"note": "seen"}, status=403, app_id=referred, message=ROLE_403)
    refused(reader, waive, {"note": "seen"}, status=403, app_id=referred, message=SCOPE_403)
    # A condition of another application is 404 here.
    other = referred_application(api, delinquent_customer(1))
    post(client, base(other) + "conditions/", {"text": "Elsewhere"})
    elsewhere = Condition.objects.get(application_id=other)
    refused(client, b + f"conditions/{elsewhere.pk}/satisfy/", status=404, app_id=referred)
    assert Condition.objects.get(pk=elsewhere.pk).status == "open"

    response = post(client, waive, {"note": "Long-standing customer"})
    assert response.status_code == 200
    letter.refresh_from_db()
    assert (letter.status, letter.note) == ("waived", "Long-standing customer")
    [waived] = audits("application.condition_waived")
    assert waived.metadata == {"application": referred, "note": "Long-standing customer"}
    refused(
        client,
        b + f"conditions/{letter.pk}/satisfy/",
        status=409,
        app_id=referred,
        code="condition_resolved",
    )

    # Approval: the API key's user and a loan officer are refused; the underwriter approves.
    refused(api, b + "approve/", status=403, app_id=referred, message=SERVICE_403)
    refused(officer, b + "approve/", status=403, app_id=referred, message=ROLE_403)
    response = post(client, b + "approve/", {"note": "Lates explained"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "approved"
    assert body["terms"] == {
        "requested_amount": "10000.00",
        "requested_term": 36,
        "approved_amount": "10000.00",
        "approved_term": 36,
        "approved_rate": "26.9900",
    }
    assert (body["decision"]["latest_kind"], body["decision"]["latest_outcome"]) == (
        "underwriter",
        "approve",
    )
    assert body["decision"]["decided_at"] is not None
    assert body["timeline"][-1] == {
        **body["timeline"][-1],
        "from_state": "in_underwriting",
        "to_state": "approved",
        "actor": acting.username,
        "note": "Lates explained",
    }
    # Offers are priced: one per allowed term, the requested term first, at the approved rate.
    offers = body["offers"]
    assert [o["term"] for o in offers] == [36, 12, 24, 48, 60]
    assert {(o["amount"], o["status"]) for o in offers} == {("10000.00", "offered")}
    assert offers[0]["annual_rate"] == "26.9900"  # the requested term at the approved rate
    assert [o["annual_rate"] for o in offers] == [grid_percent(product, o["term"]) for o in offers]
    assert "28.9900" in {o["annual_rate"] for o in offers}  # longer terms price higher
    first = offers[0]
    assert Decimal(first["apr"]) >= Decimal("26.99")
    assert Decimal(first["total_of_payments"]) == Decimal(first["finance_charge"]) + Decimal(
        first["amount_financed"]
    )
    assert Decimal(first["total_of_payments"]) > Decimal("10000.00")
    listed = api.get(b + "offers/").json()
    assert (listed["state"], [o["id"] for o in listed["offers"]]) == (
        "approved",
        [o["id"] for o in offers],
    )
    app = Application.objects.get(pk=referred)
    assert (app.state, app.approved_rate, app.approved_amount) == (
        "approved",
        Decimal("0.2699"),
        Decimal("10000.00"),
    )
    record = DecisionRecord.objects.filter(application=app).order_by("id").last()
    assert (record.kind, record.outcome, record.created_by_id, record.note) == (
        "underwriter",
        "approve",
        acting.pk,
        "Lates explained",
    )
    [approved] = audits("application.approve")
    assert approved.changes == {"state": ["in_underwriting", "approved"]}
    assert approved.actor_id == acting.pk
    # Approving again is 409 naming the state; conditions cannot be added any more.
    body = refused(client, b + "approve/", status=409, app_id=referred)
    assert body["fields"] == {"state": "approved", "action": "approve"}
    refused(
        client,
        b + "conditions/",
        {"text": "Late"},
        status=409,
        app_id=referred,
        code="invalid_transition",
    )


def test_approve_conditionally_then_final_approval(referred, uw, officer, reader, api, product):
    client, _ = uw
    b = base(referred)
    path = b + "approve-conditionally/"
    conditions = {"conditions": ["Verify employment", "Proof of address"], "note": "Thin margin"}
    refused(officer, path, conditions, status=403, app_id=referred, message=ROLE_403)
    refused(reader, path, conditions, status=403, app_id=referred, message=SCOPE_403)
    refused(api, path, conditions, status=403, app_id=referred, message=SERVICE_403)
    body = refused(client, path, {"conditions": []}, status=400, app_id=referred)
    assert set(body["fields"]) == {"conditions"}
    body = refused(client, path, {}, status=400, app_id=referred)
    assert set(body["fields"]) == {"conditions"}
    refused(client, path, {"conditions": ["  "]}, status=400, app_id=referred)

    response = post(client, path, conditions)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "conditionally_approved"
    assert [(c["text"], c["status"]) for c in body["conditions"]] == [
        ("Verify employment", "open"),
        ("Proof of address", "open"),
    ]
    assert (body["terms"]["approved_amount"], body["terms"]["approved_rate"]) == (
        "10000.00",
        "26.9900",
    )
    assert body["offers"] == []  # offers come with the final approval
    assert body["timeline"][-1]["to_state"] == "conditionally_approved"
    assert body["timeline"][-1]["note"] == "Conditions: Verify employment; Proof of address"
    assert (body["decision"]["latest_kind"], body["decision"]["latest_outcome"]) == (
        "underwriter",
        "conditional",
    )
    app = Application.objects.get(pk=referred)
    assert (app.state, app.approved_rate) == ("conditionally_approved", Decimal("0.2699"))
    [audit] = audits("application.approve_conditionally")
    assert audit.changes == {"state": ["in_underwriting", "conditionally_approved"]}
    assert sorted(audit.metadata["conditions"]) == sorted(c["id"] for c in body["conditions"])

    ids = [c["id"] for c in body["conditions"]]
    body = refused(client, b + "approve/", status=409, app_id=referred, code="approval_blocked")
    assert body["fields"] == {"conditions": ["Verify employment", "Proof of address"]}
    # A conditional approval cannot be made twice.
    refused(client, path, conditions, status=409, app_id=referred, code="invalid_transition")

    post(client, b + f"conditions/{ids[0]}/satisfy/", {"note": "HR called"})
    post(client, b + f"conditions/{ids[1]}/waive/", {"note": "Address matches bureau"})
    response = post(client, b + "approve/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "approved"
    assert [c["status"] for c in body["conditions"]] == ["satisfied", "waived"]
    assert [(e["from_state"], e["to_state"]) for e in body["timeline"]][-2:] == [
        ("in_underwriting", "conditionally_approved"),
        ("conditionally_approved", "approved"),
    ]
    assert [o["annual_rate"] for o in body["offers"]] == [
        grid_percent(product, o["term"]) for o in body["offers"]
    ]
    assert Offer.objects.filter(application_id=referred).count() == 5


def test_counter_offer_approves_other_terms(referred, uw, officer, reader, api):
    client, _ = uw
    path = base(referred) + "counter-offer/"
    offer = {"amount": "6000.00", "term": 24, "note": ""}
    refused(officer, path, offer, status=403, app_id=referred, message=ROLE_403)
    refused(reader, path, offer, status=403, app_id=referred, message=SCOPE_403)
    refused(api, path, offer, status=403, app_id=referred, message=SERVICE_403)
    body = refused(client, path, {"amount": "500.00", "term": 24}, status=400, app_id=referred)
    assert body["fields"] == {"amount": "Enter an amount between 1,000.00 and 35,000.00."}
    body = refused(client, path, {"amount": "6000.00", "term": 30}, status=400, app_id=referred)
    assert body["fields"] == {"term": "Choose one of the product's terms."}
    body = refused(client, path, {"amount": "6000.00"}, status=400, app_id=referred)
    assert set(body["fields"]) == {"term"}

    response = post(client, path, offer)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "approved"
    assert body["terms"] == {
        "requested_amount": "10000.00",
        "requested_term": 36,
        "approved_amount": "6000.00",
        "approved_term": 24,
        "approved_rate": "26.9900",
    }
    assert (body["decision"]["latest_kind"], body["decision"]["latest_outcome"]) == (
        "counter_offer",
        "approve",
    )
    assert body["timeline"][-1]["note"] == "Counter-offer: 6,000.00 over 24 months"
    listed = api.get(base(referred) + "offers/").json()["offers"]
    assert listed == body["offers"]
    assert listed[0]["term"] == 24  # the countered term first
    assert {o["amount"] for o in listed} == {"6000.00"}  # never the requested 10,000
    app = Application.objects.get(pk=referred)
    assert (app.approved_amount, app.approved_term, app.requested_amount) == (
        Decimal("6000.00"),
        24,
        Decimal("10000.00"),
    )
    record = DecisionRecord.objects.filter(application=app).order_by("id").last()
    assert (record.kind, record.trace["approved_amount"]) == ("counter_offer", "6000.00")
    assert audits("application.approve")[-1].metadata["kind"] == "counter_offer"


def test_decline_with_reasons_records_the_adverse_action_notice(referred, uw, officer, reader, api):
    client, acting = uw
    path = base(referred) + "decline/"
    reasons = {"reasons": ["DELINQUENT_CREDIT", "Income could not be confirmed"], "note": "n"}
    refused(officer, path, reasons, status=403, app_id=referred, message=ROLE_403)
    refused(reader, path, reasons, status=403, app_id=referred, message=SCOPE_403)
    refused(api, path, reasons, status=403, app_id=referred, message=SERVICE_403)
    body = refused(client, path, {"reasons": []}, status=400, app_id=referred)
    assert set(body["fields"]) == {"reasons"}
    body = refused(client, path, {"reasons": ["OTHER"] * 5}, status=400, app_id=referred)
    assert set(body["fields"]) == {"reasons"}

    response = post(client, path, reasons)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "declined"
    assert [r["code"] for r in body["reasons"]] == ["DELINQUENT_CREDIT", "OTHER"]
    assert body["reasons"][1]["text"] == "Income could not be confirmed"
    assert body["offers"] == []
    [notice] = [d for d in body["generated_documents"] if d["kind"] == "adverse_action"]
    assert (
        GeneratedDocument.objects.filter(application_id=referred, kind="adverse_action").count()
        == 1
    )
    assert api.get(
        base(referred) + f"generated-documents/{notice['id']}/download/"
    ).content.startswith(b"%PDF")
    assert body["timeline"][-1]["to_state"] == "declined"
    assert body["timeline"][-1]["actor"] == acting.username
    app = Application.objects.get(pk=referred)
    assert (app.state, app.decided_at is not None) == ("declined", True)
    record = DecisionRecord.objects.filter(application=app).order_by("id").last()
    assert (record.kind, record.outcome) == ("underwriter", "decline")
    [audit] = audits("application.decline")
    assert audit.metadata["reasons"] == ["DELINQUENT_CREDIT", "OTHER"]
    # Final: nothing more can be decided.
    refused(
        client, base(referred) + "approve/", status=409, app_id=referred, code="invalid_transition"
    )
    refused(client, path, reasons, status=409, app_id=referred, code="invalid_transition")


# --- documents and the override reason ----------------------------------------------------------


def test_document_review_and_the_override_reason(api, uw, officer, reader, product_with_pay_stub):
    client, acting = uw
    # A clean file the engine approves, referred only for the required pay stub.
    app_id = create(api, make_customer()).json()["id"]
    body = post(api, base(app_id) + "submit/").json()
    assert (body["state"], body["decision"]["automatic_outcome"]) == ("in_underwriting", "approve")
    b = base(app_id)

    # Declining against the engine's approval needs the override reason.
    body = refused(
        client,
        b + "decline/",
        {"reasons": ["UNABLE_TO_VERIFY_INCOME"]},
        status=400,
        app_id=app_id,
        code="override_reason_required",
    )
    assert set(body["fields"]) == {"override_reason"}
    refused(
        client,
        b + "decline/",
        {"reasons": ["UNABLE_TO_VERIFY_INCOME"], "override_reason": "  "},
        status=400,
        app_id=app_id,
        code="override_reason_required",
    )

    def upload(name):
        response = api.post(
            b + "documents/", {"kind": "pay_stub", "file": SimpleUploadedFile(name, PDF)}
        )
        assert response.status_code == 201, response.json()
        return response.json()["documents"][-1]["id"]

    first = upload("stub-march.pdf")
    reject = b + f"documents/{first}/reject/"
    body = refused(client, reject, {}, status=400, app_id=app_id)
    assert set(body["fields"]) == {"reason"}
    body = refused(client, reject, {"reason": ""}, status=400, app_id=app_id)
    assert set(body["fields"]) == {"reason"}
    refused(officer, reject, {"reason": "Blurry"}, status=403, app_id=app_id, message=ROLE_403)
    refused(reader, reject, {"reason": "Blurry"}, status=403, app_id=app_id, message=SCOPE_403)
    refused(
        api,
        reject,
        {"reason": "Blurry"},
        status=403,
        app_id=app_id,
        message="Your role may not review documents.",
    )

    response = post(client, reject, {"reason": "Blurry, the totals cannot be read"})
    assert response.status_code == 200, response.json()
    body = response.json()
    [doc] = body["documents"]
    assert (doc["status"], doc["rejection_reason"]) == (
        "rejected",
        "Blurry, the totals cannot be read",
    )
    assert body["missing_documents"] == [
        {"kind": "pay_stub", "label": "Pay stub", "status": "rejected"}
    ]
    stored = ApplicationDocument.objects.get(pk=first)
    assert (stored.status, stored.reviewed_by_id) == ("rejected", acting.pk)
    [audit] = audits("application.document_rejected")
    assert (audit.object_type, audit.object_id) == ("origination.applicationdocument", str(first))
    assert audit.changes == {"status": ["uploaded", "rejected"]}
    assert audit.metadata["reason"] == "Blurry, the totals cannot be read"
    # A rejected document is not verified afterwards (upload a new one).
    refused(
        client, b + f"documents/{first}/verify/", status=409, app_id=app_id, code="already_reviewed"
    )
    body = refused(client, b + "approve/", status=409, app_id=app_id, code="approval_blocked")
    assert body["fields"] == {"documents": ["Pay stub (rejected)"]}

    second = upload("stub-april.pdf")
    verify = b + f"documents/{second}/verify/"
    refused(officer, verify, status=403, app_id=app_id, message=ROLE_403)
    refused(reader, verify, status=403, app_id=app_id, message=SCOPE_403)
    # A document of another application is 404 here.
    refused(
        client,
        base(referred_application(api, delinquent_customer(1))) + f"documents/{second}/verify/",
        status=404,
        app_id=app_id,
    )
    response = post(client, verify)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [d["status"] for d in body["documents"]] == ["rejected", "verified"]
    assert body["missing_documents"] == []
    assert ApplicationDocument.objects.get(pk=second).status == "verified"
    [audit] = audits("application.document_verified")
    assert (audit.object_id, audit.actor_id) == (str(second), acting.pk)
    assert post(client, verify).status_code == 200  # again: unchanged
    assert len(audits("application.document_verified")) == 1
    refused(
        client,
        b + f"documents/{second}/reject/",
        {"reason": "x"},
        status=409,
        app_id=app_id,
        code="already_reviewed",
    )

    # Approving as the engine did needs no override reason.
    response = post(client, b + "approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved"
    assert response.json()["decision"]["latest_kind"] == "underwriter"


def test_declining_against_the_engine_with_a_reason_is_an_override(api, uw, product_with_pay_stub):
    client, _ = uw
    app_id = create(api, make_customer()).json()["id"]
    post(api, base(app_id) + "submit/")
    response = post(
        client,
        base(app_id) + "decline/",
        {"reasons": ["UNABLE_TO_VERIFY_INCOME"], "override_reason": "Stub shows half the income"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "declined"
    assert (body["decision"]["latest_kind"], body["decision"]["latest_outcome"]) == (
        "override",
        "decline",
    )
    assert body["timeline"][-1]["note"] == "Stub shows half the income"
    record = DecisionRecord.objects.filter(application_id=app_id).order_by("id").last()
    assert record.trace["override_reason"] == "Stub shows half the income"
    assert audits("application.decline")[-1].metadata["kind"] == "override"


def test_a_key_without_underwriting_rights_may_not_return_or_assign(referred, api, uw):
    """The key's scope is not enough: its user needs the role too (services check it)."""
    _, underwriter = uw
    path = base(referred)
    body = refused(
        api, path + "return/", {"reason": "Need a pay stub"}, status=403, app_id=referred
    )
    assert body["message"] == "Your role may not return applications."
    body = refused(
        api, path + "assign/", {"username": underwriter.username}, status=403, app_id=referred
    )
    assert body["message"] == "Your role may not assign applications."
