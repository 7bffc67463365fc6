"""Every amount on a loan's staff and portal pages, its PDFs and the schedule
CSV reads d,ddd.dd: a loan of 5,709.11 with a payment, a 75.00 late fee and a
reversed payment, built through the real services, then every page opened."""

import io
import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from servicing.models import Modification, Payment
from servicing.services.modifications import propose_modification
from tests.conftest import login_staff, make_staff
from tests.money_check import (
    csv_problems,
    html_problems,
    text_problems,
    visible_text,
)
from tests.servicing.money_book import build_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(db):
    return build_book()


def check(problems: list[str], where: str) -> list[str]:
    return [f"{where}: {p}" for p in problems]


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_checker_catches_what_the_walk_found():
    assert html_problems("<p>Principal 5,709.110000000000</p>")
    assert html_problems("<p>Total due 818.510000000000</p>")
    assert html_problems(
        '<table><thead><tr><th>Date</th><th class="num">Fees</th></tr></thead>'
        '<tbody><tr><td>Feb 15, 2026</td><td class="num">75</td></tr></tbody></table>'
    )
    assert html_problems("<dl><dt>Fees</dt><dd>75</dd></dl>")
    assert html_problems('<td data-figure="total">5709.11</td>')
    assert html_problems("<p>Payoff amount $5709.11</p>")
    assert html_problems("<p>a fee of $75 was charged</p>")
    assert text_problems("Fees 75\nPayoff amount $5,709.11")
    assert csv_problems("number,principal\n1,5709.11\n", {"principal"})
    # dates, percentages, counts, days and ids are not amounts
    ok = (
        "<p>Loan LN-2026-000123 · 12.99% APR 13.04% · 24 payments · Feb 15, 2026 · "
        "2026-02-15 · 30/360 · 3 days past due · 1,250 loans</p>"
        "<dl><dt>Days past due</dt><dd>0</dd><dt>Interest rate</dt><dd>12.99%</dd>"
        "<dt>Fees</dt><dd>75.00</dd><dt>Principal</dt><dd>5,709.11</dd></dl>"
        "<table><thead><tr><th>#</th><th>Due date</th><th>Days</th><th>Fees</th></tr></thead>"
        "<tbody><tr><td>1</td><td>Feb 15, 2026</td><td>31</td><td>-75.00</td></tr></tbody></table>"
    )
    assert html_problems(ok) == []


def test_every_page_pdf_and_csv_of_a_loan_writes_money_with_two_decimals(book):
    loan, quote, statement = book["loan"], book["quote"], book["statement"]
    staff = Client()
    staff_user = make_staff("manager")
    login_staff(staff, staff_user)
    portal = Client()
    portal.force_login(book["borrower"].user)
    # a modification to open (above the approval limit, so it waits and changes nothing)
    mod = propose_modification(
        loan=loan,
        user=staff_user,
        effective_date=date(2026, 4, 2),
        remaining_term=36,
        note="hardship",
    )
    assert mod.status in (Modification.Status.PROPOSED, Modification.Status.APPLIED)

    pk = loan.pk
    staff_pages = [
        reverse("servicing:loan-list"),
        reverse("servicing:loan-list") + f"?q={loan.loan_number}",
        *(
            reverse("servicing:loan-detail", args=[pk]) + f"?tab={tab}"
            for tab in ("schedule", "transactions", "ledger", "documents", "history")
        ),
        reverse("servicing:payment-new", args=[pk]),
        reverse("servicing:payment-reverse", args=[pk, book["paid"].pk]),
        reverse("servicing:payoff-quote", args=[pk]),
        reverse("servicing:payoff-quote-detail", args=[quote.pk]),
        reverse("servicing:payoff-payment", args=[pk]),
        reverse("servicing:modification-new", args=[pk]),
        reverse("servicing:modification-detail", args=[mod.pk]),
        reverse("servicing:modification-approvals"),
        reverse("servicing:fee-assess", args=[pk]),
        reverse("servicing:fee-waive", args=[pk]),
        reverse("servicing:refund", args=[pk]),
        reverse("servicing:charge-off", args=[pk]),
        reverse("servicing:statements", args=[pk]),
        reverse("servicing:autopay", args=[pk]),
        reverse("customers:detail", args=[book["borrower"].pk]),
    ]
    portal_pages = [
        reverse("portal:home"),
        reverse("portal:loans"),
        reverse("portal:loan-detail", args=[pk]),
        reverse("portal:loan-pay", args=[pk]),
        reverse("portal:loan-payment", args=[pk, book["paid"].pk]),
        reverse("portal:loan-payment", args=[pk, book["reversed"].pk]),
        reverse("portal:loan-autopay", args=[pk]),
        reverse("portal:loan-payoff", args=[pk]) + "?good_through=2026-04-10",
        reverse("portal:loan-help", args=[pk]),
    ]
    problems: list[str] = []
    seen: dict[str, str] = {}
    for client, urls in ((staff, staff_pages), (portal, portal_pages)):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            problems += check(html_problems(html), url)
            seen[url] = visible_text(html)

    # the modification preview (a POST that writes nothing)
    preview = staff.post(
        reverse("servicing:modification-new", args=[pk]),
        {"effective_date": "2026-04-02", "remaining_term": "30", "defer_installments": "0"},
    )
    assert preview.status_code == 200
    problems += check(html_problems(preview.content.decode()), "modification preview")
    assert preview.context["preview"] is not None

    # PDFs: the payoff letter (staff and portal), the statement (staff and portal)
    pdfs = {
        "payoff letter": staff.get(reverse("servicing:payoff-quote-pdf", args=[quote.pk])),
        "portal payoff letter": portal.get(
            reverse("portal:loan-payoff-pdf", args=[pk]) + "?good_through=2026-04-10"
        ),
        "statement": staff.get(reverse("servicing:statement-pdf", args=[statement.pk])),
        "portal statement": portal.get(
            reverse("portal:loan-statement-pdf", args=[pk, statement.pk])
        ),
    }
    pdf_texts = {}
    for name, response in pdfs.items():
        assert response.status_code == 200, name
        pdf_texts[name] = pdf_text(response.content)
        problems += check(text_problems(pdf_texts[name]), name)

    # the schedule CSV and PDF of the calculator for this loan's terms
    query = (
        "principal=5709.11&annual_rate=12.99&term=24&disbursement_date=2026-01-15"
        "&first_payment_date=2026-02-15&fee-TOTAL_FORMS=0&fee-INITIAL_FORMS=0"
    )
    schedule_csv = staff.get(f"/staff/origination/calculator/schedule.csv?{query}")
    assert schedule_csv.status_code == 200
    csv_text = schedule_csv.content.decode()
    money_columns = {
        "opening_balance",
        "principal",
        "interest",
        "fees",
        "payment",
        "closing_balance",
    }
    problems += check(csv_problems(csv_text, money_columns), "schedule.csv")
    schedule_pdf = staff.get(f"/staff/origination/calculator/schedule.pdf?{query}")
    problems += check(text_problems(pdf_text(schedule_pdf.content)), "schedule.pdf")
    calculator = staff.get(f"/staff/origination/calculator/?{query}")
    problems += check(html_problems(calculator.content.decode()), "calculator")

    assert problems == [], "\n".join(problems)

    # and the figures are the loan's own, written the one way
    detail = seen[reverse("servicing:loan-detail", args=[pk]) + "?tab=transactions"]
    assert "Loan amount 5,709.11 USD" in detail
    assert "1,250.50 Reversed" in detail
    assert "75.00" in detail
    payoff_page = seen[reverse("servicing:payoff-quote-detail", args=[quote.pk])]
    total = f"{quote.amount:,}"
    assert total in payoff_page and total.replace(",", "") not in payoff_page.replace(total, "")
    assert f"${total}" in pdf_texts["payoff letter"]
    portal_detail = seen[reverse("portal:loan-detail", args=[pk])]
    assert "Fees 75.00" in portal_detail
    assert (
        f"{book['paid'].amount:,}"
        in seen[reverse("portal:loan-payment", args=[pk, book["paid"].pk])]
    )
    assert re.search(r"^1,\"5,709\.11\"|5,709\.11", csv_text, re.M)
    assert Payment.objects.filter(loan=loan, status="reversed").count() == 1


