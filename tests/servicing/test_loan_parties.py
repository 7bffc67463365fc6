"""Every party of a loan: boarding writes a LoanParty per customer (the
primary borrower first, then co-borrowers and guarantors) in the same
transaction, the database keeps exactly one primary borrower per loan,
existing loans got theirs from the migration, staff pages, search and the
API show the parties, and statements, payoff letters and the paid-off
e-mail address every borrower. Built through the real services on real
PostgreSQL."""

import importlib
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from core.exceptions import NotFound, ValidationFailed
from core.models import AuditEvent
from servicing.boarding import BoardingParty, BoardingTerms, board_loan, board_loans
from servicing.models import JournalEntry, Loan, LoanParty
from servicing.selectors.loans import loan_borrowers, search_loans
from servicing.selectors.requests import get_service_requests_for_customer
from servicing.services.payoff import payoff_quote, record_payoff_payment
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import api_key_client
from tests.servicing.test_portal import make_borrower

pytestmark = pytest.mark.django_db
D = Decimal
BACKFILL = importlib.import_module("servicing.migrations.0010_loan_parties").BACKFILL


def terms(product, borrower, reference="APP-J1", parties=(), **extra) -> BoardingTerms:
    return BoardingTerms(
        origination_reference=reference,
        customer_id=borrower.pk,
        product_id=product.pk,
        principal=D("1200.00"),
        annual_rate=D("0.12"),
        term=12,
        disbursement_date=date(2026, 1, 15),
        parties=tuple(parties),
        **extra,
    )


@pytest.fixture
def ann(db):
    return make_borrower("ann@example.com", "Ann")


@pytest.fixture
def ben(db):
    return make_borrower("ben@example.com", "Ben")


@pytest.fixture
def gus(db):
    return make_borrower("gus@example.com", "Gus")


@pytest.fixture
def joint(product, ann, ben):
    """Ann's loan with Ben as co-borrower."""
    set_business_date(date(2026, 1, 15))
    loan = board_loan(terms=terms(product, ann, parties=[BoardingParty(ben.pk, "co_borrower")]))
    set_business_date(date(2026, 2, 15))
    return loan


def written() -> tuple[int, ...]:
    return (
        Loan.objects.count(),
        LoanParty.objects.count(),
        JournalEntry.objects.count(),
        AuditEvent.objects.filter(action="loan.boarded").count(),
    )


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


# --- boarding ----------------------------------------------------------------------


def test_board_loan_writes_every_party_in_order_with_conditions(product, ann, ben, gus):
    set_business_date(date(2026, 1, 15))
    condition = {"text": "Proof of address", "status": "waived", "note": "On file", "reference": ""}
    loan = board_loan(
        terms=terms(
            product,
            ann,
            parties=[BoardingParty(ben.pk, "co_borrower"), BoardingParty(gus.pk, "guarantor")],
            conditions=(condition,),
        )
    )
    assert list(loan.parties.values_list("customer_id", "role", "ordering")) == [
        (ann.pk, "borrower", 0),
        (ben.pk, "co_borrower", 1),
        (gus.pk, "guarantor", 2),
    ]
    assert loan.customer_id == ann.pk
    assert loan.conditions == [condition]
    # Borrowers are whom the documents address; the guarantor is not one.
    assert [c.pk for c in loan_borrowers(loan)] == [ann.pk, ben.pk]
    event = AuditEvent.objects.get(action="loan.boarded")
    assert event.metadata["parties"] == [
        {"customer_id": ann.pk, "role": "borrower"},
        {"customer_id": ben.pk, "role": "co_borrower"},
        {"customer_id": gus.pk, "role": "guarantor"},
    ]
    assert event.metadata["conditions"] == 1
    # Boarding again returns the loan and writes nothing.
    before = written()
    assert board_loan(terms=terms(product, ann, parties=[BoardingParty(ben.pk)])) == loan
    assert written() == before


