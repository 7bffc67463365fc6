"""Instalment statuses read as the model's labels ("Not due", "Paid"), never
as stored codes (`not_due`), on the modification preview and its detail
page as on the schedule tab."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from servicing.models import Installment, Modification
from servicing.services.payments import post_payment
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
CODES = [value for value in Installment.Status.values if "_" in value]  # not_due, past_due, ...


def _status_cells(html: str) -> list[str]:
    """The text of the two status cells of each row of the comparison table."""
    table = re.search(r"<table class=\"compact\">.*?Current schedule.*?</table>", html, re.S)
    assert table, "no schedule comparison"
    cells = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S):
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(tds) == 8:
            cells += [tds[3].strip(), tds[7].strip()]
    return cells


def _no_codes(html: str):
    text = re.sub(r"<[^>]+>", " ", html)  # attributes (data-status) may keep the code
    for code in CODES:
        assert code not in text, code


def test_the_modification_preview_and_detail_show_status_labels(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan,
        amount=Decimal("106.62"),
        received_on=date(2026, 2, 15),
        method="ach",
        channel="staff",
    )
    agent, _ = staff_client("servicing_agent")
    data = {
        "effective_date": "2026-02-15",
        "remaining_term": "22",
        "defer_installments": "0",
        "action": "preview",
    }
    preview = agent.post(reverse("servicing:modification-new", args=[loan.pk]), data)
    assert preview.status_code == 200
    html = preview.content.decode()
    cells = _status_cells(html)
    labels = set(Installment.Status.labels)
    assert cells and set(cells) <= labels, cells
    assert "Paid" in cells and "Not due" in cells
    _no_codes(html)

    agent.post(reverse("servicing:modification-new", args=[loan.pk]), {**data, "action": "propose"})
    mod = Modification.objects.get()
    detail = agent.get(reverse("servicing:modification-detail", args=[mod.pk]))
    html = detail.content.decode()
    cells = _status_cells(html)
    assert cells and set(cells) <= labels, cells
    assert "Not due" in cells
    _no_codes(html)
