"""TILA disclosure and loan agreement: the engine's figures, exactly, in the PDF."""

import hashlib
import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from core.finance import Fee, LoanTerms, build_schedule, tila
from origination.disclosures import (
    disclosure_context,
    late_charge_text,
    render_loan_agreement,
    render_tila_disclosure,
)

TERMS = LoanTerms(
    principal=Decimal("5000.00"),
    annual_rate=Decimal("0.1299"),
    term=12,
    disbursement_date=date(2026, 3, 2),
    fees=(
        Fee("Origination fee", Decimal("150.00"), "withheld", True),
        Fee("Document fee", Decimal("25.00"), "financed", False),
    ),
)
BORROWER = {"name": "Dana Rivera", "address": ["1 Main St", "Springfield, IL 62701"]}
LENDER = {
    "name": "Acme Lending",
    "address": ["2 Bank Plaza", "New York, NY 10004"],
    "phone": "212-555-0100",
    "email": "help@acme.example",
    "governing_law": "the State of New York",
}
LATE_FEE = {"type": "flat", "amount": Decimal("25.00"), "grace_days": 10}


def context(terms=TERMS, late_fee=LATE_FEE):
    return disclosure_context(terms, BORROWER, LENDER, late_fee, "APP-000123", date(2026, 2, 27))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def money(value: Decimal) -> str:
    return f"${value:,}"


def test_context_figures_are_the_engine_figures_exactly():
    expected = tila(TERMS)
    schedule = build_schedule(TERMS)
    ctx = context()
    assert ctx["amount_financed"] == expected.amount_financed == Decimal("4875.00")
    assert ctx["finance_charge"] == expected.finance_charge
    assert ctx["total_of_payments"] == expected.total_of_payments == schedule.total_payments
    assert ctx["apr"] == expected.apr
    assert ctx["apr_percent"] == expected.disclosed_apr_percent()
    assert [(p["count"], p["amount"], p["first_due_date"]) for p in ctx["payments"]] == [
        (g.count, g.amount, g.first_due_date) for g in expected.payment_summary
    ]
    assert ctx["rows"] == schedule.rows
    assert ctx["loan_amount"] == Decimal("5025.00")
    assert ctx["disbursed_amount"] == Decimal("4850.00")


def test_itemization_adds_up_to_the_amount_financed():
    item = context()["itemization"]
    assert item["given_directly"] == Decimal("4850.00")  # 5,000 less the withheld fee
    assert item["paid_to_others"] == [{"name": "Document fee", "amount": Decimal("25.00")}]
    assert item["prepaid_finance_charges"] == [
        {"name": "Origination fee", "amount": Decimal("150.00")}
    ]
    assert item["prepaid_finance_charge_total"] == Decimal("150.00")
    assert item["amount_financed"] == Decimal("4875.00")


def test_a_finance_charge_paid_separately_still_reduces_the_amount_financed():
    terms = LoanTerms(
        principal=Decimal("2000.00"),
        annual_rate=Decimal("0.10"),
        term=6,
        disbursement_date=date(2026, 3, 2),
        fees=(Fee("Application fee", Decimal("40.00"), "paid_separately", True),),
    )
    ctx = context(terms)
    assert ctx["amount_financed"] == tila(terms).amount_financed == Decimal("1960.00")
    assert ctx["itemization"]["given_directly"] == Decimal("2000.00")
    assert ctx["itemization"]["prepaid_paid_separately"] == Decimal("40.00")
    assert ctx["prepayment_refund"] == "will not"


def test_the_disclosure_pdf_shows_every_engine_figure():
    ctx = context()
    rendered = render_tila_disclosure(ctx)
    assert rendered.sha256 == hashlib.sha256(rendered.pdf).hexdigest()
    text = pdf_text(rendered.pdf)
    one_line = re.sub(r"\s+", " ", text)
    expected = tila(TERMS)
    assert "ANNUAL PERCENTAGE RATE" in one_line
    assert f"{expected.disclosed_apr_percent()}%" in text
    assert "18.80%" in text
    assert money(expected.finance_charge) in text
    assert money(expected.amount_financed) == "$4,875.00"
    assert money(expected.amount_financed) in text
    assert money(expected.total_of_payments) in text
    first, last = expected.payment_summary
    assert f"{first.count} {money(first.amount)} Monthly, beginning April 2, 2026" in one_line
    assert f"{last.count} {money(last.amount)} On March 2, 2027" in one_line
    assert "If a payment is more than 10 days late, you will be charged $25.00." in one_line
    assert "If you pay off early, you will not have to pay a penalty." in one_line
    assert "you will not be entitled to a refund of part of the finance charge" in one_line
    assert "See your contract documents for any additional information" in one_line
    assert "Amount given to you directly $4,850.00" in one_line
    assert "Amount paid to others on your behalf: Document fee $25.00" in one_line
    assert "Prepaid finance charge: Origination fee $150.00" in one_line
    assert "APP-000123" in text and "Dana Rivera" in text and "Acme Lending" in text


def test_the_same_input_gives_the_same_document_text():
    # WeasyPrint's font subsets differ between runs, so the bytes (and the
    # hash) are not stable; the hash is always that of the returned bytes.
    a, b = render_tila_disclosure(context()), render_tila_disclosure(context())
    assert pdf_text(a.pdf) == pdf_text(b.pdf)
    assert b.sha256 == hashlib.sha256(b.pdf).hexdigest()


def test_the_agreement_carries_the_terms_schedule_and_clauses():
    ctx = context()
    ctx["esign_consent_version"] = "esign-2026-01"
    rendered = render_loan_agreement(ctx)
    assert rendered.sha256 == hashlib.sha256(rendered.pdf).hexdigest()
    text = pdf_text(rendered.pdf)
    one_line = re.sub(r"\s+", " ", text)
    schedule = build_schedule(TERMS)
    for heading in (
        "Promise to pay.",
        "Late charge.",
        "Prepayment.",
        "Default.",
        "Governing law.",
        "Electronic records and signatures.",
        "Equal Credit Opportunity Act notice.",
    ):
        assert heading in one_line
    assert "you promise to pay us the loan amount of $5,025.00 with interest at 12.99% a year" in (
        one_line
    )
    assert "the laws of the State of New York" in one_line
    assert "(consent version esign-2026-01)" in one_line
    assert "Federal Trade Commission" in one_line
    for row in schedule.rows:
        assert f"{row.payment:,}" in text
        assert f"{row.closing_balance:,}" in text
    assert f"Total {schedule.total_payments:,} {schedule.total_principal:,}" in one_line
    assert "Borrower: Dana Rivera" in one_line and "Lender: Acme Lending" in one_line


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"type": "none"}, "There is no charge for a late payment."),
        (
            {"type": "flat", "amount": Decimal("15.00"), "grace_days": 15},
            "If a payment is more than 15 days late, you will be charged $15.00.",
        ),
        (
            {
                "type": "percent",
                "percent": Decimal("0.05"),
                "cap": Decimal("30.00"),
                "grace_days": 10,
            },
            "If a payment is more than 10 days late, you will be charged 5% of the unpaid "
            "amount of the payment, but not more than $30.00.",
        ),
    ],
)
def test_late_charge_sentence(rule, text):
    assert late_charge_text(rule) == text