def test_a_single_borrower_loan_has_its_primary_borrower_party(make_loan, customer):
    loan = make_loan()
    assert list(loan.parties.values_list("customer_id", "role", "ordering")) == [
        (customer.pk, "borrower", 0)
    ]


@pytest.mark.parametrize(
    ("parties", "conditions", "message"),
    [
        ("self", (), "named more than once"),
        ("twice", (), "named more than once"),
        ("borrower", (), "'borrower' is not one of co_borrower, guarantor"),
        ("spouse", (), "'spouse' is not one of co_borrower, guarantor"),
        ((), ({"text": "  "},), "A condition has no text."),
    ],
)
def test_invalid_parties_are_refused_and_nothing_is_written(
    product, ann, ben, parties, conditions, message
):
    set_business_date(date(2026, 1, 15))
    chosen = {
        "self": [BoardingParty(ann.pk)],
        "twice": [BoardingParty(ben.pk), BoardingParty(ben.pk, "guarantor")],
        "borrower": [BoardingParty(ben.pk, "borrower")],
        "spouse": [BoardingParty(ben.pk, "spouse")],
    }.get(parties, ())
    bad = terms(product, ann, parties=chosen, conditions=conditions)
    for call in (lambda: board_loan(terms=bad), lambda: board_loans(terms=[bad])):
        with pytest.raises(ValidationFailed) as exc:
            call()
        assert exc.value.status_code == 400
        assert exc.value.code == "invalid_parties"
        assert any(message in text for text in exc.value.fields["parties"]), exc.value.fields
        assert written() == (0, 0, 0, 0)


def test_an_unknown_party_is_not_found_and_nothing_is_written(product, ann):
    set_business_date(date(2026, 1, 15))
    bad = terms(product, ann, parties=[BoardingParty(987654)])
    with pytest.raises(NotFound) as exc:
        board_loan(terms=bad)
    assert exc.value.status_code == 404
    assert exc.value.fields == {"parties": ["Unknown customer 987654."]}
    good = terms(product, ann, reference="APP-J2")
    with pytest.raises(NotFound):
        board_loans(terms=[good, bad])  # all or nothing
    assert written() == (0, 0, 0, 0)


def test_board_loans_writes_the_parties_of_every_loan(product, ann, ben, gus):
    set_business_date(date(2026, 1, 15))
    loans = board_loans(
        terms=[
            terms(product, ann, "APP-B1", parties=[BoardingParty(ben.pk)]),
            terms(product, gus, "APP-B2"),
            terms(product, ben, "APP-B3", parties=[BoardingParty(ann.pk, "guarantor")]),
        ]
    )
    rows = {
        loan.origination_reference: list(
            loan.parties.values_list("customer_id", "role", "ordering")
        )
        for loan in loans
    }
    assert rows == {
        "APP-B1": [(ann.pk, "borrower", 0), (ben.pk, "co_borrower", 1)],
        "APP-B2": [(gus.pk, "borrower", 0)],
        "APP-B3": [(ben.pk, "borrower", 0), (ann.pk, "guarantor", 1)],
    }
    events = AuditEvent.objects.filter(action="loan.boarded", object_id=str(loans[0].pk))
    assert events.get().metadata["parties"][1] == {"customer_id": ben.pk, "role": "co_borrower"}


# --- the database's guarantees -------------------------------------------------------------


