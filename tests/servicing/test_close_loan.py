"""Closing a loan: a paid-off loan with every balance at zero, or a
charged-off loan whose collection has ended. The service, the staff page
and the API; refusals (a balance or credit left, an active or overpaid loan,
a role without the permission) write nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from servicing.models import JournalEntry, Loan, LoanEvent, Payment, Posting
from servicing.services.chargeoff import charge_off, record_recovery
from servicing.services.closing import close_loan
from servicing.services.payments import post_payment
from servicing.services.payoff import payoff_quote
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import api_key_client, post_json

pytestmark = pytest.mark.django_db
D = Decimal
PAID_OFF_ON = date(2026, 1, 30)


def row_counts():
    return tuple(
        m.objects.count() for m in (Loan, LoanEvent, Payment, JournalEntry, Posting, AuditEvent)
    )


def pay(loan, amount, on=PAID_OFF_ON):
    return post_payment(loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff")


@pytest.fixture
def paid_off_loan(make_loan):
    """1,200 at 12% paid off on Jan 30 with the payoff amount (1,206.00);
    business date Feb 3."""
    loan = make_loan()
    set_business_date(PAID_OFF_ON)
    quote = payoff_quote(loan=loan, good_through=PAID_OFF_ON)
    assert quote.amount == D("1206.00")
    pay(loan, quote.amount)
    set_business_date(date(2026, 2, 3))
    loan.refresh_from_db()
    assert loan.state == "paid_off"
    return loan


def close_events(loan):
    return AuditEvent.objects.filter(action="loan.close", object_id=str(loan.pk))


def assert_unchanged(loan, state, before):
    loan.refresh_from_db()
    assert (loan.state, loan.closed_on) == (state, None)
    assert row_counts() == before
    assert not close_events(loan).exists()


# --- the service ---------------------------------------------------------------------------


def test_paid_off_loan_closes_once(paid_off_loan, staff_client):
    _, agent = staff_client("servicing_agent")
    closed = close_loan(paid_off_loan, acting_user=agent, note="  Lien released  ")
    assert (closed.state, closed.closed_on) == ("closed", date(2026, 2, 3))
    paid_off_loan.refresh_from_db()
    assert (paid_off_loan.state, paid_off_loan.closed_on) == ("closed", date(2026, 2, 3))
    event = close_events(paid_off_loan).get()
    assert event.actor == agent
    assert event.category == "state_change"
    assert event.changes == {"state": ["paid_off", "closed"], "closed_on": [None, "2026-02-03"]}
    assert event.metadata == {"note": "Lien released"}

    # idempotent: a second close, even on a later day, changes and records nothing
    set_business_date(date(2026, 2, 10))
    before = row_counts()
    again = close_loan(paid_off_loan, acting_user=agent)
    assert (again.state, again.closed_on) == ("closed", date(2026, 2, 3))
    assert row_counts() == before

    # a closed loan takes no more money
    with pytest.raises(Conflict) as exc:
        pay(paid_off_loan, "10.00", date(2026, 2, 10))
    assert exc.value.code == "loan_not_payable"
    assert row_counts() == before


def test_refused_while_active_or_overpaid(make_loan, staff_client):
    _, agent = staff_client("servicing_agent")
    active = make_loan("APP-1")
    overpaid = make_loan("APP-2")
    set_business_date(PAID_OFF_ON)
    pay(overpaid, "1221.00")  # the payoff amount plus 15.00
    overpaid.refresh_from_db()
    assert (overpaid.state, overpaid.overpayment_balance) == ("overpaid", D("15.00"))
    before = row_counts()

    with pytest.raises(Conflict) as exc:
        close_loan(active, acting_user=agent)
    assert exc.value.status_code == 409
    assert exc.value.code == "loan_not_closable"
    assert exc.value.message == (
        f"Loan {active.loan_number} is active; only paid-off or charged-off loans are closed."
    )
    assert_unchanged(active, "active", before)

    with pytest.raises(Conflict) as exc:
        close_loan(overpaid, acting_user=agent)
    assert exc.value.code == "loan_balance_remaining"
    assert exc.value.message == (
        f"Loan {overpaid.loan_number} holds a credit balance of 15.00; "
        "refund it before closing the loan."
    )
    assert_unchanged(overpaid, "overpaid", before)


def test_paid_off_loan_with_a_credit_balance_is_refunded_first(paid_off_loan, staff_client):
    _, agent = staff_client("servicing_agent")
    pay(paid_off_loan, "10.00", date(2026, 2, 3))  # money arriving after the payoff
    paid_off_loan.refresh_from_db()
    assert (paid_off_loan.state, paid_off_loan.overpayment_balance) == ("paid_off", D("10.00"))
    before = row_counts()
    with pytest.raises(Conflict) as exc:
        close_loan(paid_off_loan, acting_user=agent)
    assert exc.value.code == "loan_balance_remaining"
    assert exc.value.message == (
        f"Loan {paid_off_loan.loan_number} holds a credit balance (overpayment 10.00); "
        "refund it before closing the loan."
    )
    assert_unchanged(paid_off_loan, "paid_off", before)

    from servicing.services.chargeoff import refund_credit

    refund_credit(loan=paid_off_loan, amount=D("10.00"), user=agent, method_note="check 101")
    paid_off_loan.refresh_from_db()
    assert paid_off_loan.overpayment_balance == D("0.00")
    assert close_loan(paid_off_loan, acting_user=agent).state == "closed"


def test_refusals_for_permission_and_note_write_nothing(paid_off_loan, staff_client):
    _, underwriter = staff_client("underwriter")
    _, agent = staff_client("servicing_agent")
    before = row_counts()
    with pytest.raises(PermissionDenied):
        close_loan(paid_off_loan, acting_user=underwriter)
    with pytest.raises(ValidationFailed) as exc:
        close_loan(paid_off_loan, acting_user=agent, note="x" * 501)
    assert exc.value.fields == {"note": ["At most 500 characters."]}
    assert_unchanged(paid_off_loan, "paid_off", before)


def test_charged_off_loan_closes_and_refuses_recoveries(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    _, manager = staff_client("manager")
    _, agent = staff_client("servicing_agent")
    charge_off(loan=loan, user=manager, reason="No contact")
    record_recovery(loan=loan, amount=D("50.00"), received_on=date(2026, 3, 20), user=manager)

    # closing a charged-off loan ends collection: it needs charge_off_loan too
    before = row_counts()
    with pytest.raises(PermissionDenied):
        close_loan(loan, acting_user=agent)
    assert_unchanged(loan, "charged_off", before)

    set_business_date(date(2026, 4, 1))
    closed = close_loan(loan, acting_user=manager, note="Agency returned the account")
    assert (closed.state, closed.closed_on) == ("closed", date(2026, 4, 1))
    assert close_events(loan).get().changes["state"] == ["charged_off", "closed"]

    before = row_counts()
    with pytest.raises(Conflict) as exc:
        record_recovery(loan=loan, amount=D("25.00"), received_on=date(2026, 4, 1), user=manager)
    assert exc.value.status_code == 409
    assert exc.value.code == "loan_closed"
    assert exc.value.message == (
        f"Loan {loan.loan_number} is closed; collection has ended and no recovery "
        "is recorded on it."
    )
    assert row_counts() == before
    assert LoanEvent.objects.filter(loan=loan, kind="recovery").count() == 1


# --- the staff page ------------------------------------------------------------------------


def test_staff_page_shows_close_only_when_closable_and_posts(
    make_loan, paid_off_loan, staff_client
):
    client, _ = staff_client("servicing_agent")
    underwriter, _ = staff_client("underwriter")
    active = make_loan("APP-2")
    set_business_date(date(2026, 2, 3))
    close_url = reverse("servicing:close", args=[paid_off_loan.pk])
    detail = reverse("servicing:loan-detail", args=[paid_off_loan.pk])

    page = client.get(detail)
    assert page.status_code == 200
    assert close_url.encode() in page.content and b"Close loan" in page.content
    active_page = client.get(reverse("servicing:loan-detail", args=[active.pk]))
    assert reverse("servicing:close", args=[active.pk]).encode() not in active_page.content
    assert close_url.encode() not in underwriter.get(detail).content

    before = row_counts()
    assert underwriter.get(close_url).status_code == 403
    assert underwriter.post(close_url, {}).status_code == 403
    # an active loan: the refusal is shown on the form, nothing written
    refused = client.post(reverse("servicing:close", args=[active.pk]), {"note": "x"})
    assert refused.status_code == 409
    assert b"only paid-off or charged-off loans are closed." in refused.content
    bad = client.post(close_url, {"note": "x" * 501})
    assert bad.status_code == 400
    assert_unchanged(paid_off_loan, "paid_off", before)
    assert_unchanged(active, "active", before)

    form = client.get(close_url)
    assert form.status_code == 200 and b"Close the loan" in form.content
    response = client.post(close_url, {"note": "Lien released"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(detail)
    assert f"Loan {paid_off_loan.loan_number} closed.".encode() in response.content
    paid_off_loan.refresh_from_db()
    assert (paid_off_loan.state, paid_off_loan.closed_on) == ("closed", date(2026, 2, 3))
    assert close_events(paid_off_loan).get().metadata == {"note": "Lien released"}
    # closed now: no more close action on the page
    assert close_url.encode() not in client.get(detail).content


def test_staff_page_closes_a_charged_off_loan(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 3, 20))
    manager, manager_user = staff_client("manager")
    agent, _ = staff_client("servicing_agent")
    charge_off(loan=loan, user=manager_user, reason="Fraud")
    close_url = reverse("servicing:close", args=[loan.pk])
    detail = reverse("servicing:loan-detail", args=[loan.pk])
    assert close_url.encode() in manager.get(detail).content
    assert close_url.encode() not in agent.get(detail).content
    assert agent.post(close_url, {}).status_code == 403
    assert manager.post(close_url, {}).status_code == 302
    loan.refresh_from_db()
    assert (loan.state, loan.closed_on) == ("closed", date(2026, 3, 20))
    recovery = manager.post(
        reverse("servicing:recovery", args=[loan.pk]),
        {"amount": "5.00", "received_on": "2026-03-20"},
    )
    assert recovery.status_code == 409
    assert b"collection has ended" in recovery.content


# --- the API -------------------------------------------------------------------------------


def api_url(pk):
    return f"/api/v1/loans/{pk}/close/"


def test_api_close_conflict_and_permissions(make_loan, paid_off_loan, staff_client):
    agent, _ = staff_client("servicing_agent")
    underwriter, _ = staff_client("underwriter")
    active = make_loan("APP-2")
    set_business_date(date(2026, 2, 3))
    before = row_counts()

    response = post_json(agent, api_url(active.pk), {})
    assert response.status_code == 409
    assert response.json() == {
        "code": "loan_not_closable",
        "message": f"Loan {active.loan_number} is active; "
        "only paid-off or charged-off loans are closed.",
        "fields": {},
    }
    response = post_json(underwriter, api_url(paid_off_loan.pk), {})
    assert response.status_code == 403
    response = post_json(api_key_client("loans:read"), api_url(paid_off_loan.pk), {})
    assert response.status_code == 403
    assert post_json(agent, api_url(999999), {}).status_code == 404
    response = post_json(agent, api_url(paid_off_loan.pk), {"note": "x" * 501})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["note"]
    assert_unchanged(paid_off_loan, "paid_off", before)
    assert_unchanged(active, "active", before)

    response = post_json(agent, api_url(paid_off_loan.pk), {"note": "Done"}, key="close-1")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["closed_on"]) == ("closed", "2026-02-03")
    assert close_events(paid_off_loan).count() == 1
    replay = post_json(agent, api_url(paid_off_loan.pk), {"note": "Done"}, key="close-1")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["state"] == "closed"
    # without a key, closing a closed loan returns it unchanged
    again = post_json(api_key_client("loans:write"), api_url(paid_off_loan.pk), {})
    assert again.status_code == 200
    assert (again.json()["state"], again.json()["closed_on"]) == ("closed", "2026-02-03")
    assert close_events(paid_off_loan).count() == 1


def test_api_schema_describes_close():
    from django.test import Client

    schema = Client().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/loans/{id}/close/"]["post"]
    assert operation["operationId"] == "loans_close"
    assert {"200", "409"} <= set(operation["responses"])
