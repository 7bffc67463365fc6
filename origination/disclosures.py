"""The Truth in Lending disclosure and the loan agreement, as PDFs.

Model-free: the application flow builds a context with `disclosure_context`
from the approved `LoanTerms` and renders it with `render_tila_disclosure`
and `render_loan_agreement` (WeasyPrint, templates/documents/). Every figure
comes from the engine (`core.finance.tila` and `build_schedule`), the same
numbers servicing boards, so the disclosed APR and schedule cannot drift
from the loan. Each render returns `core.documents.RenderedDocument`
(the PDF bytes and their SHA-256), which the caller stores.

Context inputs, all plain values:

- borrower: {"name", "address" (list of lines), "email" (optional)};
- lender: {"name", "address" (list of lines), "phone", "email",
  "governing_law" (e.g. "New York")};
- late_fee: the servicing product's rule, {"type": "none" | "flat" |
  "percent", "amount", "percent" (fraction, 0.05 = 5 %), "cap" (or None),
  "grace_days"};
- reference: the application or offer reference printed on every page;
- disclosed_on: the business date of the disclosure.

Optional keys the caller may add to the returned dict before rendering:
"esign_consent_version" and "esign_consented_at" (shown in the agreement's
electronic-records clause).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.documents import RenderedDocument, render_pdf
from core.finance import (
    FeeTreatment,
    InterestMethod,
    LoanTerms,
    RepaymentUnit,
    build_schedule,
    tila,
)
from core.money import ZERO, format_money

TILA_TEMPLATE = "documents/tila_disclosure.html"
AGREEMENT_TEMPLATE = "documents/loan_agreement.html"

_UNIT_WORDS = {
    RepaymentUnit.DAYS: ("Daily", "days"),
    RepaymentUnit.WEEKS: ("Weekly", "weeks"),
    RepaymentUnit.SEMI_MONTHS: ("Twice monthly", "half-months"),
    RepaymentUnit.MONTHS: ("Monthly", "months"),
}


def _percent(fraction: Decimal) -> str:
    """0.0725 -> "7.25"; at least two decimals, no exponent."""
    value = (fraction * 100).normalize()
    return f"{value:.2f}" if -value.as_tuple().exponent <= 2 else f"{value:f}"


def payment_frequency(terms: LoanTerms) -> str:
    """ "Monthly", "Every 2 weeks", ... from the repayment period."""
    single, plural = _UNIT_WORDS.get(terms.repayment_unit, (str(terms.repayment_unit), "periods"))
    if terms.repayment_every == 1:
        return single
    return f"Every {terms.repayment_every} {plural}"


def late_charge_text(late_fee: dict) -> str:
    """The late-charge sentence of the disclosure from the product's rule."""
    kind = (late_fee or {}).get("type", "none")
    grace = int(late_fee.get("grace_days", 0)) if late_fee else 0
    if kind == "flat" and Decimal(late_fee.get("amount") or 0) > 0:
        fee = f"${format_money(Decimal(late_fee['amount']))}"
    elif kind == "percent" and Decimal(late_fee.get("percent") or 0) > 0:
        pct = (Decimal(late_fee["percent"]) * 100).normalize()
        fee = f"{pct:f}% of the unpaid amount of the payment"
        if late_fee.get("cap") is not None:
            fee += f", but not more than ${format_money(Decimal(late_fee['cap']))}"
    else:
        return "There is no charge for a late payment."
    return f"If a payment is more than {grace} days late, you will be charged {fee}."


