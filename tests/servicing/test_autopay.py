"""Autopay: authorisations, the daily collection run and its NACHA file,
ACH returns, and the staff pages."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from core.crypto import decrypt
from core.exceptions import Conflict, ValidationFailed
from rails import nacha
from servicing.models import AchBatchFile, AchEntry, AutopayAuthorization, LoanEvent, Payment
from servicing.services import autopay
from servicing.tasks import collect_autopay_task
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal
ACH = {
    "ACH_DESTINATION_ROUTING": "011000015",
    "ACH_DESTINATION_NAME": "Federal Reserve Bank",
    "ACH_ODFI_ROUTING": "021000021",
    "ACH_ORIGIN_NAME": "Acme Lending",
    "ACH_COMPANY_NAME": "Acme Lending",
    "ACH_COMPANY_ID": "1234567890",
}
DUE = date(2026, 2, 15)


@pytest.fixture(autouse=True)
def _ach_settings():
    with override_settings(**ACH):
        yield


def authorize(loan, **kw):
    return autopay.set_up_autopay(
        loan=loan,
        routing=kw.pop("routing", "122000247"),
        account=kw.pop("account", "000123456789"),
        account_type=kw.pop("account_type", "checking"),
        authorization_text_version="2026-01",
        ip_address="203.0.113.9",
        user_agent="pytest",
        channel="staff",
        **kw,
    )


def test_authorisation_is_recorded_encrypted_and_one_per_loan(make_loan):
    loan = make_loan()
    first = authorize(loan)
    assert first.account_last4 == "6789"
    assert "000123456789" not in first.account_number_encrypted
    assert decrypt(first.account_number_encrypted) == "000123456789"
    second = authorize(loan, account="55554444", account_type="savings")
    first.refresh_from_db()
    assert (first.active, first.revoked_reason) == (False, "Replaced by a new authorisation")
    assert AutopayAuthorization.objects.filter(loan=loan, active=True).get() == second
    cancelled = autopay.cancel_autopay(loan=loan, reason="Borrower asked")
    assert cancelled.pk == second.pk and not cancelled.active
    assert autopay.cancel_autopay(loan=loan) is None


def test_invalid_routing_number_is_refused_and_writes_nothing(make_loan):
    loan = make_loan()
    with pytest.raises(ValidationFailed) as exc:
        authorize(loan, routing="122000248", account="12")
    assert set(exc.value.fields) == {"routing_number", "account_number"}
    assert AutopayAuthorization.objects.count() == 0


def test_collection_posts_one_payment_per_due_loan_and_rerun_is_a_noop(make_loan):
    due = make_loan("APP-1")
    other = make_loan("APP-2", principal="2400.00")
    not_enrolled = make_loan("APP-3")
    authorize(due)
    authorize(other, routing="011000015", account="99887766", account_type="savings")
    set_business_date(DUE)

    result = autopay.collect_autopay(business_date=DUE)

    assert len(result.posted) == 2 and result.skipped == []
    payments = Payment.objects.filter(channel="autopay").order_by("loan_id")
    assert [(p.loan_id, p.amount, p.received_on, p.method) for p in payments] == [
        (due.pk, D("106.62"), DUE, "ach"),
        (other.pk, D("213.24"), DUE, "ach"),
    ]
    assert (
        payments[0].idempotency_key == f"autopay:{due.autopay_authorizations.get().pk}:2026-02-15"
    )
    assert not Payment.objects.filter(loan=not_enrolled).exists()
    due.refresh_from_db()
    assert due.installments.get(number=1).status == "paid"

    batch = result.file
    assert (batch.entry_count, batch.total_amount, batch.file_id_modifier) == (2, D("319.86"), "A")
    lines = batch.content.splitlines()
    assert len(lines) == 10 and all(len(line) == 94 for line in lines)
    first, second = lines[2], lines[3]
    assert first[1:3] == "27" and first[3:12] == "122000247"
    assert first[12:29] == "000123456789     " and first[29:39] == "0000010662"
    assert first[39:54] == due.loan_number.ljust(15)
    assert first[54:76] == "DANA RIVERA".ljust(22)
    assert second[1:3] == "37" and second[29:39] == "0000021324"
    # hash 12200024 + 01100001; total 319.86
    assert lines[4][4:32] == "000002" + "0013300025" + "000000031986"
    traces = list(AchEntry.objects.order_by("id").values_list("trace_number", flat=True))
    assert traces == [first[79:94], second[79:94]]
    assert all(t.startswith("02100002") for t in traces)

    counts = (Payment.objects.count(), AchEntry.objects.count(), AchBatchFile.objects.count())
    again = autopay.collect_autopay(business_date=DUE)
    assert (again.posted, again.file) == ([], None)  # the instalments are paid now
    assert (
        Payment.objects.count(),
        AchEntry.objects.count(),
        AchBatchFile.objects.count(),
    ) == counts
    # the Celery task is the same call
    assert collect_autopay_task(DUE.isoformat())["posted"] == 0


def test_nothing_is_collected_on_a_day_without_a_due_instalment(make_loan):
    authorize(make_loan())
    set_business_date(date(2026, 2, 16))
    result = autopay.collect_autopay(business_date=date(2026, 2, 16))
    assert (result.posted, result.file) == ([], None)
    assert AchBatchFile.objects.count() == 0


def test_fixed_amount_rule_debits_the_fixed_amount(make_loan):
    loan = make_loan()
    authorize(loan, fixed_amount=D("150.00"))
    set_business_date(DUE)
    result = autopay.collect_autopay(business_date=DUE)
    assert result.posted[0].amount == D("150.00")


def test_collection_refuses_without_ach_configuration(make_loan):
    authorize(make_loan())
    set_business_date(DUE)
    with override_settings(ACH_COMPANY_ID=""), pytest.raises(Conflict) as exc:
        autopay.collect_autopay(business_date=DUE)
    assert exc.value.code == "ach_not_configured"
    assert Payment.objects.count() == 0


def _returns(entries, code="R01"):
    return nacha.build_return_file(
        origin=autopay.ach_origin(),
        returns=[(e.trace_number, code, int(e.amount * 100), "checking", "x") for e in entries],
        created_at=datetime(2026, 2, 18, 9, 0),
        rdfi_routing="122000247",
    )


def test_ach_return_reverses_the_payment_with_the_nsf_fee_once(make_loan):
    loan = make_loan()
    authorize(loan)
    set_business_date(DUE)
    autopay.collect_autopay(business_date=DUE)
    entry = AchEntry.objects.get()
    set_business_date(date(2026, 2, 18))
    text = _returns([entry])
    unknown = nacha.build_return_file(
        origin=autopay.ach_origin(),
        returns=[("021000029999999", "R02", 500, "savings", "x")],
        created_at=datetime(2026, 2, 18, 9, 0),
        rdfi_routing="122000247",
    )

    result = autopay.import_ach_returns(text=text, filename="returns.ach")

    assert [r["return_code"] for r in result.reversed] == ["R01"]
    entry.refresh_from_db()
    assert (entry.status, entry.return_code, entry.returned_on) == (
        "returned",
        "R01",
        date(2026, 2, 18),
    )
    payment = entry.payment
    payment.refresh_from_db()
    assert (payment.status, payment.reversal_reason) == ("reversed", "ach_return")
    fee = LoanEvent.objects.get(loan=loan, kind="fee")
    assert (fee.amount, fee.effective_date) == (D("30.00"), date(2026, 2, 18))
    loan.refresh_from_db()
    assert loan.fees_balance == D("30.00")
    assert loan.principal_balance == D("1200.00")

    # re-running the due date does not debit the returned instalment again
    rerun = autopay.collect_autopay(business_date=DUE)
    assert (rerun.posted, rerun.already, rerun.file) == ([], 1, None)

    events = LoanEvent.objects.count()
    second = autopay.import_ach_returns(text=text)
    assert (second.reversed, len(second.already)) == ([], 1)
    assert LoanEvent.objects.count() == events

    third = autopay.import_ach_returns(text=unknown)
    assert [u["trace_number"] for u in third.unmatched] == ["021000029999999"]
    assert third.run.rejected == 1
    assert LoanEvent.objects.count() == events


def test_malformed_return_file_writes_nothing(make_loan):
    with pytest.raises(ValidationFailed):
        autopay.import_ach_returns(text="not a nacha file")
    assert not AchEntry.objects.filter(status="returned").exists()


# --- pages -----------------------------------------------------------------


def test_autopay_page_sets_up_and_shows_form_errors(make_loan, staff_client):
    loan = make_loan()
    client, _user = staff_client("servicing_agent")
    url = reverse("servicing:autopay", args=[loan.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "I authorize" in page.content.decode()

    bad = client.post(
        url,
        {
            "routing_number": "122000248",
            "account_number": "123456789",
            "account_number_confirm": "123456789",
            "account_type": "checking",
            "amount_rule": "scheduled",
            "borrower_agreed": "on",
        },
    )
    assert bad.status_code == 200
    assert "valid 9-digit ABA routing number" in bad.content.decode()
    assert AutopayAuthorization.objects.count() == 0

    good = client.post(
        url,
        {
            "routing_number": "122000247",
            "account_number": "123456789",
            "account_number_confirm": "123456789",
            "account_type": "checking",
            "amount_rule": "scheduled",
            "borrower_agreed": "on",
        },
    )
    assert good.status_code == 302
    auth = AutopayAuthorization.objects.get()
    assert (auth.channel, auth.account_last4, auth.created_by) == ("staff", "6789", _user)

    cancel = client.post(reverse("servicing:autopay-cancel", args=[loan.pk]), {"reason": "asked"})
    assert cancel.status_code == 302
    auth.refresh_from_db()
    assert not auth.active


def test_ach_files_page_collects_and_downloads(make_loan, staff_client):
    loan = make_loan()
    authorize(loan)
    set_business_date(DUE)
    client, _ = staff_client("servicing_agent")
    assert client.get(reverse("servicing:ach-files")).status_code == 200
    response = client.post(reverse("servicing:ach-files-collect"))
    assert response.status_code == 302
    batch = AchBatchFile.objects.get()
    download = client.get(reverse("servicing:ach-file-download", args=[batch.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
    assert download.content.decode() == batch.content
