"""Servicing REST API, imports: payment and boarding CSV files by upload and
as raw CSV, a resend posting and boarding nothing twice, bad files writing
nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servicing.models import (
    ImportRun,
    JournalEntry,
    Loan,
    LoanEvent,
    Payment,
)
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    api_key_client,
    lifecycle_row_counts,
)
from tests.servicing.test_imports import boarding_file, payments_file

pytestmark = pytest.mark.django_db
D = Decimal


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
    before = lifecycle_row_counts()
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
    assert lifecycle_row_counts() == before
