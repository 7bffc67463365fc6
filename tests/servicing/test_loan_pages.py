"""Staff loan pages: list, loan page tabs, posting and reversing payments,
permissions and not-found."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import AuditEvent
from servicing.models import JournalEntry, LoanEvent, Payment, Posting
from servicing.services.payments import post_payment, reverse_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, on, **kw):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff", **kw
    ).payment


def text(response) -> str:
    """The page's visible text, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def detail(loan, tab=None):
    url = reverse("servicing:loan-detail", args=[loan.pk])
    return f"{url}?tab={tab}" if tab else url


def counts():
    return (
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
    )


@pytest.fixture
def agent(staff_client):
    client, _ = staff_client("servicing_agent")
    return client


def test_list_searches_and_filters(agent, make_loan):
    loan = make_loan()
    page = agent.get(reverse("servicing:loan-list"))
    assert page.status_code == 200
    body = text(page)
    assert f"{loan.loan_number} Personal installment loan Dana Rivera" in body
    assert "Active 1,200.00 0 Feb 15, 2026 106.62" in body
    assert "1 loan " in body
    assert loan.loan_number in text(agent.get(reverse("servicing:loan-list"), {"q": "rivera"}))
    none = text(agent.get(reverse("servicing:loan-list"), {"q": "rivera", "state": "paid_off"}))
    assert "0 loans found" in none and "No loans match" in none
    late = text(agent.get(reverse("servicing:loan-list"), {"dpd_min": 1}))
    assert "0 loans found" in late
    partial = agent.get(
        reverse("servicing:loan-list"),
        {"q": loan.loan_number},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    assert "<html" not in partial.content.decode() and loan.loan_number in text(partial)


def test_loan_page_summary_terms_and_balances(agent, make_loan):
    loan = make_loan(underwriting_notes="Stable income; DTI 28%.")
    body = text(agent.get(detail(loan)))
    assert "Interest rate 12%" in body
    assert "APR 12.00% Finance charge 79.42 Total of payments 1,279.42" in body
    assert (
        "Principal 1,200.00 Interest due 0.00 Fees 0.00 Penalties 0.00 Unapplied credit 0.00 "
        "Overpayment 0.00 Net owed 1,200.00" in body
    )
    assert "Next due 106.62 on Feb 15, 2026" in body
    # schedule tab (the default)
    assert "1 Feb 15, 2026 94.62 12.00 0.00 106.62 0.00 106.62 Not due" in body
    assert "12 Jan 15, 2027 105.54 1.06 0.00 106.60 0.00 106.60 Not due" in body
    assert "Post payment" in body
    docs = text(agent.get(detail(loan, "documents")))
    assert "Stable income; DTI 28%." in docs
    history = text(agent.get(detail(loan, "history")))
    assert "loan.boarded" in history


def test_transactions_show_the_reapplied_split_after_backdating_and_reversal(agent, make_loan):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    march = pay(loan, "106.62", date(2026, 3, 16))
    feb = pay(loan, "106.62", date(2026, 2, 15))  # backdated
    body = text(agent.get(detail(loan, "transactions")))
    # the March payment now pays instalment 2; February pays instalment 1
    assert (
        "Mar 16, 2026 Payment ACH · Staff" in body
        and "106.62 Posted Re-applied Interest #2: 11.05 Principal #2: 95.57 Reverse" in body
    )
    assert "106.62 Posted Interest #1: 12.00 Principal #1: 94.62 Reverse" in body

    reverse_payment(payment=feb, reason="posting_error")
    response = agent.get(detail(loan, "transactions"))
    body = text(response)
    # March moved back to instalment 1; February applies nothing now
    assert "106.62 Posted Re-applied Interest #1: 12.00 Principal #1: 94.62 Reverse" in body
    assert "106.62 Reversed Posting error Re-applied Nothing (reversed)" in body
    assert "of the payment of 106.62 on Feb 15, 2026 · Posting error" in body
    html = response.content.decode()
    assert reverse("servicing:payment-reverse", args=[loan.pk, march.pk]) in html
    assert reverse("servicing:payment-reverse", args=[loan.pk, feb.pk]) not in html
    summary = text(agent.get(detail(loan)))
    assert "Principal 1,105.38 Interest due 11.05" in summary
    ledger = text(agent.get(detail(loan, "ledger")))
    assert "Re-application after a backdated change event:" in ledger
    assert "Reversal event:" in ledger


def test_post_payment_form_happy_path(agent, make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    url = reverse("servicing:payment-new", args=[loan.pk])
    form = agent.get(url)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="2026-02-15"' in html  # defaults to the business date
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    data = {
        "amount": "106.62",
        "received_on": "2026-02-15",
        "method": "check",
        "reference": "CHK 1001",
        "excess": "prepayment",
        "token": token,
    }
    response = agent.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == detail(loan, "transactions")
    body = text(response)
    assert (
        "Payment of 106.62 received Feb 15, 2026 posted: 12.00 interest (#1), "
        "94.62 principal (#1)." in body
    )
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.method, payment.channel, payment.reference) == (
        D("106.62"),
        "check",
        "staff",
        "CHK 1001",
    )
    loan.refresh_from_db()
    assert loan.principal_balance == D("1105.38")
    # a double submit of the same form posts nothing more
    before = counts()
    again = text(agent.post(url, data, follow=True))
    assert "Payment of 106.62 was already posted." in again
    assert counts() == before


def test_backdated_payment_flash_says_later_payments_were_reapplied(agent, make_loan):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    pay(loan, "106.62", date(2026, 3, 16))
    response = agent.post(
        reverse("servicing:payment-new", args=[loan.pk]),
        {
            "amount": "106.62",
            "received_on": "2026-02-15",
            "method": "ach",
            "excess": "prepayment",
            "token": "b" * 32,
        },
        follow=True,
    )
    assert (
        "posted: 12.00 interest (#1), 94.62 principal (#1). "
        "Backdated: 1 later transaction was re-applied." in text(response)
    )


@pytest.mark.parametrize(
    ("amount", "received_on", "field", "message"),
    [
        ("0", "2026-02-15", "amount", "Enter an amount greater than zero."),
        ("-5.00", "2026-02-15", "amount", "Enter an amount greater than zero."),
        ("10.001", "2026-02-15", "amount", "Enter whole cents."),
        ("abc", "2026-02-15", "amount", "Enter a number."),
        (
            "50.00",
            "2026-02-16",
            "received_on",
            "A payment cannot be dated after today&#x27;s business date 2026-02-15.",
        ),
        ("50.00", "2026-01-01", "received_on", "The loan was disbursed on 2026-01-15."),
    ],
)
def test_post_payment_form_errors_write_nothing(
    agent, make_loan, amount, received_on, field, message
):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    before = counts()
    response = agent.post(
        reverse("servicing:payment-new", args=[loan.pk]),
        {
            "amount": amount,
            "received_on": received_on,
            "method": "cash",
            "excess": "prepayment",
            "token": "a" * 32,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<small class="error" id="id_{field}_error">{message}</small>' in html
    assert counts() == before


def test_reverse_confirm_and_post(agent, make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    payment = pay(loan, "106.62", date(2026, 2, 15))
    url = reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])
    confirm = agent.get(url)
    assert confirm.status_code == 200
    body = text(confirm)
    assert "Amount 106.62 Received on Feb 15, 2026" in body
    assert "Applied to Interest #1: 12.00 Principal #1: 94.62" in body
    assert "also charges the 30.00 NSF fee" in body
    assert Payment.objects.get(pk=payment.pk).status == "posted"  # GET changes nothing

    before = counts()
    bad = agent.post(url, {"reason": "lost", "note": ""})
    assert bad.status_code == 400 and counts() == before

    response = agent.post(url, {"reason": "nsf", "note": "Returned R01"}, follow=True)
    assert response.redirect_chain[-1][0] == detail(loan, "transactions")
    assert (
        "Payment of 106.62 reversed (Returned: insufficient funds (NSF)). Fees now owed: 30.00."
        in text(response)
    )
    payment.refresh_from_db()
    assert (payment.status, payment.reversal_reason) == ("reversed", "nsf")
    assert payment.reversal_event.details["note"] == "Returned R01"
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.interest_balance, loan.fees_balance) == (
        D("1200.00"),
        D("12.00"),
        D("30.00"),
    )
    assert AuditEvent.objects.filter(action="payment.reversed").count() == 1
    # reversing again: nothing more, a note instead
    again = agent.get(url, follow=True)
    assert "Payment of 106.62 is already reversed." in text(again)
    assert AuditEvent.objects.filter(action="payment.reversed").count() == 1


def test_underwriter_may_view_but_not_post_or_reverse(staff_client, make_loan):
    client, _ = staff_client("underwriter")
    loan = make_loan()
    payment = pay(loan, "50.00", date(2026, 1, 15))
    assert client.get(detail(loan)).status_code == 200
    assert "Post payment" not in text(client.get(detail(loan)))
    assert "Reverse" not in text(client.get(detail(loan, "transactions")))
    before = counts()
    new = reverse("servicing:payment-new", args=[loan.pk])
    assert client.get(new).status_code == 403
    post = {"amount": "10.00", "received_on": "2026-01-15", "method": "cash", "token": "c" * 32}
    assert client.post(new, {**post, "excess": "prepayment"}).status_code == 403
    rev = reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])
    assert client.post(rev, {"reason": "nsf"}).status_code == 403
    assert counts() == before


