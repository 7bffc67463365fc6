# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""Closing: offers priced from the grid with the engine's figures, accepting
one (TILA disclosure + agreement stored with their hashes), and the
e-signature with its preconditions and evidence."""

import hashlib
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from core.exceptions import Conflict, NotFound, ValidationFailed
from core.finance import Fee, LoanTerms, build_schedule, tila
from core.models import AuditEvent
from origination import esign
from origination.models import (
    ApplicationEvent,
    ApplicationState,
    Consent,
    GeneratedDocument,
    Offer,
    Signature,
)
from origination.selectors.closing import (
    application_documents,
    generated_document,
    get_generated_document_for_customer,
    read_document,
    signing_package,
)
from origination.services import closing
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    TODAY,
    _closing_env,
    accepted_application,
    approved_application,
    make_customer,
    make_loan_product,
    servicing_product,
)

pytestmark = pytest.mark.django_db
S = ApplicationState


def engine(term, rate, *, principal="10000.00", fee="300.00"):
    """The engine's schedule and TILA figures for terms built here, independently."""
    terms = LoanTerms(
        principal=Decimal(principal),
        annual_rate=Decimal(rate),
        term=term,
        disbursement_date=TODAY,
        fees=(Fee("origination", Decimal(fee), "withheld", True),),
    )
    schedule = build_schedule(terms)
    return schedule, tila(schedule)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


@pytest.fixture
def product(servicing_product):
    return make_loan_product(servicing_product.pk)


# --- offers ------------------------------------------------------------------------


def test_offers_one_per_allowed_term_with_the_engines_figures(product):
    application = approved_application(product)
    assert application.credit_score == 820  # the clean-file identity
    assert (application.approved_amount, application.approved_term) == (Decimal("10000.00"), 36)

    offers = closing.make_offers(application=application)

    # The approved term first, then the other allowed terms; grid: 820 -> 7.99 % / 8.99 %.
    assert [(o.term, o.annual_rate) for o in offers] == [
        (36, Decimal("0.079900")),
        (12, Decimal("0.079900")),
        (24, Decimal("0.079900")),
        (48, Decimal("0.089900")),
        (60, Decimal("0.089900")),
    ]
    for offer in offers:
        schedule, disclosure = engine(offer.term, offer.annual_rate)
        assert offer.amount == Decimal("10000.00")
        assert offer.apr == disclosure.apr_percent
        assert offer.finance_charge == disclosure.finance_charge
        assert offer.amount_financed == disclosure.amount_financed == Decimal("9700.00")
        assert offer.total_of_payments == disclosure.total_of_payments
        assert offer.payment == schedule.payments[0]
        assert offer.first_payment_date == schedule.due_dates[0] == date(2026, 4, 2)
        assert [r["payment"] for r in offer.schedule] == [str(p) for p in schedule.payments]
        assert offer.fees == [
            {
                "name": "origination",
                "amount": "300.00",
                "treatment": "withheld",
                "finance_charge": True,
            }
        ]
        assert offer.expires_on == date(2026, 4, 1)  # business date + 30 days
        assert offer.status == Offer.Status.OFFERED
    # Pinned: 10,000 over 36 months at 7.99 % with a 300.00 prepaid finance charge.
    first = offers[0]
    assert first.payment == Decimal("313.32")
    assert first.schedule[-1]["payment"] == "313.25"  # the last absorbs the rounding
    assert first.apr == Decimal("10.0717")
    assert first.finance_charge == Decimal("1579.45")
    assert first.total_of_payments == Decimal("11279.45")


def test_making_offers_again_is_idempotent_and_keeps_the_accepted_one(product):
    application = approved_application(product)
    offers = closing.make_offers(application=application)
    again = closing.make_offers(application=application)
    assert [o.pk for o in again] == [o.pk for o in offers]
    assert Offer.objects.filter(application=application).count() == 5

    closing.accept_offer(application=application, offer_id=offers[1].pk)
    after = closing.make_offers(application=application)
    assert [(o.pk, o.status) for o in after] == [(offers[1].pk, Offer.Status.ACCEPTED)]
    assert Offer.objects.filter(application=application).count() == 5


# --- accepting -------------------------------------------------------------------------


def test_accepting_stores_the_disclosure_and_agreement_with_their_hashes(product):
    application = approved_application(product)
    offers = closing.make_offers(application=application)
    chosen = offers[2]  # 24 months

    closing.accept_offer(application=application, offer_id=chosen.pk)

    application.refresh_from_db()
    assert application.state == S.OFFER_ACCEPTED
    statuses = dict(Offer.objects.filter(application=application).values_list("pk", "status"))
    assert statuses == {
        o.pk: (Offer.Status.ACCEPTED if o.pk == chosen.pk else Offer.Status.SUPERSEDED)
        for o in offers
    }
    docs = {d.kind: d for d in GeneratedDocument.objects.filter(application=application)}
    assert set(docs) == {"tila_disclosure", "loan_agreement"}
    for doc in docs.values():
        assert doc.offer_id == chosen.pk
        with doc.file.open("rb") as handle:
            stored = handle.read()
        assert stored.startswith(b"%PDF")
        assert hashlib.sha256(stored).hexdigest() == doc.sha256
    with docs["tila_disclosure"].file.open("rb") as handle:
        text = pdf_text(handle.read())
    _, disclosure = engine(24, "0.0799")
    assert f"{disclosure.disclosed_apr_percent()}%" in text
    assert f"${disclosure.finance_charge:,}" in text
    assert f"${disclosure.total_of_payments:,}" in text
    assert "$9,700.00" in text  # amount financed
    assert "more than 10 days late" in text  # the product's late fee text
    event = ApplicationEvent.objects.filter(application=application).last()
    assert (event.from_state, event.to_state) == (S.APPROVED, S.OFFER_ACCEPTED)
    assert AuditEvent.objects.filter(
        action="application.accept_offer", object_id=str(application.pk)
    ).exists()

    # Accepting again is a no-op; another offer is refused.
    closing.accept_offer(application=application, offer_id=chosen.pk)
    assert GeneratedDocument.objects.filter(application=application).count() == 2
    with pytest.raises(Conflict):
        closing.accept_offer(application=application, offer_id=offers[0].pk)


