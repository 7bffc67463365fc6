# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""The hand-off from origination to servicing loses nothing: a joint
application, referred to an underwriter, approved on conditions with
documents uploaded and reviewed, offered, accepted, signed and disbursed
through the real origination services, arrives in servicing with every
party (and role), the approved terms, every condition, every underwriting
note and every document reference."""

from datetime import date
from decimal import Decimal

import pytest

from core.models import AuditEvent
from origination.models import (
    ApplicationDocument,
    ApplicationState,
    Condition,
    DecisionRecord,
    GeneratedDocument,
)
from origination.selectors.closing import signing_package
from origination.services import applications as app_services
from origination.services import closing, documents, kyc, underwriting
from origination.services import disbursement as disbursing
from servicing.models import Installment, Loan, LoanParty
from servicing.selectors.loans import get_loans_for_customer, loan_borrowers
from tests.factories import UserFactory
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    ADDRESS,
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    make_loan_product,
    servicing_product,
    set_business_date,
)
from tests.origination.test_disbursement import ROUTING

pytestmark = pytest.mark.django_db
S = ApplicationState
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DELINQUENT = "403-45-0004"  # simulated bureau: recent lates, score 612 -> referred
CO_CLEAN = "406-12-9999"  # clean file, score 820


def _person(first, last, tax_id):
    from customers import services as customer_services

    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": first,
            "last_name": last,
            "date_of_birth": date(1984, 3, 9),
            "tax_id": tax_id,
            "email": f"{first}.{last}@example.com".lower(),
        },
        addresses=[ADDRESS],
    )


@pytest.fixture
def underwriter(db):
    return UserFactory(role="underwriter")


@pytest.fixture
def officer(db):
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(
            codename="disburse_application", content_type__app_label="origination"
        )
    )
    return user


def _consent(application):
    for kind, text in (
        ("credit_pull", "I authorize a credit report pull."),
        ("e_records", "I agree to receive disclosures and sign documents electronically."),
    ):
        app_services.record_consent(
            application,
            kind=kind,
            wording_version="2026-01",
            text=text,
            ip="203.0.113.9",
            user_agent="pytest",
        )


def test_every_party_term_condition_note_and_document_arrives_in_servicing(
    servicing_product, underwriter, officer
):
    set_business_date(TODAY)
    kyc.import_sdn(files=SAMPLE_SDN)
    product = make_loan_product(
        servicing_product.pk,
        required_documents=[{"kind": "proof_of_income", "label": "Proof of income"}],
    )
    applicant = _person("Grace", "Hopper", DELINQUENT)
    co_applicant = _person("Alan", "Turing", CO_CLEAN)
    application = app_services.start_application(
        applicant=applicant,
        co_applicant=co_applicant,
        product=product,
        channel="staff",
        data={
            "requested_amount": Decimal("10000.00"),
            "requested_term": 36,
            "purpose": "home_improvement",
            "employment_status": "employed",
            "employer": "Navy",
            "employment_months": 120,
            "gross_monthly_income": Decimal("25000.00"),
            "housing_status": "own",
            "housing_cost": Decimal("1500.00"),
            "other_obligations": Decimal("0.00"),
        },
    )
    _consent(application)
    application = app_services.submit(application)
    application.refresh_from_db()
    assert application.state == S.IN_UNDERWRITING, application.decision_reasons

    # Underwriting: a conditional approval, documents, conditions resolved, final approval.
    underwriting.approve_conditionally(
        application,
        underwriter,
        conditions=["Verify employment with the employer", "Proof of address"],
        note="Lates explained by a move; co-applicant income carries DTI",
    )
    income = documents.upload_document(
        application, kind="proof_of_income", file_name="paystub.pdf", data=PDF
    )
    documents.verify_document(income, underwriter)
    blurry = documents.upload_document(
        application, kind="other", file_name="utility-bill.pdf", data=PDF + b"%bill"
    )
    documents.reject_document(blurry, "Unreadable", underwriter)
    employment, address = Condition.objects.filter(application=application).order_by("id")
    underwriting.satisfy_condition(employment, underwriter, "HR confirmed by phone")
    underwriting.waive_condition(address, underwriter, "Address matches the bureau file")
    application = underwriting.approve(application, underwriter, note="All conditions resolved")
    assert application.state == S.APPROVED

    # Closing and funding.
    offer = application.offers.order_by("id").first()
    closing.accept_offer(application=application, offer_id=offer.pk)
    disbursing.set_bank_account(
        application=application,
        routing_number=ROUTING,
        account_number="123456789",
        account_type="checking",
    )
    package = signing_package(application)
    closing.sign_documents(
        application=application,
        typed_name="Grace Hopper",
        ip="203.0.113.9",
        user_agent="pytest",
        shown_sha256=package.sha256,
    )
    disbursing.disburse(application=application, user=officer)
    application.refresh_from_db()
    offer.refresh_from_db()
    assert application.state == S.DISBURSED

    loan = Loan.objects.get(origination_reference=application.reference)

    # Every party, with its role, in order; both owe the loan in the portal.
    parties = list(
        LoanParty.objects.filter(loan=loan).values_list("customer_id", "role", "ordering")
    )
    assert parties == [(applicant.pk, "borrower", 0), (co_applicant.pk, "co_borrower", 1)]
    assert loan.customer_id == applicant.pk
    assert [c.pk for c in loan_borrowers(loan)] == [applicant.pk, co_applicant.pk]
    assert list(get_loans_for_customer(co_applicant)) == [loan]
    boarded = AuditEvent.objects.get(action="loan.boarded", object_id=str(loan.pk))
    assert boarded.metadata["parties"] == [
        {"customer_id": applicant.pk, "role": "borrower"},
        {"customer_id": co_applicant.pk, "role": "co_borrower"},
    ]

    # The approved terms: the accepted offer's, with its schedule and fees.
    assert (loan.principal, loan.annual_rate, loan.term) == (
        offer.amount,
        offer.annual_rate,
        offer.term,
    )
    assert loan.first_payment_date == offer.first_payment_date
    assert loan.disbursement_date == TODAY
    assert [
        {"name": f["name"], "amount": f["amount"], "treatment": f["treatment"]}
        for f in loan.terms["fees"]
    ] == [
        {"name": f["name"], "amount": str(f["amount"]), "treatment": f["treatment"]}
        for f in offer.fees
    ]
    assert [
        (i.due_date.isoformat(), str(i.principal_due + i.interest_due + i.fees_due))
        for i in Installment.objects.filter(loan=loan).order_by("number")
    ] == [(row["due_date"], row["payment"]) for row in offer.schedule]

    # Every condition, with its resolution.
    assert loan.conditions == [
        {
            "text": "Verify employment with the employer",
            "status": "satisfied",
            "note": "HR confirmed by phone",
            "reference": f"origination:condition:{employment.pk}",
        },
        {
            "text": "Proof of address",
            "status": "waived",
            "note": "Address matches the bureau file",
            "reference": f"origination:condition:{address.pk}",
        },
    ]

    # Every underwriting note: each decision, with its note, in order.
    records = list(DecisionRecord.objects.filter(application=application).order_by("id"))
    assert [r.kind for r in records] == ["automatic", "underwriter", "underwriter"]
    lines = loan.underwriting_notes.splitlines()
    assert len(lines) == len(records)
    assert "Lates explained by a move; co-applicant income carries DTI" in lines[1]
    assert "All conditions resolved" in lines[2]

    # Every document reference: the offer's generated documents, then every upload.
    generated = list(GeneratedDocument.objects.filter(offer=offer).order_by("id"))
    assert {d.kind for d in generated} == {"tila_disclosure", "loan_agreement", "signed_package"}
    uploads = list(ApplicationDocument.objects.filter(application=application).order_by("id"))
    assert [(d["reference"], d["kind"], d["sha256"]) for d in loan.documents] == [
        (f"origination:generated_document:{d.pk}", d.kind, d.sha256) for d in generated
    ] + [(f"origination:application_document:{d.pk}", d.kind, d.sha256) for d in uploads]
    assert [(d["name"], d.get("status")) for d in loan.documents[len(generated) :]] == [
        ("paystub.pdf", "verified"),
        ("utility-bill.pdf", "rejected"),
    ]
