"""Payment and boarding CSV imports: per-row reports, idempotent re-runs,
the cut-over balance check, and the upload pages."""

import io
import os
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.exceptions import ValidationFailed
from servicing.models import ImportRun, Loan, LoanEvent, Payment
from servicing.services.imports import import_boarding_csv, import_payments_csv
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = "loan_number,amount,received_on,method,reference\n"


def payments_file(first, second):
    return HEADER + (
        f"{first.loan_number},106.62,2026-02-15,ach,REF-1\n"  # line 2: good
        "L-9999999,10.00,2026-02-15,ach,REF-2\n"  # 3: unknown loan
        f"{first.loan_number},abc,2026-02-15,ach,REF-3\n"  # 4: bad amount
        f"{first.loan_number},10.00,2026-03-01,ach,REF-4\n"  # 5: after the business date
        f"{second.loan_number},50.00,2026-02-16,CHECK,\n"  # 6: good, no reference
        f"{second.loan_number},10.00,2026-02-16,bitcoin,REF-5\n"  # 7: bad method
        f"{second.loan_number},-5.00,2026-02-16,cash,REF-6\n"  # 8: negative
        f"{second.loan_number},1.005,2026-02-16,cash,REF-7\n"  # 9: fraction of a cent
    )


def test_payment_import_posts_good_rows_reports_bad_ones_and_rerun_posts_nothing(make_loan):
    first = make_loan("APP-1")
    second = make_loan("APP-2")
    set_business_date(date(2026, 2, 20))
    text = payments_file(first, second)

    result = import_payments_csv(text=text, filename="payments.csv")

    assert [(r["line"], r["loan_number"]) for r in result.accepted] == [
        (2, first.loan_number),
        (6, second.loan_number),
    ]
    assert [(r["line"], r["reason"]) for r in result.rejected] == [
        (3, "Unknown loan 'L-9999999'."),
        (4, "Amount 'abc' is not a number."),
        (5, "received_on 2026-03-01 is after the business date 2026-02-20."),
        (7, "Method 'bitcoin' is not one of cash, check, ach, card."),
        (8, "Amount must be greater than zero."),
        (9, "Amount 1.005 has fractions of a cent."),
    ]
    run = result.run
    assert (run.kind, run.rows, run.accepted, run.duplicates, run.rejected) == (
        "payments",
        8,
        2,
        0,
        6,
    )
    payments = Payment.objects.order_by("id")
    assert [(p.loan_id, p.amount, p.method, p.channel, p.reference) for p in payments] == [
        (first.pk, D("106.62"), "ach", "batch", "REF-1"),
        (second.pk, D("50.00"), "check", "batch", ""),
    ]
    first.refresh_from_db()
    assert first.principal_balance == D("1105.38")

    events = LoanEvent.objects.count()
    again = import_payments_csv(text=text, filename="payments.csv")
    assert again.accepted == []
    assert [r["line"] for r in again.duplicates] == [2, 6]
    assert len(again.rejected) == 6
    assert Payment.objects.count() == 2 and LoanEvent.objects.count() == events
    assert ImportRun.objects.count() == 2


