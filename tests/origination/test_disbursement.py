# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""Funding: the bank account, disbursement boarding the loan in the same
transaction (or nothing at all), automatic disbursement after signing, and
the day's NACHA credit file."""

import hashlib
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from pypdf import PdfReader

from core.crypto import decrypt
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.finance import tila
from core.models import AuditEvent
from origination.models import (
    ApplicationEvent,
    ApplicationState,
    Disbursement,
    DisbursementBatch,
    GeneratedDocument,
    Offer,
)
from origination.selectors.closing import disbursement_batch_file, signing_package
from origination.services import closing
from origination.services import disbursement as disbursing
from servicing import boarding
from servicing.models import Installment, JournalEntry, Loan, Posting
from servicing.services.sync import loan_terms
from tests.factories import UserFactory
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    TODAY,
    _closing_env,
    accepted_application,
    make_customer,
    make_loan_product,
    servicing_product,
)

pytestmark = pytest.mark.django_db
S = ApplicationState
ACH = {
    "ACH_DESTINATION_ROUTING": "011000015",
    "ACH_DESTINATION_NAME": "Federal Reserve Bank",
    "ACH_ODFI_ROUTING": "021000021",
    "ACH_ORIGIN_NAME": "Acme Lending",
    "ACH_COMPANY_NAME": "Acme Lending",
    "ACH_COMPANY_ID": "1234567890",
}
ROUTING = "011000015"  # valid ABA checksum
SAVINGS_ROUTING = "021000021"


@pytest.fixture
def product(servicing_product):
    return make_loan_product(servicing_product.pk)


@pytest.fixture
def officer(db):
    """A staff user holding origination.disburse_application (granted directly,
    so the test does not depend on which roles carry it)."""
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(
            codename="disburse_application", content_type__app_label="origination"
        )
    )
    return user


def signed_application(
    product, *, customer=None, account="123456789", routing=ROUTING, kind="checking"
):
    application, offer = accepted_application(product, customer=customer)
    disbursing.set_bank_account(
        application=application,
        routing_number=routing,
        account_number=account,
        account_type=kind,
    )
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
    return application, offer


# --- bank account -------------------------------------------------------------------


def test_bank_account_is_validated_and_stored_encrypted(product):
    application, _ = accepted_application(product)
    with pytest.raises(ValidationFailed) as exc:
        disbursing.set_bank_account(
            application=application,
            routing_number="011000016",
            account_number="12AB",
            account_type="brokerage",
        )
    assert exc.value.status_code == 400
    assert set(exc.value.fields) == {"routing_number", "account_number", "account_type"}
    assert not Disbursement.objects.exists()

    disbursement = disbursing.set_bank_account(
        application=application,
        routing_number="0110-00015",
        account_number="0012 3456 789",
        account_type="savings",
    )
    assert disbursement.status == Disbursement.Status.PENDING
    assert disbursement.routing_number == ROUTING
    assert disbursement.account_last4 == "6789"
    assert "00123456789" not in disbursement.account_number_encrypted
    assert decrypt(disbursement.account_number_encrypted) == "00123456789"
    assert disbursement.amount == Decimal("9700.00")  # 10,000 less the 3 % withheld fee
    assert disbursement.loan_number == ""


# --- disbursement ----------------------------------------------------------------------


