"""A reversal's reason is chosen, never defaulted: the staff form starts
blank and refuses to reverse without one, the API and the service refuse a
missing or blank reason with nothing written, and only an NSF or ACH-return
reason charges the product's NSF fee."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core.exceptions import ValidationFailed
from core.models import AuditEvent
from servicing.models import JournalEntry, LoanEvent, Payment, Posting
from servicing.services.payments import post_payment, reverse_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount="106.62", on=date(2026, 2, 15)):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff"
    ).payment


def written():
    return (
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        AuditEvent.objects.filter(action="payment.reversed").count(),
        tuple(Payment.objects.order_by("pk").values_list("status", "reversal_reason")),
    )


@pytest.fixture
def agent(staff_client):
    client, _ = staff_client("servicing_agent")
    return client


@pytest.fixture
def paid(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    return loan, pay(loan)


def _reason_select(html: str) -> str:
    match = re.search(r'<select name="reason"[^>]*>(.*?)</select>', html, flags=re.S)
    assert match, "no reason select on the page"
    return match.group(1)


def test_the_staff_form_starts_with_no_reason_chosen(agent, paid):
    loan, payment = paid
    html = agent.get(reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])).content
    options = _reason_select(html.decode())
    first = re.search(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', options)
    assert first.group(1) == "" and first.group(2) == "Choose a reason"
    # no real reason is pre-selected, so the browser shows the blank one
    selected = re.findall(r'<option value="([^"]*)"[^>]*selected', options)
    assert selected in ([], [""])
    assert "required" in re.search(r'<select name="reason"[^>]*>', html.decode()).group(0)


@pytest.mark.parametrize("body", [{"note": "keyed twice"}, {"reason": "", "note": "keyed twice"}])
def test_the_staff_form_refuses_a_missing_reason_and_writes_nothing(agent, paid, body):
    loan, payment = paid
    url = reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])
    before = written()
    response = agent.post(url, body)
    assert response.status_code == 400
    assert "Choose why the payment is being reversed." in response.content.decode()
    assert written() == before
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.fees_balance) == (D("1105.38"), D("0.00"))


@pytest.mark.parametrize(
    ("reason", "fee"),
    [("nsf", "30.00"), ("ach_return", "30.00"), ("posting_error", "0.00"), ("chargeback", "0.00")],
)
def test_only_a_returned_payment_charges_the_nsf_fee_from_the_form(agent, paid, reason, fee):
    loan, payment = paid
    url = reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])
    response = agent.post(url, {"reason": reason, "note": ""})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.reversal_reason) == ("reversed", reason)
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.fees_balance) == (D("1200.00"), D(fee))
    nsf_fees = LoanEvent.objects.filter(loan=loan, kind="fee", details__fee_kind="nsf")
    assert nsf_fees.count() == (1 if D(fee) else 0)


def api_reverse(client, loan, payment, body):
    return client.post(
        f"/api/v1/loans/{loan.pk}/payments/{payment.pk}/reverse/",
        body,
        content_type="application/json",
    )


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": None}, {"note": "R01"}])
def test_the_api_refuses_a_missing_reason_and_writes_nothing(staff_client, paid, body):
    loan, payment = paid
    client, _ = staff_client("servicing_agent")
    before = written()
    response = api_reverse(client, loan, payment, body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert set(error) >= {"code", "message", "fields"}
    assert error["code"] == "invalid" and error["message"]
    assert set(error["fields"]) == {"reason"}
    assert written() == before


def test_the_api_charges_no_fee_for_a_posting_error(staff_client, paid):
    loan, payment = paid
    client, _ = staff_client("servicing_agent")
    response = api_reverse(client, loan, payment, {"reason": "posting_error"})
    assert response.status_code == 200, response.content
    assert response.json()["reversal_reason"] == "posting_error"
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.fees_balance) == (D("1200.00"), D("0.00"))


@pytest.mark.parametrize("reason", ["", None, "NSF", "returned"])
def test_the_service_refuses_a_blank_or_unknown_reason_and_writes_nothing(paid, reason):
    _loan, payment = paid
    before = written()
    with pytest.raises(ValidationFailed) as caught:
        reverse_payment(payment=payment, reason=reason)
    assert set(caught.value.fields) == {"reason"}
    assert written() == before