def test_referenced_rows_are_recognised_in_another_file_too(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    import_payments_csv(text=HEADER + f"{loan.loan_number},20.00,2026-02-16,cash,R-9\n")
    # the same payment, now second in a different file with a new one before it
    later = HEADER + (
        f"{loan.loan_number},30.00,2026-02-17,cash,R-10\n"
        f"{loan.loan_number},20.00,2026-02-16,cash,R-9\n"
    )
    result = import_payments_csv(text=later)
    assert [r["line"] for r in result.accepted] == [2]
    assert [r["line"] for r in result.duplicates] == [3]
    assert Payment.objects.count() == 2


def test_a_file_without_the_header_writes_nothing(make_loan):
    make_loan()
    with pytest.raises(ValidationFailed) as exc:
        import_payments_csv(text="loan,amount\nL-1,5\n")
    assert exc.value.fields == {
        "file": ["Missing column(s): loan_number, received_on, method, reference."]
    }
    assert (Payment.objects.count(), ImportRun.objects.count()) == (0, 0)


BOARDING_HEADER = (
    "origination_reference,customer_number,product_code,principal,annual_rate,term,"
    "disbursement_date,first_payment_date,cutover_date,principal_paid,interest_paid\n"
)


def boarding_file(customer):
    c = customer.customer_number
    return BOARDING_HEADER + (
        # 2: two instalments paid: 94.62 + 95.57 principal, 12.00 + 11.05 interest
        f"MIG-1,{c},personal,1200.00,12,12,2026-01-15,2026-02-15,2026-03-15,190.19,23.05\n"
        # 3: nothing paid yet
        f"MIG-2,{c},personal,2400.00,9.5,24,2026-03-01,,2026-03-01,0,0\n"
        # 4: the same total split differently: our schedule disagrees -> rolled back
        f"MIG-3,{c},personal,1200.00,12,12,2026-01-15,2026-02-15,2026-03-15,193.24,20.00\n"
        "MIG-4,C-999999,personal,1000.00,12,12,2026-01-15,,2026-01-15,0,0\n"  # 5
        f"MIG-5,{c},nosuch,1000.00,12,12,2026-01-15,,2026-01-15,0,0\n"  # 6
        f"MIG-6,{c},personal,1000.00,twelve,12,2026-01-15,,2026-01-15,0,0\n"  # 7
        f"MIG-7,{c},personal,1000.00,12,12,2026-01-15,,2026-04-01,0,0\n"  # 8: future cut-over
        f"MIG-8,{c},personal,1000.00,12,12,2026-01-15,,2026-01-15,1500.00,0\n"  # 9
    )


def test_boarding_import_boards_with_paid_history_and_rerun_boards_nothing(product, customer):
    set_business_date(date(2026, 3, 20))
    text = boarding_file(customer)

    result = import_boarding_csv(text=text, filename="migration.csv")

    assert [
        (r["line"], r["origination_reference"], r["principal_balance"]) for r in result.accepted
    ] == [
        (2, "MIG-1", "1009.81"),
        (3, "MIG-2", "2400.00"),
    ]
    rejected = {r["line"]: r["reason"] for r in result.rejected}
    assert sorted(rejected) == [4, 5, 6, 7, 8, 9]
    assert rejected[4] == (
        "After the cut-over payment the principal balance is 1,009.81, not 1,006.76: "
        "the paid split does not match this product's schedule."
    )
    assert rejected[5] == "Unknown customer 'C-999999'."
    assert rejected[6] == "Unknown product 'nosuch'."
    assert rejected[7] == "annual_rate 'twelve' is not a number."
    assert rejected[8] == "cutover_date 2026-04-01 is after the business date 2026-03-20."
    assert rejected[9] == "principal_paid is more than the principal."
    # the rejected row was rolled back whole
    assert set(Loan.objects.values_list("origination_reference", flat=True)) == {"MIG-1", "MIG-2"}

    loan = Loan.objects.get(origination_reference="MIG-1")
    assert (loan.principal, loan.annual_rate, loan.term) == (D("1200.00"), D("0.120000"), 12)
    cutover = Payment.objects.get(loan=loan)
    assert (cutover.amount, cutover.received_on, cutover.channel) == (
        D("213.24"),
        date(2026, 3, 15),
        "batch",
    )
    assert [i.status for i in loan.installments.order_by("number")[:3]] == [
        "paid",
        "paid",
        "not_due",
    ]
    assert loan.days_past_due == 0
    assert Payment.objects.count() == 1  # MIG-2 paid nothing

    counts = (Loan.objects.count(), Payment.objects.count(), LoanEvent.objects.count())
    again = import_boarding_csv(text=text)
    assert again.accepted == []
    assert [r["origination_reference"] for r in again.duplicates] == ["MIG-1", "MIG-2"]
    assert (Loan.objects.count(), Payment.objects.count(), LoanEvent.objects.count()) == counts


# --- pages -----------------------------------------------------------------


def test_payments_import_page_shows_the_row_report(make_loan, staff_client):
    first = make_loan("APP-1")
    second = make_loan("APP-2")
    set_business_date(date(2026, 2, 20))
    client, user = staff_client("servicing_agent")
    url = reverse("servicing:payments-import")
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("payments.csv", payments_file(first, second).encode())
    response = client.post(url, {"file": upload})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unknown loan &#x27;L-9999999&#x27;." in body
    assert "2 accepted, 0 already done, 6 rejected." in body
    run = ImportRun.objects.get()
    assert run.created_by == user
    assert client.get(reverse("servicing:import-run", args=[run.pk])).status_code == 200


def test_bad_upload_is_a_form_error(make_loan, staff_client):
    make_loan()
    client, _ = staff_client("servicing_agent")
    upload = SimpleUploadedFile("x.csv", b"nope\n1\n")
    response = client.post(reverse("servicing:payments-import"), {"file": upload})
    assert response.status_code == 200
    assert "Missing column(s)" in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_import_pages_need_the_import_permission(staff_client):
    client, _ = staff_client("collections_agent")
    for name in ("payments-import", "boarding-import", "ach-returns-import", "ach-files"):
        assert client.get(reverse(f"servicing:{name}")).status_code == 403


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("BENCH"), reason="benchmark: set BENCH=1")
def test_benchmark_2000_payments(product, customer, make_loan):
    loans = [make_loan(f"B-{i}") for i in range(400)]
    set_business_date(date(2026, 6, 20))
    rows = [
        f"{loan.loan_number},10.00,2026-06-{10 + k:02d},ach,B{k}"
        for loan in loans
        for k in range(5)
    ]
    text = HEADER + "\n".join(rows) + "\n"
    started = time.perf_counter()
    result = import_payments_csv(text=text)
    elapsed = time.perf_counter() - started
    assert len(result.accepted) == 2000
    print(f"\n2000 payments in {elapsed:.2f}s = {2000 / elapsed:.0f}/s")  # noqa: T201


