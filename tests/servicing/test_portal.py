"""The borrower portal for funded loans: access (a second borrower gets 404
everywhere), one-time payments through the test gateway, autopay, payoff
quotes and help requests, all built through the real services."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from customers import services as customer_services
from rails import gateway
from servicing.boarding import BoardingTerms, board_loan
from servicing.models import AutopayAuthorization, JournalEntry, LoanEvent, Payment
from servicing.services.payments import post_payment
from servicing.services.statements import generate_statement
from servicing.views import portal as portal_views
from tests.conftest import make_staff
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
ROUTING = "011000015"  # a valid ABA routing number (Federal Reserve Bank of Boston)


def make_borrower(email: str, first_name: str = "Bo"):
    return customer_services.register_borrower(
        first_name=first_name,
        last_name="Rower",
        email=email,
        date_of_birth=date(1990, 5, 17),
        password="a-long-borrower-pass-1",
        accept_electronic_records=True,
    )


def board(product, customer, reference: str):
    set_business_date(date(2026, 1, 15))
    return board_loan(
        terms=BoardingTerms(
            origination_reference=reference,
            customer_id=customer.pk,
            product_id=product.pk,
            principal=Decimal("1200.00"),
            annual_rate=Decimal("0.12"),
            term=12,
            disbursement_date=date(2026, 1, 15),
        )
    )


def client_for(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


@pytest.fixture
def borrower(db):
    return make_borrower("bo@example.com")


@pytest.fixture
def loan(product, borrower):
    return board(product, borrower, "APP-P1")


@pytest.fixture
def client(borrower):
    return client_for(borrower)


def counts() -> tuple[int, int, int]:
    return (Payment.objects.count(), LoanEvent.objects.count(), JournalEntry.objects.count())


def pay_data(amount, card=GOOD_CARD, nonce="tok-1", **extra):
    return {
        "amount": str(amount),
        "method": "card",
        "card_number": card,
        "exp_month": "12",
        "exp_year": "2030",
        "cvc": "123",
        "token": nonce,
        **extra,
    }


# --- access ------------------------------------------------------------------------


def _routes(loan, payment, statement):
    return {
        "loan-detail": ([loan.pk], ""),
        "loan-pay": ([loan.pk], ""),
        "loan-payment": ([loan.pk, payment.pk], ""),
        "loan-autopay": ([loan.pk], ""),
        "loan-payoff": ([loan.pk], "?good_through=2026-02-20"),
        "loan-payoff-pdf": ([loan.pk], "?good_through=2026-02-20"),
        "loan-statement-pdf": ([loan.pk, statement.pk], ""),
        "loan-help": ([loan.pk], ""),
    }


def test_every_loan_route_is_the_owners_only(product, borrower, loan, client, staff_client):
    set_business_date(date(2026, 2, 15))
    payment = post_payment(
        loan=loan,
        amount=Decimal("50.00"),
        received_on=date(2026, 2, 10),
        method="ach",
        channel="staff",
    ).payment
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    other = make_borrower("eve@example.com", "Eve")
    other_loan = board(product, other, "APP-P2")
    set_business_date(date(2026, 2, 15))
    intruder = client_for(other)
    anonymous = Client()
    staff, _ = staff_client("servicing_agent")

    routes = _routes(loan, payment, statement)
    names = {p.name for p in portal_views.portal_patterns}
    assert names - {"loans"} == set(routes)  # every loan route is covered
    for name, (args, query) in routes.items():
        url = reverse(f"portal:{name}", args=args) + query
        assert client.get(url).status_code == 200, name
        assert intruder.get(url).status_code == 404, name
        assert intruder.post(url, pay_data("10.00")).status_code in (404, 405), name
        response = anonymous.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("portal:login")), name
        assert staff.get(url).status_code == 403, name
    # The intruder's own list shows only their loan.
    page = intruder.get(reverse("portal:loans")).content.decode()
    assert other_loan.loan_number in page and loan.loan_number not in page
    # The POST attempts wrote nothing on the first borrower's loan.
    assert loan.payments.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="service_request").exists()


def test_loan_pages_show_balances_schedule_and_transactions(loan, client):
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan,
        amount=Decimal("106.62"),
        received_on=date(2026, 2, 15),
        method="ach",
        channel="staff",
    )
    listing = client.get(reverse("portal:loans")).content.decode()
    assert loan.loan_number in listing
    page = client.get(reverse("portal:loan-detail", args=[loan.pk])).content.decode()
    assert 'data-status="paid"' in page
    assert "106.62" in page


# --- payments ----------------------------------------------------------------------


def test_card_payment_posts_through_the_gateway(loan, client):
    set_business_date(date(2026, 2, 15))
    loan.refresh_from_db()
    first = loan.installments.get(number=1)
    due = loan.next_due_amount
    assert due == first.principal_due + first.interest_due
    # The form offers the next due amount.
    form = client.get(reverse("portal:loan-pay", args=[loan.pk]))
    assert form.context["form"].initial["amount"] == due

    response = client.post(reverse("portal:loan-pay", args=[loan.pk]), pay_data(due))

    payment = Payment.objects.get(loan=loan)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:loan-payment", args=[loan.pk, payment.pk])
    assert (payment.amount, payment.method, payment.channel) == (due, "card", "portal")
    assert payment.received_on == date(2026, 2, 15)
    assert payment.created_by == loan.customer.user
    assert "4242" in payment.reference and "4242 4242" not in payment.reference
    loan.refresh_from_db()
    assert loan.principal_balance == Decimal("1200.00") - first.principal_due
    assert loan.interest_balance == Decimal("0.00")

    receipt = client.get(response["Location"])
    assert receipt.context["split"]["principal"] == first.principal_due
    assert receipt.context["split"]["interest"] == first.interest_due
    assert receipt.context["balances"].principal == Decimal("1200.00") - first.principal_due
    assert f"{Decimal('1200.00') - first.principal_due:,}" in receipt.content.decode()


def test_declined_card_writes_nothing(loan, client):
    set_business_date(date(2026, 2, 15))
    before = counts()
    response = client.post(
        reverse("portal:loan-pay", args=[loan.pk]), pay_data("106.62", card=DECLINED_CARD)
    )
    assert response.status_code == 400
    assert "declined" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"card_number": "4242 4242 4242 4241"}, "card_number"),  # fails Luhn
        ({"exp_year": "2025"}, "exp_year"),  # expired
        ({"cvc": "12"}, "cvc"),
        ({"amount": "0"}, "amount"),
        ({"amount": "5000.00"}, "amount"),  # above the payoff amount
        ({"method": "ach", "routing_number": "123456789"}, "routing_number"),
    ],
)
def test_bad_payment_input_is_a_form_error(loan, client, changes, field):
    set_business_date(date(2026, 2, 15))
    before = counts()
    response = client.post(
        reverse("portal:loan-pay", args=[loan.pk]), {**pay_data("106.62"), **changes}
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert counts() == before


def test_bank_payment_posts_as_ach(loan, client):
    set_business_date(date(2026, 2, 15))
    data = {
        "amount": "40.00",
        "method": "ach",
        "routing_number": ROUTING,
        "account_number": "000123456789",
        "account_type": "checking",
        "token": "tok-bank",
    }
    response = client.post(reverse("portal:loan-pay", args=[loan.pk]), data)
    assert response.status_code == 302
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.method) == (Decimal("40.00"), "ach")
    assert "6789" in payment.reference and "123456789" not in payment.reference


def test_double_submit_posts_once(loan, client):
    set_business_date(date(2026, 2, 15))
    url = reverse("portal:loan-pay", args=[loan.pk])
    first = client.post(url, pay_data("106.62", nonce="same"))
    second = client.post(url, pay_data("106.62", nonce="same"))
    assert Payment.objects.filter(loan=loan).count() == 1
    assert first["Location"] == second["Location"]
    loan.refresh_from_db()
    principal = loan.principal_balance
    client.post(url, pay_data("10.00", nonce="another"))
    loan.refresh_from_db()
    assert Payment.objects.filter(loan=loan).count() == 2
    assert loan.principal_balance == principal - Decimal("10.00")


def test_closed_loan_takes_no_portal_payment(loan, client):
    set_business_date(date(2026, 1, 15))
    client.post(reverse("portal:loan-pay", args=[loan.pk]), pay_data("1200.00", nonce="full"))
    loan.refresh_from_db()
    assert loan.state == "paid_off"
    before = counts()
    response = client.post(reverse("portal:loan-pay", args=[loan.pk]), pay_data("5.00"))
    assert response.status_code == 302
    assert counts() == before


# --- autopay -----------------------------------------------------------------------


def test_autopay_setup_records_authorisation_and_ip(loan, client):
    page = client.get(reverse("portal:loan-autopay", args=[loan.pk])).content.decode()
    assert "I authorize" in page and loan.loan_number in page
    response = client.post(
        reverse("portal:loan-autopay", args=[loan.pk]),
        {
            "routing_number": ROUTING,
            "account_number": "000123456789",
            "account_type": "checking",
            "agree": "on",
        },
        HTTP_USER_AGENT="PortalTest/1.0",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    auth = AutopayAuthorization.objects.get(loan=loan, active=True)
    assert auth.authorization_text_version == "2026-01"
    assert auth.ip_address == "203.0.113.9"
    assert auth.user_agent == "PortalTest/1.0"
    assert auth.channel == "portal"
    assert auth.account_last4 == "6789"
    assert auth.created_by == loan.customer.user

    client.post(reverse("portal:loan-autopay", args=[loan.pk]), {"action": "cancel"})
    auth.refresh_from_db()
    assert not auth.active and auth.revoked_by == loan.customer.user


def test_autopay_needs_the_checkbox_and_a_valid_account(loan, client):
    url = reverse("portal:loan-autopay", args=[loan.pk])
    data = {"routing_number": ROUTING, "account_number": "000123456789", "account_type": "checking"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "agree" in response.context["form"].errors
    response = client.post(url, {**data, "routing_number": "123456789", "agree": "on"})
    assert response.status_code == 400
    assert "routing_number" in response.context["form"].errors
    assert not AutopayAuthorization.objects.exists()


# --- payoff ------------------------------------------------------------------------


def test_payoff_quote_exact_figures_and_pdf(loan, client):
    url = reverse("portal:loan-payoff", args=[loan.pk])
    response = client.get(url, {"good_through": "2026-01-30"})
    assert response.status_code == 200
    items = response.context["items"]
    assert items["total"] == Decimal("1206.00")
    assert items["principal"] == Decimal("1200.00")
    assert items["interest_accrued"] == Decimal("6.00")
    assert items["per_diem"] == Decimal("0.40")
    page = response.content.decode()
    assert "1,206.00" in page and "0.40" in page

    pdf = client.get(
        reverse("portal:loan-payoff-pdf", args=[loan.pk]), {"good_through": "2026-01-30"}
    )
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize("good_through", ["2026-01-14", "2026-02-15", "not-a-date"])
def test_payoff_date_outside_the_window_is_refused(loan, client, good_through):
    response = client.get(
        reverse("portal:loan-payoff", args=[loan.pk]), {"good_through": good_through}
    )
    assert response.status_code == 400
    assert "good_through" in response.context["form"].errors
    assert response.context["items"] is None


# --- help --------------------------------------------------------------------------


def test_help_request_is_audited_on_the_loan(loan, client):
    url = reverse("portal:loan-help", args=[loan.pk])
    before = AuditEvent.objects.count()
    response = client.post(url, {"kind": "hardship", "message": "  "})
    assert response.status_code == 400
    assert AuditEvent.objects.count() == before

    response = client.post(url, {"kind": "hardship", "message": "I lost my job in March."})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="service_request.hardship")
    assert (event.object_type, event.object_id) == ("servicing.loan", str(loan.pk))
    assert event.metadata["message"] == "I lost my job in March."
    assert event.actor_id == loan.customer.user.pk
    # Servicing staff see it in the loan's history.
    staff = make_staff("servicing_agent")
    staff_client = Client()
    staff_client.force_login(staff)
    history = staff_client.get(reverse("servicing:loan-detail", args=[loan.pk]), {"tab": "history"})
    text = history.content.decode()
    assert "service_request.hardship" in text and "I lost my job in March." in text


# --- gateway -----------------------------------------------------------------------


def test_test_gateway_is_deterministic():
    gw = gateway.get_gateway()
    card = gateway.Card(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123")
    first = gw.charge(amount=Decimal("10.00"), reference="r1", card=card)
    assert first.approved and first.transaction_id.startswith("test_ch_")
    assert gw.charge(amount=Decimal("10.00"), reference="r1", card=card) == first
    declined = gw.charge(
        amount=Decimal("10.00"),
        reference="r2",
        card=gateway.Card(number="4000000000000002", exp_month=12, exp_year=2030, cvc="123"),
    )
    assert not declined.approved and "declined" in declined.message
    assert gateway.card_errors(
        number="4242424242424241", exp_month=12, exp_year=2030, cvc="123", today=date(2026, 1, 1)
    ) == {"card_number": ["Enter a valid card number."]}


def test_unknown_gateway_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PAYMENT_GATEWAY = "nope"
    with pytest.raises(ImproperlyConfigured):
        gateway.get_gateway()


def test_portal_home_lists_the_borrowers_loans(loan, client):
    page = client.get("/portal/").content.decode()
    assert loan.loan_number in page
    assert f"/portal/loans/{loan.pk}/" in page
    assert "next payment $106.62 due Feb 15" in page


# --- co-borrowers ----------------------------------------------------------------------


def test_a_co_borrower_has_every_loan_route_and_a_third_borrower_none(
    product, borrower, client, staff_client
):
    """Boarded with a co-borrower, the loan is theirs in the portal too (read,
    pay, statements, payoff quote, help); a third borrower who is no party
    of it gets 404 everywhere and writes nothing."""
    from servicing.boarding import BoardingParty

    co = make_borrower("cody@example.com", "Cody")
    set_business_date(date(2026, 1, 15))
    loan = board_loan(
        terms=BoardingTerms(
            origination_reference="APP-P-JOINT",
            customer_id=borrower.pk,
            product_id=product.pk,
            principal=Decimal("1200.00"),
            annual_rate=Decimal("0.12"),
            term=12,
            disbursement_date=date(2026, 1, 15),
            parties=(BoardingParty(customer_id=co.pk, role="co_borrower"),),
        )
    )
    set_business_date(date(2026, 2, 15))
    co_client = client_for(co)
    # The co-borrower pays from their own portal.
    response = co_client.post(reverse("portal:loan-pay", args=[loan.pk]), pay_data("106.62"))
    assert response.status_code == 302
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.created_by) == (Decimal("106.62"), co.user)
    statement = generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    third = client_for(make_borrower("eve@example.com", "Eve"))
    before = counts()

    for name, (args, query) in _routes(loan, payment, statement).items():
        url = reverse(f"portal:{name}", args=args) + query
        assert client.get(url).status_code == 200, name
        assert co_client.get(url).status_code == 200, name
        assert third.get(url).status_code == 404, name
        assert third.post(url, pay_data("10.00", nonce="eve")).status_code in (404, 405), name
    assert counts() == before
    assert not AuditEvent.objects.filter(action__startswith="service_request").exists()
    # Both borrowers list it (and their home page links it); the third does not.
    for who in (client, co_client):
        assert loan.loan_number in who.get(reverse("portal:loans")).content.decode()
        assert loan.loan_number in who.get(reverse("portal:home")).content.decode()
    assert loan.loan_number not in third.get(reverse("portal:loans")).content.decode()
    assert loan.loan_number not in third.get(reverse("portal:home")).content.decode()
    # The loan page names both borrowers; the payoff letter does too.
    page = co_client.get(reverse("portal:loan-detail", args=[loan.pk])).content.decode()
    assert "Bo Rower<br>Cody Rower" in page
    letter = co_client.get(
        reverse("portal:loan-payoff-pdf", args=[loan.pk]) + "?good_through=2026-02-20"
    )
    from tests.servicing.test_loan_parties import pdf_text

    text = pdf_text(letter.content)
    assert "Bo Rower" in text and "Cody Rower" in text
    # A help request by the co-borrower is on the loan, seen by both borrowers.
    co_client.post(
        reverse("portal:loan-help", args=[loan.pk]),
        {"kind": "hardship", "message": "Lost my job."},
    )
    request = loan.service_requests.get()
    assert request.customer == co  # who asked
    for who in (client, co_client):
        page = who.get(reverse("portal:loan-detail", args=[loan.pk])).content.decode()
        assert f'data-request="{request.pk}"' in page
        detail = who.get(reverse("portal:loan-request", args=[loan.pk, request.pk]))
        assert detail.status_code == 200 and "Lost my job." in detail.content.decode()
    assert third.get(reverse("portal:loan-request", args=[loan.pk, request.pk])).status_code == 404