def test_disburse_boards_the_offered_loan_in_servicing(product, officer):
    application, offer = signed_application(product)
    assert application.state == S.DOCUMENTS_SIGNED

    disbursing.disburse(application=application, user=officer)

    application.refresh_from_db()
    assert application.state == S.DISBURSED
    loan = Loan.objects.get(origination_reference=application.reference)
    assert application.loan_number == loan.loan_number != ""
    assert application.funded_at is not None
    assert loan.customer_id == application.applicant_id
    assert loan.product_id == product.servicing_product_id
    assert (loan.principal, loan.annual_rate, loan.term) == (
        offer.amount,
        offer.annual_rate,
        offer.term,
    )
    assert loan.first_payment_date == offer.first_payment_date == date(2026, 4, 2)
    assert loan.disbursement_date == TODAY
    installments = list(Installment.objects.filter(loan=loan).order_by("number"))
    assert [
        (i.due_date.isoformat(), str(i.principal_due + i.interest_due + i.fees_due))
        for i in installments
    ] == [(row["due_date"], row["payment"]) for row in offer.schedule]
    # The disbursement posting credits cash with the net amount.
    entry = JournalEntry.objects.get(loan=loan, entry_type=JournalEntry.Type.DISBURSEMENT)
    cash = Posting.objects.filter(entry=entry, account__code__in=_cash_codes(loan))
    assert [(p.debit, p.credit) for p in cash] == [(Decimal("0.00"), Decimal("9700.00"))]
    assert loan.disbursed_amount == Decimal("9700.00")

    disbursement = Disbursement.objects.get(application=application)
    assert disbursement.status == Disbursement.Status.SENT
    assert disbursement.amount == Decimal("9700.00")
    assert disbursement.loan_number == loan.loan_number
    assert disbursement.disbursed_on == TODAY
    # The document references and the underwriting notes travel with the loan.
    docs = GeneratedDocument.objects.filter(application=application).order_by("id")
    assert [(d["kind"], d["sha256"]) for d in loan.documents] == [(d.kind, d.sha256) for d in docs]
    assert {d["kind"] for d in loan.documents} == {
        "tila_disclosure",
        "loan_agreement",
        "signed_package",
    }
    assert all(d["reference"].startswith("origination:generated_document:") for d in loan.documents)
    assert loan.underwriting_notes == disbursing.underwriting_notes(application)
    event = ApplicationEvent.objects.filter(application=application).last()
    assert (event.from_state, event.to_state, event.actor) == (
        S.DOCUMENTS_SIGNED,
        S.DISBURSED,
        officer,
    )
    assert AuditEvent.objects.filter(action="disbursement.completed").count() == 1

    # Idempotent.
    disbursing.disburse(application=application, user=officer)
    assert Loan.objects.count() == 1
    assert AuditEvent.objects.filter(action="disbursement.completed").count() == 1


def test_disclosed_tila_figures_equal_what_servicing_computes_for_the_boarded_loan(
    product, officer
):
    application, offer = signed_application(product)
    disbursing.disburse(application=application, user=officer)
    loan = Loan.objects.get(origination_reference=application.reference)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED

    # Servicing's figures: Regulation Z on the boarded loan's own terms and schedule.
    boarded = tila(loan_terms(loan))
    assert offer.apr == boarded.apr_percent
    assert offer.finance_charge == boarded.finance_charge
    assert offer.total_of_payments == boarded.total_of_payments
    assert offer.amount_financed == boarded.amount_financed
    assert offer.finance_charge == offer.total_of_payments - offer.amount_financed
    # ... and the installments servicing stored add up to the disclosed total.
    installments = Installment.objects.filter(loan=loan)
    assert (
        sum((i.principal_due + i.interest_due + i.fees_due for i in installments), Decimal("0.00"))
        == offer.total_of_payments
    )
    assert offer.finance_charge > 0 and Decimal("0") < offer.apr < Decimal("100")

    # The signed Truth in Lending disclosure shows the same figures.
    disclosure = GeneratedDocument.objects.get(application=application, kind="tila_disclosure")
    with disclosure.file.open("rb") as fh:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(fh.read())).pages)
    text = " ".join(text.split())
    assert f"{boarded.disclosed_apr_percent()}%" in text
    assert f"${boarded.finance_charge:,}" in text
    assert f"${boarded.total_of_payments:,}" in text


def _cash_codes(loan):
    from servicing.models import ProductAccount

    return list(
        ProductAccount.objects.filter(product=loan.product, role="cash_clearing").values_list(
            "account__code", flat=True
        )
    )