def test_collections_agent_posts_payments_but_cannot_reverse(staff_client, make_loan):
    client, _ = staff_client("collections_agent")
    loan = make_loan()
    url = reverse("servicing:payment-new", args=[loan.pk])
    response = client.post(
        url,
        {
            "amount": "25.00",
            "received_on": "2026-01-15",
            "method": "card",
            "excess": "unapplied",
            "token": "d" * 32,
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get(loan=loan)
    assert payment.excess == "unapplied"
    loan.refresh_from_db()
    assert loan.unapplied_balance == D("25.00")
    rev = reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])
    assert client.get(rev).status_code == 403


def test_unknown_loan_and_foreign_payment_are_404(agent, make_loan):
    loan = make_loan()
    other = make_loan("APP-2")
    payment = pay(other, "10.00", date(2026, 1, 15))
    assert agent.get(reverse("servicing:loan-detail", args=[other.pk + 100])).status_code == 404
    assert agent.get(reverse("servicing:payment-new", args=[other.pk + 100])).status_code == 404
    wrong = reverse("servicing:payment-reverse", args=[loan.pk, payment.pk])
    assert agent.get(wrong).status_code == 404
    assert agent.post(wrong, {"reason": "nsf"}).status_code == 404
    assert Payment.objects.get(pk=payment.pk).status == "posted"


def test_anonymous_is_sent_to_sign_in(client, make_loan):
    loan = make_loan()
    response = client.get(detail(loan))
    assert response.status_code == 302 and "login" in response["Location"]