def _balances(loan):
    loan.refresh_from_db()
    installments = [
        (i.number, i.principal_paid, i.interest_paid, i.status)
        for i in loan.installments.order_by("number")
    ]
    return (
        loan.principal_balance,
        loan.interest_balance,
        loan.unapplied_balance,
        loan.overpayment_balance,
        loan.days_past_due,
        loan.next_due_date,
        installments,
    )


# (amount, received_on) per loan, deliberately out of date order (backdated
# rows) and with several payments on one loan in one file.
PAYMENTS = [
    ("106.62", "2026-02-15"),
    ("300.00", "2026-04-20"),
    ("106.62", "2026-03-15"),
    ("2000.00", "2026-04-25"),  # pays off and overpays
]


def test_batch_posting_reaches_the_same_balances_as_one_by_one(make_loan):
    from django.core.management import call_command

    from servicing.services.payments import post_payment

    one_by_one = [make_loan(f"SEQ-{i}") for i in range(2)]
    batched = [make_loan(f"BAT-{i}") for i in range(2)]
    set_business_date(date(2026, 5, 1))
    for loan in one_by_one:
        for amount, on in PAYMENTS:
            post_payment(
                loan=loan,
                amount=D(amount),
                received_on=date.fromisoformat(on),
                method="ach",
                channel="batch",
            )
    text = HEADER + "".join(
        f"{loan.loan_number},{amount},{on},ach,R-{loan.pk}-{n}\n"
        for loan in batched
        for n, (amount, on) in enumerate(PAYMENTS)
    )
    result = import_payments_csv(text=text, filename="many.csv")

    assert len(result.accepted) == 8 and not result.rejected
    for seq, bat in zip(one_by_one, batched, strict=True):
        assert _balances(seq) == _balances(bat)
        assert bat.state == seq.state == "overpaid"
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "0 mismatches" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_parallel_import_in_worker_processes(make_loan, monkeypatch):
    from servicing.services import imports

    loans = [make_loan(f"PAR-{i}") for i in range(5)]
    set_business_date(date(2026, 2, 20))
    monkeypatch.setattr(imports, "CHUNK", 2)  # 3 chunks over 2 processes
    text = HEADER + "".join(
        f"{loan.loan_number},106.62,2026-02-15,ach,P-{loan.pk}\n" for loan in loans
    )
    result = import_payments_csv(text=text, filename="par.csv", workers=2)

    assert sorted(r["loan_number"] for r in result.accepted) == sorted(
        loan.loan_number for loan in loans
    )
    assert [r["line"] for r in result.accepted] == [2, 3, 4, 5, 6]
    assert Payment.objects.filter(channel="batch").count() == 5
    for loan in loans:
        loan.refresh_from_db()
        assert loan.principal_balance == D("1105.38")
    again = import_payments_csv(text=text, filename="par.csv", workers=2)
    assert len(again.duplicates) == 5 and Payment.objects.count() == 5