def test_a_boarding_failure_writes_nothing(servicing_product, officer):
    broken = make_loan_product(servicing_product.pk + 1000, code="broken-loan")
    application, _ = signed_application(broken)
    events_before = ApplicationEvent.objects.filter(application=application).count()
    audits_before = AuditEvent.objects.count()

    with pytest.raises(NotFound):
        disbursing.disburse(application=application, user=officer)

    application.refresh_from_db()
    assert application.state == S.DOCUMENTS_SIGNED
    assert application.loan_number == "" and application.funded_at is None
    disbursement = Disbursement.objects.get(application=application)
    assert disbursement.status == Disbursement.Status.PENDING
    assert disbursement.loan_number == ""
    assert Loan.objects.count() == 0
    assert JournalEntry.objects.count() == 0
    assert ApplicationEvent.objects.filter(application=application).count() == events_before
    assert AuditEvent.objects.count() == audits_before


def test_disburse_refusals(product):
    application, _ = accepted_application(product)
    clerk = UserFactory()  # staff without origination.disburse_application
    with pytest.raises(PermissionDenied):
        disbursing.disburse(application=application, user=clerk)
    with pytest.raises(Conflict) as exc:
        disbursing.disburse(application=application)  # offer accepted, not signed
    assert exc.value.code == "invalid_transition"
    assert Loan.objects.count() == 0


def test_signing_disburses_automatically_when_the_product_says_so(servicing_product):
    auto = make_loan_product(servicing_product.pk, code="auto-loan", auto_disburse=True)
    application, offer = signed_application(auto)
    assert application.state == S.DISBURSED
    loan = Loan.objects.get(origination_reference=application.reference)
    assert loan.principal == offer.amount
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED


# --- the day's NACHA file ----------------------------------------------------------------


@override_settings(**ACH)
def test_daily_file_layout_totals_and_idempotence(product, officer):
    first, _ = signed_application(product, account="123456789")
    second, _ = signed_application(
        product,
        customer=make_customer("Lee", "Okafor"),
        account="987654321",
        routing=SAVINGS_ROUTING,
        kind="savings",
    )
    third, _ = signed_application(product, customer=make_customer("Sam", "Park"))
    for application in (first, second):
        disbursing.disburse(application=application, user=officer)
    # `third` is signed but not funded: it is not paid.

    batch = disbursing.daily_disbursement_file(business_date=TODAY, user=officer)

    assert batch.business_date == TODAY
    assert batch.entry_count == 2
    assert batch.total == Decimal("19400.00")
    assert batch.sha256 == hashlib.sha256(batch.file_text.encode()).hexdigest()
    lines = batch.file_text.splitlines()
    assert all(len(line) == 94 for line in lines)
    assert len(lines) % 10 == 0
    assert lines[0][:3] == "101"
    header = lines[1]
    assert header[0] == "5" and header[1:4] == "220" and header[50:53] == "PPD"
    assert header[53:63] == "LOAN DISB "
    entries = [line for line in lines if line[0] == "6"]
    assert [(e[1:3], e[3:12], e[12:29].strip(), e[29:39], e[39:54].strip()) for e in entries] == [
        ("22", ROUTING, "123456789", "0000970000", first.reference),
        ("32", SAVINGS_ROUTING, "987654321", "0000970000", second.reference),
    ]
    control = next(line for line in lines if line[0] == "8")
    assert control[20:32] == "000000000000" and control[32:44] == "000001940000"
    d1, d2 = (Disbursement.objects.get(application=a) for a in (first, second))
    assert (d1.batch, d2.batch) == (batch, batch)
    assert [d1.trace_number, d2.trace_number] == [e[79:94] for e in entries]
    assert d1.trace_number == "021000020000001"
    assert Disbursement.objects.get(application=third).batch is None

    again = disbursing.daily_disbursement_file(business_date=TODAY, user=officer)
    assert again.pk == batch.pk
    assert DisbursementBatch.objects.count() == 1
    name, text = disbursement_batch_file(batch.pk)
    assert name == "disbursements-20260302.ach" and text == batch.file_text