MONEY_KEY = re.compile(
    r"(amount|principal|interest|fees?|penalties|balance|_due|_paid|paid|total|per_diem|"
    r"payment|credit|debit|outstanding|unapplied|overpayment|owed|impact|limit)"
)
NOT_MONEY_KEY = re.compile(
    r"(rate|apr|percent|_id$|number|days|count|term|date|_on$|_at$|periods|every|method)"
)


def _decimal_strings(body, path=""):
    """(path, value) of every amount in a JSON body: money keys holding a
    number or a numeric string."""
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, dict | list):
                yield from _decimal_strings(value, f"{path}.{key}")
            elif MONEY_KEY.search(key) and not NOT_MONEY_KEY.search(key):
                number = isinstance(value, int | float) and not isinstance(value, bool)
                if number or (isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value)):
                    yield f"{path}.{key}", value
    elif isinstance(body, list):
        for i, item in enumerate(body):
            yield from _decimal_strings(item, f"{path}[{i}]")


def test_api_amounts_are_decimal_strings_with_exactly_two_places(book):
    loan = book["loan"]
    staff = login_staff(Client(), make_staff("servicing_agent"))
    portal = Client()
    portal.force_login(book["borrower"].user)
    pk = loan.pk
    reads = [
        (staff, f"/api/v1/loans/?q={loan.loan_number}"),
        (staff, f"/api/v1/loans/{pk}/"),
        (staff, f"/api/v1/loans/{pk}/schedule/"),
        (staff, f"/api/v1/loans/{pk}/transactions/"),
        (staff, f"/api/v1/loans/{pk}/ledger/"),
        (staff, f"/api/v1/loans/{pk}/statements/"),
        (portal, "/api/v1/me/loans/"),
        (portal, f"/api/v1/me/loans/{pk}/"),
        (portal, f"/api/v1/me/loans/{pk}/schedule/"),
        (portal, f"/api/v1/me/loans/{pk}/transactions/"),
        (portal, f"/api/v1/me/loans/{pk}/statements/"),
        (portal, f"/api/v1/me/loans/{pk}/payoff-quote/"),
    ]
    found, bad = 0, []
    for client, url in reads:
        if url.endswith("payoff-quote/"):  # a read, though a POST: it stores nothing
            response = client.post(
                url, {"good_through": "2026-04-10"}, content_type="application/json"
            )
        else:
            response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        for where, value in _decimal_strings(response.json(), url):
            found += 1
            if not (isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{2}", value)):
                bad.append(f"{where} = {value!r}")
    assert bad == [], bad
    assert found > 100  # the walk saw the amounts, not an empty body
    detail = staff.get(f"/api/v1/loans/{pk}/").json()
    assert detail["principal"] == "5709.11"  # machine-readable: no separators
