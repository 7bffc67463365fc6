"""The staff import pages (payments, boarding, ACH returns) take a real
upload, post what is good, show every row's outcome with its reason, and list
the run in the history; a bad file is a form error and writes nothing."""

from datetime import date, datetime
from decimal import Decimal

import lxml.html
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from rails import nacha
from servicing.models import AchEntry, ImportRun, Loan, LoanEvent, Payment
from servicing.services import autopay
from tests.servicing.conftest import set_business_date
from tests.servicing.test_autopay import ACH, authorize
from tests.servicing.test_imports import HEADER, boarding_file, payments_file

pytestmark = pytest.mark.django_db
D = Decimal
REJECTED = "//table[contains(@class, 'report-rejected')]/tbody/tr"


def _rows(doc, selector):
    return [
        [" ".join(cell.text_content().split()) for cell in tr.xpath("./td")]
        for tr in doc.xpath(selector)
    ]


def _history(doc):
    """Rows of the "Recent imports" table: [when, file, rows, accepted, already, rejected, by]."""
    heads = [h for h in doc.xpath("//h2") if h.text_content().strip() == "Recent imports"]
    assert heads, "no history table"
    table = heads[0].getnext()
    return [
        [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
        for tr in table.xpath("./tbody/tr")
    ]


def _section(doc, title_start):
    """The rows of the <details> section whose summary starts with `title_start`."""
    for details in doc.xpath("//details"):
        summary = details.xpath("./summary")[0].text_content().strip()
        if summary.startswith(title_start):
            return [
                [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
                for tr in details.xpath(".//tbody/tr")
            ]
    return None


def test_payments_upload_posts_payments_and_reports_each_row(make_loan, staff_client):
    first = make_loan("APP-1")
    second = make_loan("APP-2")
    set_business_date(date(2026, 2, 20))
    client, user = staff_client("servicing_agent")
    url = reverse("servicing:payments-import")

    response = client.post(
        url, {"file": SimpleUploadedFile("feb-payments.csv", payments_file(first, second).encode())}
    )

    assert response.status_code == 200
    doc = lxml.html.fromstring(response.content.decode())
    assert "2 accepted, 0 already done, 6 rejected." in response.content.decode()
    assert _rows(doc, REJECTED) == [
        ["3", "L-9999999", "Unknown loan 'L-9999999'."],
        ["4", first.loan_number, "Amount 'abc' is not a number."],
        ["5", first.loan_number, "received_on 2026-03-01 is after the business date 2026-02-20."],
        ["7", second.loan_number, "Method 'bitcoin' is not one of cash, check, ach, card."],
        ["8", second.loan_number, "Amount must be greater than zero."],
        ["9", second.loan_number, "Amount 1.005 has fractions of a cent."],
    ]
    assert _section(doc, "Accepted") == [
        ["2", first.loan_number, "106.62"],
        ["6", second.loan_number, "50.00"],
    ]
    # the money is really posted
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.principal_balance == D("1105.38")
    assert second.principal_balance < D("1200.00")
    assert sorted(Payment.objects.values_list("loan_id", "amount", "channel")) == sorted(
        [(first.pk, D("106.62"), "batch"), (second.pk, D("50.00"), "batch")]
    )
    # and the run is in the history, by this user
    run = ImportRun.objects.get()
    assert (run.kind, run.created_by, run.accepted, run.rejected) == ("payments", user, 2, 6)
    history = _history(doc)
    assert len(history) == 1
    assert history[0][1:6] == ["feb-payments.csv", "8", "2", "0", "6"]
    assert history[0][6] == user.display_name

    # the history page (GET) lists it, and the run detail shows the same report
    listing = lxml.html.fromstring(client.get(url).content.decode())
    assert _history(listing)[0][1] == "feb-payments.csv"
    detail = client.get(reverse("servicing:import-run", args=[run.pk]))
    detail_doc = lxml.html.fromstring(detail.content.decode())
    assert len(_rows(detail_doc, REJECTED)) == 6

    # uploading the same file again posts nothing and says so row by row
    response = client.post(
        url, {"file": SimpleUploadedFile("feb-payments.csv", payments_file(first, second).encode())}
    )
    doc = lxml.html.fromstring(response.content.decode())
    assert "0 accepted, 2 already done, 6 rejected." in response.content.decode()
    assert [row[:2] for row in _section(doc, "Already done")] == [
        ["2", first.loan_number],
        ["6", second.loan_number],
    ]
    assert Payment.objects.count() == 2
    first.refresh_from_db()
    assert first.principal_balance == D("1105.38")
    assert [row[1] for row in _history(doc)] == ["feb-payments.csv", "feb-payments.csv"]


def test_payments_upload_without_the_columns_is_a_form_error_and_writes_nothing(
    make_loan, staff_client
):
    loan = make_loan()
    set_business_date(date(2026, 2, 20))
    client, _ = staff_client("servicing_agent")
    bad = f"loan,amount\n{loan.loan_number},5\n"
    response = client.post(
        reverse("servicing:payments-import"), {"file": SimpleUploadedFile("x.csv", bad.encode())}
    )
    assert response.status_code == 200
    assert (
        "Missing column(s): loan_number, received_on, method, reference."
        in response.content.decode()
    )
    not_utf8 = client.post(
        reverse("servicing:payments-import"),
        {"file": SimpleUploadedFile("x.csv", (HEADER + "\xff").encode("latin-1"))},
    )
    assert "The file is not UTF-8 text." in not_utf8.content.decode()
    assert (Payment.objects.count(), ImportRun.objects.count()) == (0, 0)
    loan.refresh_from_db()
    assert loan.principal_balance == D("1200.00")


def test_boarding_upload_boards_loans_and_reports_rejections(product, customer, staff_client):
    set_business_date(date(2026, 3, 20))
    client, user = staff_client("servicing_agent")
    url = reverse("servicing:boarding-import")

    response = client.post(
        url, {"file": SimpleUploadedFile("migration.csv", boarding_file(customer).encode())}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "2 accepted, 0 already done, 6 rejected." in body
    doc = lxml.html.fromstring(body)
    rejected = {row[0]: (row[1], row[2]) for row in _rows(doc, REJECTED)}
    assert rejected == {
        "4": (
            "MIG-3",
            "After the cut-over payment the principal balance is 1,009.81, not 1,006.76: "
            "the paid split does not match this product's schedule.",
        ),
        "5": ("MIG-4", "Unknown customer 'C-999999'."),
        "6": ("MIG-5", "Unknown product 'nosuch'."),
        "7": ("MIG-6", "annual_rate 'twelve' is not a number."),
        "8": ("MIG-7", "cutover_date 2026-04-01 is after the business date 2026-03-20."),
        "9": ("MIG-8", "principal_paid is more than the principal."),
    }
    loans = {loan.origination_reference: loan for loan in Loan.objects.all()}
    assert set(loans) == {"MIG-1", "MIG-2"}
    assert _section(doc, "Accepted") == [
        ["2", loans["MIG-1"].loan_number, "1009.81"],
        ["3", loans["MIG-2"].loan_number, "2400.00"],
    ]
    assert loans["MIG-1"].principal_balance == D("1009.81")
    assert loans["MIG-2"].principal_balance == D("2400.00")
    history = _history(doc)
    assert history[0][1:6] == ["migration.csv", "8", "2", "0", "6"]
    assert ImportRun.objects.get().created_by == user

    # a boarding file without its columns is a form error; nothing is boarded
    response = client.post(url, {"file": SimpleUploadedFile("b.csv", b"principal\n100\n")})
    assert "Missing column(s)" in response.content.decode()
    assert Loan.objects.count() == 2 and ImportRun.objects.count() == 1


@override_settings(**ACH)
def test_ach_returns_upload_reverses_the_debit_and_reports_the_rest(make_loan, staff_client):
    loan = make_loan()
    authorize(loan)
    due = date(2026, 2, 15)
    set_business_date(due)
    autopay.collect_autopay(business_date=due)
    entry = AchEntry.objects.get()
    loan.refresh_from_db()
    paid_principal = loan.principal_balance
    assert paid_principal < D("1200.00")
    set_business_date(date(2026, 2, 18))
    text = nacha.build_return_file(
        origin=autopay.ach_origin(),
        returns=[
            (entry.trace_number, "R01", int(entry.amount * 100), "checking", "x"),
            ("021000029999999", "R02", 500, "savings", "x"),
        ],
        created_at=datetime(2026, 2, 18, 9, 0),
        rdfi_routing="122000247",
    )
    client, user = staff_client("servicing_agent")
    url = reverse("servicing:ach-returns-import")

    response = client.post(url, {"file": SimpleUploadedFile("returns.ach", text.encode())})

    assert response.status_code == 200
    body = response.content.decode()
    assert "1 accepted, 0 already done, 1 rejected." in body
    doc = lxml.html.fromstring(body)
    rejected = _rows(doc, REJECTED)
    assert [row[1:] for row in rejected] == [
        ["021000029999999", "No debit we sent has this trace number."]
    ]
    accepted = _section(doc, "Accepted")
    assert [row[1:] for row in accepted] == [[entry.trace_number, str(entry.amount)]]
    # the payment is reversed and the NSF fee assessed
    entry.refresh_from_db()
    assert (entry.status, entry.return_code) == ("returned", "R01")
    assert entry.payment.status == "reversed"
    loan.refresh_from_db()
    assert loan.principal_balance == D("1200.00")
    assert loan.fees_balance == D("30.00")
    history = _history(doc)
    assert history[0][1:6] == ["returns.ach", "2", "1", "0", "1"]
    assert ImportRun.objects.get(kind="ach_returns").created_by == user

    # the same file again reverses nothing more
    events = LoanEvent.objects.count()
    again = client.post(url, {"file": SimpleUploadedFile("returns.ach", text.encode())})
    assert "0 accepted, 1 already done, 1 rejected." in again.content.decode()
    assert LoanEvent.objects.count() == events
    loan.refresh_from_db()
    assert loan.fees_balance == D("30.00")

    # a file that is not NACHA is a form error and writes nothing
    runs = ImportRun.objects.count()
    bad = client.post(url, {"file": SimpleUploadedFile("r.ach", b"not a nacha file\n")})
    assert bad.status_code == 200
    errors = lxml.html.fromstring(bad.content.decode()).xpath("//small[@id='id_file_error']")
    assert errors and errors[0].text_content().strip()
    assert ImportRun.objects.count() == runs
    assert LoanEvent.objects.count() == events