def _itemization(terms: LoanTerms, amount_financed: Decimal) -> dict:
    """Itemization of the amount financed (Regulation Z 1026.18(c)).

    given directly + paid to others on your behalf (fees that are not
    finance charges, withheld or financed) - prepaid finance charges paid
    separately in cash = amount financed. The prepaid finance charges are
    listed apart, as the model form does."""
    to_others = [
        {"name": fee.name, "amount": fee.amount}
        for fee in terms.fees
        if not fee.finance_charge and fee.treatment is not FeeTreatment.PAID_SEPARATELY
    ]
    prepaid = [{"name": fee.name, "amount": fee.amount} for fee in terms.fees if fee.finance_charge]
    paid_separately_fc = sum(
        (
            fee.amount
            for fee in terms.fees
            if fee.finance_charge and fee.treatment is FeeTreatment.PAID_SEPARATELY
        ),
        ZERO,
    )
    given_directly = terms.disbursed_amount
    total = given_directly + sum((item["amount"] for item in to_others), ZERO) - paid_separately_fc
    if total != amount_financed:  # the engine's identity; a mismatch is a bug, never a document
        raise AssertionError(f"itemization {total} != amount financed {amount_financed}")
    return {
        "given_directly": given_directly,
        "paid_to_others": to_others,
        "prepaid_paid_separately": paid_separately_fc,
        "prepaid_finance_charges": prepaid,
        "prepaid_finance_charge_total": terms.prepaid_finance_charges,
        "amount_financed": amount_financed,
    }


def disclosure_context(
    terms: LoanTerms,
    borrower: dict,
    lender: dict,
    late_fee: dict,
    reference: str,
    disclosed_on: date,
) -> dict:
    """The template context of both documents. Pure (no DB, no clock).

    Decimal figures are exactly the engine's: amount_financed,
    finance_charge and total_of_payments equal `tila(terms)`'s, `apr` is
    its 8-place fraction and `apr_percent` the form's two-place percentage
    (`disclosed_apr_percent()`); `payments` are its payment summary and
    `rows` the full schedule."""
    schedule = build_schedule(terms)
    disclosure = tila(schedule)
    frequency = payment_frequency(terms)
    payments = [
        {
            "count": group.count,
            "amount": group.amount,
            "first_due_date": group.first_due_date,
            "when": (
                f"{frequency}, beginning {group.first_due_date:%B} "
                f"{group.first_due_date.day}, {group.first_due_date.year}"
                if group.count > 1
                else f"On {group.first_due_date:%B} {group.first_due_date.day}, "
                f"{group.first_due_date.year}"
            ),
        }
        for group in disclosure.payment_summary
    ]
    has_prepaid = terms.prepaid_finance_charges > 0
    return {
        "reference": reference,
        "disclosed_on": disclosed_on,
        "borrower": borrower,
        "lender": lender,
        "terms": terms,
        "annual_rate_percent": _percent(terms.annual_rate),
        "interest_description": (
            "simple interest on the unpaid principal balance"
            if terms.interest_method is InterestMethod.DECLINING_BALANCE
            else "flat (add-on) interest on the original principal"
        ),
        "principal": terms.principal,
        "loan_amount": schedule.loan_amount,
        "disbursed_amount": schedule.disbursed_amount,
        "disbursement_date": terms.disbursement_date,
        "number_of_payments": len(schedule),
        "frequency": frequency,
        "apr": disclosure.apr,
        "apr_percent": disclosure.disclosed_apr_percent(),
        "finance_charge": disclosure.finance_charge,
        "amount_financed": disclosure.amount_financed,
        "total_of_payments": disclosure.total_of_payments,
        "total_interest": schedule.total_interest,
        "payments": payments,
        "rows": schedule.rows,
        "schedule": schedule,
        "maturity_date": schedule.due_dates[-1],
        "late_charge": late_charge_text(late_fee),
        "late_fee": late_fee,
        "prepayment_penalty": False,
        # A simple-interest loan stops charging interest when repaid; only the
        # prepaid finance charges (fees) are earned at closing and not refunded.
        "prepayment_refund": "will not" if has_prepaid else "may",
        "itemization": _itemization(terms, disclosure.amount_financed),
    }


def render_tila_disclosure(context: dict) -> RenderedDocument:
    """The Truth in Lending disclosure (model form H-2 layout) as PDF + SHA-256."""
    return render_pdf(TILA_TEMPLATE, context)


def render_loan_agreement(context: dict) -> RenderedDocument:
    """The loan agreement (promissory note with the schedule) as PDF + SHA-256."""
    return render_pdf(AGREEMENT_TEMPLATE, context)
