"""A loan whose every amount a page shows is known: 5,709.11 at 12.99% over
24 months, instalment 1 paid, a 1,250.50 payment keyed by mistake and
reversed, instalment 2 late with a 75.00 fee, a statement and a payoff
quote. Built through the real services; used by the page walk and the
Chromium test."""

from datetime import date
from decimal import Decimal

from customers import services as customer_services
from servicing.boarding import BoardingTerms, board_loan
from servicing.services.fees import assess_late_fees
from servicing.services.payments import post_payment, reverse_payment
from servicing.services.payoff import payoff_quote
from servicing.services.products import create_product
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date

D = Decimal
PASSWORD = "a-long-borrower-pass-1"


def build_book() -> dict:
    """A 5,709.11 loan: instalment 1 paid, a payment reversed, instalment 2
    late with a 75.00 fee, a statement and a payoff quote."""
    product = create_product(
        code="personal",
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=D("75.00"),
        nsf_fee_amount=D("30.00"),
    )
    borrower = customer_services.register_borrower(
        first_name="Mona",
        last_name="Ledger",
        email="mona@example.com",
        date_of_birth=date(1984, 6, 1),
        password=PASSWORD,
        accept_electronic_records=True,
    )
    set_business_date(date(2026, 1, 15))
    loan = board_loan(
        terms=BoardingTerms(
            origination_reference="APP-MONEY-1",
            customer_id=borrower.pk,
            product_id=product.pk,
            principal=D("5709.11"),
            annual_rate=D("0.1299"),
            term=24,
            disbursement_date=date(2026, 1, 15),
        )
    )
    first = loan.installments.get(number=1)
    set_business_date(date(2026, 2, 15))
    paid = post_payment(
        loan=loan,
        amount=first.principal_due + first.interest_due,
        received_on=date(2026, 2, 15),
        method="ach",
        channel="staff",
    ).payment
    set_business_date(date(2026, 3, 20))
    keyed_twice = post_payment(
        loan=loan,
        amount=D("1250.50"),
        received_on=date(2026, 3, 10),
        method="check",
        channel="staff",
    ).payment
    reverse_payment(payment=keyed_twice, reason="posting_error")
    assess_late_fees(loan=loan, business_date=date(2026, 3, 26))
    set_business_date(date(2026, 4, 2))
    statement = generate_statement(loan=loan, statement_date=date(2026, 4, 1))
    quote = payoff_quote(loan=loan, good_through=date(2026, 4, 10))
    loan.refresh_from_db()
    return {
        "loan": loan,
        "borrower": borrower,
        "paid": paid,
        "reversed": keyed_twice,
        "statement": statement,
        "quote": quote,
    }