@override_settings(**ACH)
def test_daily_file_with_nothing_to_pay_writes_nothing(officer):
    assert disbursing.daily_disbursement_file(business_date=TODAY, user=officer) is None
    assert DisbursementBatch.objects.count() == 0


@override_settings(ACH_COMPANY_ID="")
def test_daily_file_needs_the_ach_settings(officer):
    with pytest.raises(Conflict) as exc:
        disbursing.daily_disbursement_file(business_date=TODAY, user=officer)
    assert exc.value.code == "ach_not_configured"


def test_disbursing_after_the_first_due_date_is_refused(product, officer):
    application, offer = signed_application(product)
    with pytest.raises(Conflict) as exc:
        disbursing.disburse(
            application=application, user=officer, business_date=offer.first_payment_date
        )
    assert exc.value.code == "offer_stale"
    application.refresh_from_db()
    assert application.state == S.DOCUMENTS_SIGNED
    assert Loan.objects.count() == 0
    assert Disbursement.objects.get(application=application).status == "pending"


def test_disbursing_a_day_late_boards_the_recomputed_schedule_within_tolerance(product, officer):
    application, offer = signed_application(product)
    late = date(2026, 3, 3)
    disbursing.disburse(application=application, user=officer, business_date=late)
    loan = Loan.objects.get(origination_reference=application.reference)
    assert loan.disbursement_date == late
    assert loan.first_payment_date == offer.first_payment_date
    assert loan.disbursed_amount == Decimal("9700.00")


def test_disbursing_builds_the_schedule_once_and_boarding_takes_it(product, officer, monkeypatch):
    """The schedule disburse checks the APR on is the one boarded (servicing
    replays its own afterwards): boarding builds none when the terms match."""
    application, offer = signed_application(product)
    built = []

    def counting(module):
        build = module.build_schedule

        def wrapper(terms):
            built.append(module.__name__)
            return build(terms)

        monkeypatch.setattr(module, "build_schedule", wrapper)

    counting(disbursing)
    counting(boarding)
    disbursing.disburse(application=application, user=officer, business_date=date(2026, 3, 3))
    assert built == ["origination.services.disbursement"]
    loan = Loan.objects.get(origination_reference=application.reference)
    assert loan.disbursed_amount == Decimal("9700.00")
    assert loan.first_payment_date == offer.first_payment_date


def test_the_products_schedule_conventions_travel_to_the_boarded_loan(servicing_product, officer):
    """Issue 13: a product whose instalment is solved over each period's own
    rate (actual/365) offers, boards and services that schedule."""
    from fractions import Fraction

    product = make_loan_product(
        servicing_product.pk,
        code="progressive-loan",
        day_count="actual/365",
        installment_method="period_rates",
    )
    application, offer = signed_application(product)
    disbursing.disburse(application=application, user=officer)
    loan = Loan.objects.get(origination_reference=application.reference)
    assert loan.terms["installment_method"] == "period_rates"
    installments = list(Installment.objects.filter(loan=loan).order_by("number"))
    assert [
        (i.due_date.isoformat(), str(i.principal_due + i.interest_due)) for i in installments
    ] == [(row["due_date"], row["payment"]) for row in offer.schedule]
    # the instalment, worked independently: principal / sum_k prod_{j<=k} 1/(1 + r_j),
    # r_j = rate x (days of period j) / 365
    starts = [loan.disbursement_date, *(i.due_date for i in installments[:-1])]
    discount, total = Fraction(1), Fraction(0)
    for start, row in zip(starts, installments, strict=True):
        discount /= 1 + Fraction(loan.annual_rate) * (row.due_date - start).days / 365
        total += discount
    exact = Fraction(loan.principal) / total
    level = installments[0].principal_due + installments[0].interest_due
    assert abs(Fraction(level) - exact) <= Fraction(1, 200)
    assert all(i.principal_due + i.interest_due == level for i in installments[:-1])
    assert sum(i.principal_due for i in installments) == loan.principal