def _check_now():
    """Run the deferred primary-borrower checks now (they run at commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_database_keeps_one_primary_borrower_per_loan(joint, ann, ben, gus):
    for row in (
        {"customer": gus, "role": "borrower", "ordering": 0},  # a second primary
        {"customer": gus, "role": "borrower", "ordering": 5},  # a borrower not first
        {"customer": gus, "role": "co_borrower", "ordering": 0},
        {"customer": ben, "role": "guarantor", "ordering": 2},  # a party twice
        {"customer": gus, "role": "spouse", "ordering": 2},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            LoanParty.objects.create(loan=joint, **row)
    # Removing the primary borrower, or pointing the loan at another
    # customer, fails the check that runs at commit.
    with pytest.raises(IntegrityError, match="has no primary borrower"), transaction.atomic():
        LoanParty.objects.filter(loan=joint, ordering=0).delete()
        _check_now()
    with pytest.raises(IntegrityError, match="has no primary borrower"), transaction.atomic():
        Loan.objects.filter(pk=joint.pk).update(customer=ben)
        _check_now()
    # A co-borrower may leave; the loan still has its borrower.
    with transaction.atomic():
        LoanParty.objects.filter(loan=joint, customer=ben).delete()
        _check_now()
    assert list(joint.parties.values_list("customer_id", flat=True)) == [ann.pk]


def test_the_migration_gives_existing_loans_their_primary_borrower(product, ann, ben):
    set_business_date(date(2026, 1, 15))
    loans = board_loans(terms=[terms(product, ann, "APP-M1"), terms(product, ben, "APP-M2")])
    # As the book stood before parties existed: loans with a customer only.
    LoanParty.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)
        cursor.execute(BACKFILL)  # re-running it adds nothing
    _check_now()
    assert sorted(LoanParty.objects.values_list("loan_id", "customer_id", "role", "ordering")) == [
        (loans[0].pk, ann.pk, "borrower", 0),
        (loans[1].pk, ben.pk, "borrower", 0),
    ]


# --- staff pages, search and API -------------------------------------------------------------


def test_staff_loan_page_shows_the_parties_and_conditions(product, ann, ben, gus, staff_client):
    set_business_date(date(2026, 1, 15))
    loan = board_loan(
        terms=terms(
            product,
            ann,
            parties=[BoardingParty(ben.pk), BoardingParty(gus.pk, "guarantor")],
            conditions=({"text": "Verify employment", "status": "satisfied", "note": "HR called"},),
        )
    )
    client, _ = staff_client("servicing_agent")
    page = client.get(reverse("servicing:loan-detail", args=[loan.pk])).content.decode()
    for customer, role in ((ann, "Borrower"), (ben, "Co-borrower"), (gus, "Guarantor")):
        assert f'{customer.legal_name}</a> <span class="badge">{role}</span>' in page
    documents = client.get(reverse("servicing:loan-detail", args=[loan.pk]) + "?tab=documents")
    text = documents.content.decode()
    assert "<td>Verify employment</td>" in text and "HR called" in text


def test_search_finds_the_loan_by_any_party(joint, ann, ben, gus):
    assert list(search_loans(ben.customer_number)) == [joint]
    assert list(search_loans("ben rower")) == [joint]
    assert list(search_loans("rower")) == [joint]  # both match: listed once
    assert list(search_loans(customer_id=ben.pk)) == [joint]
    assert list(search_loans(customer_id=gus.pk)) == []


def test_loan_api_shows_parties_and_conditions_and_filters_by_party(joint, ann, ben, gus):
    client = api_key_client("loans:read")
    body = client.get(f"/api/v1/loans/{joint.pk}/").json()
    assert body["customer_id"] == ann.pk
    assert body["parties"] == [
        {
            "customer_id": ann.pk,
            "customer_number": ann.customer_number,
            "name": ann.legal_name,
            "role": "borrower",
            "ordering": 0,
        },
        {
            "customer_id": ben.pk,
            "customer_number": ben.customer_number,
            "name": ben.legal_name,
            "role": "co_borrower",
            "ordering": 1,
        },
    ]
    assert body["conditions"] == []
    ids = [row["id"] for row in client.get(f"/api/v1/loans/?customer={ben.pk}").json()["results"]]
    assert ids == [joint.pk]
    assert client.get(f"/api/v1/loans/?customer={gus.pk}").json()["results"] == []
    found = client.get(f"/api/v1/loans/?search={ben.customer_number}").json()["results"]
    assert [row["id"] for row in found] == [joint.pk]


def test_boarding_api_takes_parties_and_conditions(product, ann, ben, gus):
    set_business_date(date(2026, 1, 15))
    client = api_key_client("loans:read", "loans:write")
    body = {
        "origination_reference": "APP-API-J",
        "customer_id": ann.pk,
        "product_id": product.pk,
        "principal": "1200.00",
        "annual_rate": "12",
        "term": 12,
        "disbursement_date": "2026-01-15",
        "parties": [{"customer_id": ben.pk}],
        "conditions": [{"text": "Proof of address", "status": "waived", "note": "On file"}],
    }
    post = lambda b: client.post("/api/v1/loans/board/", b, content_type="application/json")  # noqa: E731
    response = post(body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert [(p["customer_id"], p["role"]) for p in created["parties"]] == [
        (ann.pk, "borrower"),
        (ben.pk, "co_borrower"),
    ]
    assert created["conditions"] == [
        {"text": "Proof of address", "status": "waived", "note": "On file", "reference": ""}
    ]
    assert post(body).status_code == 200  # a replay
    before = written()
    other = post({**body, "parties": [{"customer_id": gus.pk, "role": "guarantor"}]})
    assert other.status_code == 409
    assert set(other.json()["fields"]) == {"parties"}
    refused = post(
        {**body, "origination_reference": "APP-API-K", "parties": [{"customer_id": ann.pk}]}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_parties"
    bad_role = post(
        {
            **body,
            "origination_reference": "APP-API-L",
            "parties": [{"customer_id": ben.pk, "role": "spouse"}],
        }
    )
    assert bad_role.status_code == 400
    assert set(bad_role.json()["fields"]) == {"parties.0.role"}
    assert written() == before


# --- documents and notices address every borrower -----------------------------------------


def test_statement_and_payoff_letter_name_every_borrower(product, ann, ben, gus):
    set_business_date(date(2026, 1, 15))
    loan = board_loan(
        terms=terms(
            product, ann, parties=[BoardingParty(ben.pk), BoardingParty(gus.pk, "guarantor")]
        )
    )
    set_business_date(date(2026, 2, 15))
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    quote = payoff_quote(loan=loan, good_through=date(2026, 2, 20))
    for pdf in (bytes(statement.pdf), bytes(quote.pdf)):
        text = pdf_text(pdf)
        assert "Ann Rower" in text and "Ben Rower" in text
        assert "Gus Rower" not in text  # a guarantor is not addressed as a borrower


def test_paid_off_notice_goes_to_each_borrower(joint, django_capture_on_commit_callbacks):
    quote = payoff_quote(loan=joint, good_through=date(2026, 2, 15))
    with django_capture_on_commit_callbacks(execute=True):
        record_payoff_payment(
            loan=joint, amount=quote.amount, received_on=date(2026, 2, 15), method="ach"
        )
    joint.refresh_from_db()
    assert joint.state == "paid_off"
    assert [(m.to, m.body.splitlines()[0]) for m in mail.outbox] == [
        (["ann@example.com"], "Dear Ann Rower,"),
        (["ben@example.com"], "Dear Ben Rower,"),
    ]
    assert all(joint.loan_number in m.subject for m in mail.outbox)


def test_a_help_request_names_the_party_who_asked(joint, ann, ben, gus):
    from servicing.models import ServiceRequest
    from servicing.services.service_requests import request_help

    asked = request_help(loan=joint, kind="hardship", message="Reduced hours.", customer=ben)
    assert (asked.customer, asked.loan) == (ben, joint)
    assert request_help(loan=joint, kind="other", message="Hi.").customer == ann
    with pytest.raises(ValidationFailed) as exc:
        request_help(loan=joint, kind="other", message="Let me in.", customer=gus)
    assert exc.value.fields == {
        "customer": [f"Customer {gus.pk} is no party of loan {joint.loan_number}."]
    }
    assert ServiceRequest.objects.count() == 2
    assert [r.pk for r in get_service_requests_for_customer(ben)] == [
        r.pk for r in get_service_requests_for_customer(ann)
    ]
    assert not get_service_requests_for_customer(gus).exists()
