"""Servicing REST API, lifecycle decisions: modification preview, proposal,
list, four-eyes approval and rejection; charge-off and recoveries; payment
and boarding CSV imports. Scopes, roles, borrowers, and invalid input or a
wrong state writing nothing."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openapi_spec_validator import validate

from core.models import AuditEvent
from servicing.models import (
    ImportRun,
    JournalEntry,
    Loan,
    LoanEvent,
    Modification,
    Payment,
    Posting,
    ServicingProduct,
)
from servicing.selectors.ledger import balances_by_role
from servicing.services.payments import post_payment
from tests.servicing.conftest import set_business_date
from tests.servicing.test_api import api_key_client, post_json
from tests.servicing.test_imports import boarding_file, payments_file
from tests.servicing.test_portal import client_for, make_borrower

pytestmark = pytest.mark.django_db
D = Decimal


def url(pk, tail) -> str:
    return f"/api/v1/loans/{pk}/{tail}"


def row_counts():
    return tuple(
        m.objects.count()
        for m in (
            Loan,
            Modification,
            LoanEvent,
            Payment,
            JournalEntry,
            Posting,
            ImportRun,
            AuditEvent,
        )
    )


def pay(loan, amount, on):
    return post_payment(loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff")


@pytest.fixture
def paid_loan(make_loan):
    """1,200 at 12% over 12 months, the Feb 15 instalment paid; business date Feb 15."""
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    pay(loan, "106.62", date(2026, 2, 15))
    return loan


def limit(product, amount: str) -> None:
    ServicingProduct.objects.filter(pk=product.pk).update(modification_approval_limit=D(amount))


# --- modifications -------------------------------------------------------------------------


def test_preview_compares_schedules_and_writes_nothing(paid_loan):
    before = row_counts()
    response = post_json(
        api_key_client("loans:write"),
        url(paid_loan.pk, "modifications/preview/"),
        {"effective_date": "2026-02-15", "remaining_term": 22},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert row_counts() == before
    assert (body["old"]["installment"], body["new"]["installment"]) == ("106.62", "56.22")
    assert body["old"]["annual_rate"] == body["new"]["annual_rate"] == "12.0000"
    assert (len(body["old"]["rows"]), len(body["new"]["rows"])) == (12, 23)
    assert body["old"]["rows"][0] == {
        "number": 1,
        "due_date": "2026-02-15",
        "principal": "94.62",
        "interest": "12.00",
        "fees": "0.00",
        "total": "106.62",
        "paid": "106.62",
        "status": "paid",
    }
    assert body["new"]["rows"][1]["due_date"] == "2026-03-15"
    assert body["new"]["rows"][1]["total"] == "56.22"
    # 11 x 106.62 (less the last row's residue) vs 22 x 56.22: the longer term costs more
    old_remaining, new_remaining = D(body["old"]["remaining"]), D(body["new"]["remaining"])
    assert old_remaining == sum(D(r["total"]) - D(r["paid"]) for r in body["old"]["rows"])
    assert new_remaining == sum(D(r["total"]) - D(r["paid"]) for r in body["new"]["rows"])
    assert D(body["impact"]) == new_remaining - old_remaining > 0
    assert (body["capitalised_interest"], body["carried_interest"], body["waived_fee"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
    assert body["limit"] == str(paid_loan.product.modification_approval_limit)
    assert body["requires_approval"] is False


def test_proposal_within_limit_applies_and_is_listed(
    paid_loan, staff_client, django_assert_num_queries
):
    agent, user = staff_client("servicing_agent")
    before = row_counts()
    response = post_json(
        agent,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "remaining_term": 22, "note": "Hardship"},
    )
    assert response.status_code == 201, response.json()
    mod = Modification.objects.get()
    body = response.json()
    assert body == {
        "id": mod.pk,
        "loan_id": paid_loan.pk,
        "status": "applied",
        "effective_date": "2026-02-15",
        "parameters": {
            "effective_date": "2026-02-15",
            "annual_rate": None,
            "remaining_term": 22,
            "next_due_date": None,
            "capitalise_interest": False,
            "defer_installments": 0,
            "waive_fee_event_id": None,
        },
        "impact": str(mod.impact),
        "requires_approval": False,
        "note": "Hardship",
        "proposed_by": user.username,
        "decided_by": None,
        "decided_at": None,
        "rejection_reason": "",
        "event_id": mod.event_id,
        "created_at": body["created_at"],
    }
    assert mod.event.kind == "modification"
    assert Modification.objects.count() == before[1] + 1
    paid_loan.refresh_from_db()
    assert paid_loan.installments.count() == 23
    assert paid_loan.next_due_amount == D("56.22")

    reader = api_key_client("loans:read")
    with django_assert_num_queries(4):  # key lookup, key last-used, loan, modifications
        response = reader.get(url(paid_loan.pk, "modifications/"))
    assert response.status_code == 200
    assert response.json() == [body]


def test_api_key_proposal_over_limit_waits_for_a_person(paid_loan, product, staff_client):
    limit(product, "10.00")
    response = post_json(
        api_key_client("loans:write"),
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "annual_rate": "6"},
        key="8d0c1f3e-mod-1",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["proposed_by"]) == ("proposed", None)
    manager, _ = staff_client("manager")
    response = manager.post(f"/api/v1/modifications/{response.json()['id']}/approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "applied"
    assert LoanEvent.objects.filter(kind="modification").count() == 1


def test_four_eyes_over_limit(paid_loan, product, staff_client):
    limit(product, "10.00")
    manager, proposer = staff_client("manager")
    response = post_json(
        manager,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "annual_rate": "6"},
    )
    assert response.status_code == 201, response.json()
    mod = Modification.objects.get()
    assert (response.json()["status"], response.json()["requires_approval"]) == ("proposed", True)
    assert response.json()["parameters"]["annual_rate"] == "6.0000"
    assert mod.parameters["annual_rate"] == "0.06"
    assert mod.event_id is None
    approve = f"/api/v1/modifications/{mod.pk}/approve/"

    before = row_counts()
    response = manager.post(approve)  # the proposer
    assert response.status_code == 403
    assert response.json() == {
        "code": "four_eyes",
        "message": "You proposed this modification; another person must decide it.",
        "fields": {},
    }
    agent, _ = staff_client("servicing_agent")  # no approval permission
    response = agent.post(approve)
    assert response.status_code == 403
    assert response.json()["message"] == "Your role does not allow this."
    response = api_key_client("loans:write").post(approve)  # not a person
    assert response.status_code == 403
    assert response.json()["message"] == "A person must decide a modification."
    response = manager.post("/api/v1/modifications/999999/approve/")
    assert response.status_code == 404
    assert row_counts() == before
    assert Modification.objects.get().status == "proposed"

    other, approver = staff_client("manager")
    response = other.post(approve)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "applied"
    assert response.json()["proposed_by"] == proposer.username
    assert response.json()["decided_by"] == approver.username
    paid_loan.refresh_from_db()
    # 1,105.38 over 11 months at 6%: 5.5269 / (1 - 1.005^-11) = 103.53
    assert paid_loan.installments.get(number=2).total_due == D("103.53")

    before = row_counts()
    response = other.post(approve)
    assert response.status_code == 409
    assert response.json() == {
        "code": "already_decided",
        "message": "This modification is already applied.",
        "fields": {},
    }
    assert row_counts() == before


def test_reject_needs_a_reason_and_another_person(paid_loan, product, staff_client):
    limit(product, "0.00")
    agent, _ = staff_client("servicing_agent")
    response = post_json(
        agent,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "remaining_term": 24},
    )
    assert response.status_code == 201
    mod_id = response.json()["id"]
    reject = f"/api/v1/modifications/{mod_id}/reject/"
    manager, user = staff_client("manager")

    before = row_counts()
    for body in ({}, {"reason": ""}):
        response = post_json(manager, reject, body)
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["reason"]
    response = post_json(manager, reject, {"reason": "   "})
    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["This field may not be blank."]}
    response = post_json(agent, reject, {"reason": "x"})
    assert response.status_code == 403
    assert row_counts() == before

    response = post_json(manager, reject, {"reason": "Income not verified"})
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["rejection_reason"]) == (
        "rejected",
        "Income not verified",
    )
    assert response.json()["decided_by"] == user.username
    assert LoanEvent.objects.filter(kind="modification").count() == 0
    other, _ = staff_client("manager")
    response = other.post(f"/api/v1/modifications/{mod_id}/approve/")
    assert response.status_code == 409
    assert response.json()["code"] == "already_decided"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["effective_date"]),
        ({"effective_date": "2026-02-15", "annual_rate": "150"}, ["annual_rate"]),
        ({"effective_date": "2026-02-15", "defer_installments": 13}, ["defer_installments"]),
        ({"effective_date": "2026-02-16"}, ["effective_date"]),  # after the business date
        (
            {"effective_date": "2026-02-15", "next_due_date": "2026-02-10"},
            ["next_due_date"],
        ),
        ({"effective_date": "2026-02-15", "waive_fee_event_id": 999999}, ["waive_fee_event_id"]),
    ],
)
def test_invalid_modification_writes_nothing(paid_loan, body, fields):
    client = api_key_client("loans:write")
    before = row_counts()
    for tail in ("modifications/preview/", "modifications/"):
        response = post_json(client, url(paid_loan.pk, tail), body)
        assert response.status_code == 400, response.json()
        assert list(response.json()["fields"]) == fields
    assert row_counts() == before


def test_modification_of_unknown_or_inactive_loan(paid_loan, staff_client):
    manager, _ = staff_client("manager")
    body = {"effective_date": "2026-02-15", "remaining_term": 22}
    response = post_json(manager, url(999999, "modifications/"), body)
    assert response.status_code == 404
    assert response.json()["message"] == "No loan 999999."
    assert manager.get(url(999999, "modifications/")).status_code == 404
    response = post_json(manager, url(paid_loan.pk, "charge-off/"), {"reason": "Fraud"})
    assert response.status_code == 200
    before = row_counts()
    for tail in ("modifications/preview/", "modifications/"):
        response = post_json(manager, url(paid_loan.pk, tail), body)
        assert response.status_code == 409
        assert response.json()["code"] == "loan_not_active"
    assert row_counts() == before


# --- charge-off and recoveries -------------------------------------------------------------


def test_charge_off_then_recovery(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    manager, _ = staff_client("manager")
    agent, _ = staff_client("servicing_agent")

    before = row_counts()
    response = post_json(manager, url(loan.pk, "recoveries/"), {"amount": "50.00"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "loan_not_charged_off",
        "message": f"Loan {loan.loan_number} is not charged off.",
        "fields": {},
    }
    response = post_json(manager, url(loan.pk, "charge-off/"), {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "x"}, key="has space")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    response = post_json(agent, url(loan.pk, "charge-off/"), {"reason": "Fraud"})
    assert response.status_code == 403
    response = post_json(manager, url(999999, "charge-off/"), {"reason": "Fraud"})
    assert response.status_code == 404
    assert row_counts() == before

    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "Skip, no contact"})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "charged_off"
    event = LoanEvent.objects.get(kind="charge_off")
    # principal plus the interest of the two instalments now due (12.00 + 11.05)
    assert (event.amount, event.effective_date) == (D("1223.05"), date(2026, 3, 20))
    assert event.details["reason"] == "Skip, no contact"

    before = row_counts()
    response = post_json(manager, url(loan.pk, "charge-off/"), {"reason": "Again"})
    assert response.status_code == 200
    assert response.json()["state"] == "charged_off"
    for body in (
        {"amount": "0"},
        {"amount": "1.005"},
        {"amount": "50.00", "received_on": "2026-03-19"},  # before the charge-off
        {"amount": "50.00", "received_on": "2026-03-21"},  # after the business date
    ):
        response = post_json(manager, url(loan.pk, "recoveries/"), body)
        assert response.status_code == 400, body
        assert len(response.json()["fields"]) == 1
    response = post_json(agent, url(loan.pk, "recoveries/"), {"amount": "50.00"})
    assert response.status_code == 403
    assert row_counts() == before

    response = post_json(
        api_key_client("loans:write"),
        url(loan.pk, "recoveries/"),
        {"amount": "250.00", "note": "Agency"},
    )
    assert response.status_code == 201, response.json()
    recovery = LoanEvent.objects.get(kind="recovery")
    assert response.json() == {
        "id": recovery.pk,
        "kind": "recovery",
        "effective_date": "2026-03-20",
        "amount": "250.00",
        "details": {"note": "Agency"},
    }
    entry = JournalEntry.objects.get(source=f"recovery:{recovery.pk}")
    assert entry.entry_type == "recovery"
    assert balances_by_role(loan)["recovery_income"] == D("-250.00")
    loan.refresh_from_db()
    assert loan.state == "charged_off"


# --- imports -------------------------------------------------------------------------------


def test_payments_import_by_upload_then_raw_resend_posts_nothing_twice(make_loan, staff_client):
    first = make_loan("APP-1")
    second = make_loan("APP-2")
    set_business_date(date(2026, 2, 20))
    text = payments_file(first, second)
    agent, user = staff_client("servicing_agent")

    upload = SimpleUploadedFile("payments.csv", text.encode(), content_type="text/csv")
    response = agent.post("/api/v1/imports/payments/", {"file": upload})
    assert response.status_code == 201, response.json()
    body = response.json()
    run = ImportRun.objects.get()
    assert run.created_by == user
    payments = {p.reference or "": p for p in Payment.objects.all()}
    assert {k: (v.loan_id, v.amount, v.channel) for k, v in payments.items()} == {
        "REF-1": (first.pk, D("106.62"), "batch"),
        "": (second.pk, D("50.00"), "batch"),
    }
    assert {k: body[k] for k in ("id", "kind", "filename", "rows")} == {
        "id": run.pk,
        "kind": "payments",
        "filename": "payments.csv",
        "rows": 8,
    }
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 6)
    assert body["sha256"] == run.sha256
    assert body["results"][0] == {
        "line": 2,
        "status": "accepted",
        "item": first.loan_number,
        "detail": "106.62",
        "reason": "",
        "payment_id": payments["REF-1"].pk,
        "loan_number": first.loan_number,
    }
    assert [(r["line"], r["status"], r["reason"]) for r in body["results"][1:]] == [
        (3, "rejected", "Unknown loan 'L-9999999'."),
        (4, "rejected", "Amount 'abc' is not a number."),
        (5, "rejected", "received_on 2026-03-01 is after the business date 2026-02-20."),
        (6, "accepted", ""),
        (7, "rejected", "Method 'bitcoin' is not one of cash, check, ach, card."),
        (8, "rejected", "Amount must be greater than zero."),
        (9, "rejected", "Amount 1.005 has fractions of a cent."),
    ]

    counts = (Payment.objects.count(), LoanEvent.objects.count(), JournalEntry.objects.count())
    response = api_key_client("loans:write").post(
        "/api/v1/imports/payments/?filename=again.csv", text, content_type="text/csv"
    )
    assert response.status_code == 201, response.json()
    again = response.json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 6)
    assert again["filename"] == "again.csv"
    assert [(r["line"], r["reason"]) for r in again["results"] if r["status"] == "duplicate"] == [
        (2, "Already imported."),
        (6, "Already imported."),
    ]
    assert (
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
    ) == counts
    assert ImportRun.objects.count() == 2


def test_boarding_import_raw_csv_and_resend_boards_nothing_twice(product, customer):
    set_business_date(date(2026, 3, 20))
    text = boarding_file(customer)
    client = api_key_client("loans:write")
    response = client.post("/api/v1/imports/boarding/", text, content_type="text/csv")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["rows"], body["accepted"], body["rejected"]) == (
        "boarding",
        8,
        2,
        6,
    )
    accepted = [r for r in body["results"] if r["status"] == "accepted"]
    mig1 = Loan.objects.get(origination_reference="MIG-1")
    mig2 = Loan.objects.get(origination_reference="MIG-2")
    assert [(r["line"], r["item"], r["detail"], r["loan_number"]) for r in accepted] == [
        (2, mig1.loan_number, "1009.81", mig1.loan_number),
        (3, mig2.loan_number, "2400.00", mig2.loan_number),
    ]
    rejected = {r["line"]: r["reason"] for r in body["results"] if r["status"] == "rejected"}
    assert rejected[5] == "Unknown customer 'C-999999'."
    assert rejected[9] == "principal_paid is more than the principal."
    assert set(Loan.objects.values_list("origination_reference", flat=True)) == {"MIG-1", "MIG-2"}

    counts = (Loan.objects.count(), Payment.objects.count(), LoanEvent.objects.count())
    response = client.post("/api/v1/imports/boarding/", text, content_type="text/csv")
    assert response.status_code == 201
    again = response.json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 6)
    assert [r["item"] for r in again["results"] if r["status"] == "duplicate"] == [
        "MIG-1",
        "MIG-2",
    ]
    assert (Loan.objects.count(), Payment.objects.count(), LoanEvent.objects.count()) == counts


def test_bad_import_files_write_nothing(make_loan, staff_client):
    make_loan()
    agent, _ = staff_client("servicing_agent")
    before = row_counts()
    cases = [
        (agent.post("/api/v1/imports/payments/", {}), "bad_request"),
        (
            agent.post(
                "/api/v1/imports/payments/",
                {"file": SimpleUploadedFile("x.csv", b"loan,amount\nL-1,5\n")},
            ),
            "bad_header",
        ),
        (
            agent.post("/api/v1/imports/boarding/", b"\xff\xfe\x00bad", content_type="text/csv"),
            "bad_request",
        ),
        (
            agent.post(
                "/api/v1/imports/payments/",
                "loan_number,amount,received_on,method,reference\n",
                content_type="text/csv",
            ),
            "empty_file",
        ),
    ]
    for response, code in cases:
        assert response.status_code == 400, response.json()
        assert list(response.json()["fields"]) == ["file"]
        if code != "bad_request":
            assert response.json()["code"] == code
    assert row_counts() == before


# --- who may call --------------------------------------------------------------------------


def _endpoints(loan_pk: int, mod_pk: int):
    return [
        ("post", url(loan_pk, "modifications/preview/"), {"effective_date": "2026-02-15"}),
        ("post", url(loan_pk, "modifications/"), {"effective_date": "2026-02-15"}),
        ("get", url(loan_pk, "modifications/"), None),
        ("post", f"/api/v1/modifications/{mod_pk}/approve/", {}),
        ("post", f"/api/v1/modifications/{mod_pk}/reject/", {"reason": "x"}),
        ("post", url(loan_pk, "charge-off/"), {"reason": "x"}),
        ("post", url(loan_pk, "recoveries/"), {"amount": "1.00"}),
        ("post", "/api/v1/imports/payments/", {}),
        ("post", "/api/v1/imports/boarding/", {}),
    ]


def _call(client, method, path, body):
    if method == "get":
        return client.get(path)
    return post_json(client, path, body)


def test_scopes_roles_and_borrowers(paid_loan, product, staff_client):
    limit(product, "0.00")
    manager, _ = staff_client("manager")
    response = post_json(
        manager,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "remaining_term": 22},
    )
    mod_pk = response.json()["id"]
    endpoints = _endpoints(paid_loan.pk, mod_pk)
    reader = api_key_client("loans:read")
    other = api_key_client("customers:read")
    underwriter, _ = staff_client("underwriter")
    collector, _ = staff_client("collections_agent")
    borrowers = [client_for(make_borrower("bo@example.com")), client_for(make_borrower("e@x.io"))]
    before = row_counts()

    for method, path, body in endpoints:
        response = _call(reader, method, path, body)
        if method == "get":
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            assert response.json()["message"] == "This API key lacks the scope loans:write."
    for method, path, body in endpoints:
        response = _call(other, method, path, body)
        assert response.status_code == 403, path
        assert response.json()["message"].startswith("This API key lacks the scope loans:")

    # underwriters only view loans; collections agents post payments but import nothing
    for method, path, body in endpoints:
        response = _call(underwriter, method, path, body)
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, path
    for path in ("/api/v1/imports/payments/", "/api/v1/imports/boarding/"):
        assert collector.post(path, {}).status_code == 403

    # a borrower is not staff: 403 everywhere
    for client in borrowers:
        for method, path, body in endpoints:
            response = _call(client, method, path, body)
            assert response.status_code == 403, path
            assert response.json()["message"] == "This operation is for staff."
    assert row_counts() == before


def test_schema_describes_the_new_operations():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    operations = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    expected = {
        ("/api/v1/loans/{id}/modifications/preview/", "post"): "loans_modifications_preview",
        ("/api/v1/loans/{id}/modifications/", "get"): "loans_modifications_list",
        ("/api/v1/loans/{id}/modifications/", "post"): "loans_modifications_create",
        ("/api/v1/modifications/{id}/approve/", "post"): "modifications_approve",
        ("/api/v1/modifications/{id}/reject/", "post"): "modifications_reject",
        ("/api/v1/loans/{id}/charge-off/", "post"): "loans_charge_off",
        ("/api/v1/loans/{id}/recoveries/", "post"): "loans_recoveries_create",
        ("/api/v1/imports/payments/", "post"): "imports_payments",
        ("/api/v1/imports/boarding/", "post"): "imports_boarding",
    }
    assert {k: operations.get(k) for k in expected} == expected
    upload = spec["paths"]["/api/v1/imports/payments/"]["post"]
    assert sorted(upload["requestBody"]["content"]) == ["multipart/form-data", "text/csv"]
    assert set(upload["responses"]) == {"201", "400", "401", "403"}
    preview = spec["paths"]["/api/v1/loans/{id}/modifications/preview/"]["post"]
    assert set(preview["responses"]) == {"200", "400", "401", "403", "404", "409"}