# --- signing ---------------------------------------------------------------------------


def test_sign_refuses_without_e_records_consent(product):
    application, _ = accepted_application(product)
    # An application taken before e-records consent existed (e.g. by phone).
    Consent.objects.filter(application=application, kind=Consent.Kind.E_RECORDS).delete()
    package = signing_package(application)
    with pytest.raises(Conflict) as exc:
        closing.sign_documents(
            application=application,
            typed_name="Dana Rivera",
            ip="203.0.113.9",
            user_agent="pytest",
            shown_sha256=package.sha256,
        )
    assert exc.value.message == "consent to electronic records first"
    assert exc.value.status_code == 409
    _assert_unsigned(application)


def test_sign_refuses_a_different_name_and_a_changed_document(product):
    application, _ = accepted_application(product)
    package = signing_package(application)
    with pytest.raises(ValidationFailed) as exc:
        closing.sign_documents(
            application=application,
            typed_name="Dan Rivera",
            ip="203.0.113.9",
            user_agent="pytest",
            shown_sha256=package.sha256,
        )
    assert exc.value.status_code == 400
    assert "typed_name" in exc.value.fields
    with pytest.raises(Conflict) as exc:
        closing.sign_documents(
            application=application,
            typed_name="Dana Rivera",
            ip="203.0.113.9",
            user_agent="pytest",
            shown_sha256=hashlib.sha256(b"something else").hexdigest(),
        )
    assert exc.value.code == "document_changed"
    _assert_unsigned(application)


def _assert_unsigned(application):
    application.refresh_from_db()
    assert application.state == S.OFFER_ACCEPTED
    assert Signature.objects.filter(application=application).count() == 0
    assert not GeneratedDocument.objects.filter(
        application=application, kind="signed_package"
    ).exists()


def test_signing_seals_the_package_with_a_certificate_page(product):
    application, offer = accepted_application(product)
    package = signing_package(application)
    assert package.sha256 == hashlib.sha256(package.pdf).hexdigest()
    assert signing_package(application).sha256 == package.sha256  # deterministic

    signature = closing.sign_documents(
        application=application,
        typed_name="  dana   RIVERA ",
        ip="203.0.113.9",
        user_agent="Mozilla/5.0 (pytest)",
        shown_sha256=package.sha256,
    )

    application.refresh_from_db()
    assert application.state == S.DOCUMENTS_SIGNED
    consent = Consent.objects.get(application=application, kind="e_records")
    assert signature.shown_sha256 == package.sha256
    assert signature.consent_at == consent.given_at
    assert (signature.ip, signature.user_agent) == ("203.0.113.9", "Mozilla/5.0 (pytest)")
    assert signature.document == package.agreement
    signed_doc = signature.signed_document
    assert signed_doc.kind == "signed_package" and signed_doc.offer_id == offer.pk
    with signed_doc.file.open("rb") as handle:
        signed = handle.read()
    assert hashlib.sha256(signed).hexdigest() == signed_doc.sha256
    summary = esign.verify_signed_pdf(signed)
    assert summary.intact and summary.valid and summary.covers_whole_file
    pages = PdfReader(BytesIO(signed)).pages
    shown_pages = len(PdfReader(BytesIO(package.pdf)).pages)
    assert len(pages) == shown_pages + 1
    certificate = pages[-1].extract_text()
    assert "Signature certificate" in certificate
    assert "dana RIVERA" in certificate
    assert package.sha256 in certificate.replace(" ", "").replace("\n", "")
    assert application.reference in certificate

    # Signing again returns the same signature and writes nothing.
    again = closing.sign_documents(
        application=application,
        typed_name="Dana Rivera",
        ip="203.0.113.9",
        user_agent="pytest",
        shown_sha256=package.sha256,
    )
    assert again.pk == signature.pk
    assert Signature.objects.filter(application=application).count() == 1


def test_a_stored_document_altered_after_it_was_shown_cannot_be_signed(product):
    application, _ = accepted_application(product)
    package = signing_package(application)
    disclosure = package.disclosure
    with disclosure.file.open("rb") as handle:
        original = handle.read()
    with open(disclosure.file.path, "wb") as handle:
        handle.write(original.replace(b"%%EOF", b"%%EOF\n% altered", 1))
    with pytest.raises(Conflict) as exc:
        closing.sign_documents(
            application=application,
            typed_name="Dana Rivera",
            ip="203.0.113.9",
            user_agent="pytest",
            shown_sha256=package.sha256,
        )
    assert exc.value.code == "document_tampered"
    _assert_unsigned(application)


def test_document_selectors_verify_bytes_and_scope_to_the_borrower(product):
    application, _ = accepted_application(product)
    other = make_customer("Lee", "Okafor")
    documents = application_documents(application)
    assert [d.kind for d in documents] == ["loan_agreement", "tila_disclosure"]
    for document in documents:
        found = generated_document(document.pk)
        data = read_document(found)
        assert found == document
        assert hashlib.sha256(data).hexdigest() == document.sha256
        mine = get_generated_document_for_customer(application.applicant, document.pk)
        assert mine == document
        with pytest.raises(NotFound):
            get_generated_document_for_customer(other, document.pk)
