"""Servicing REST API, payoff quotes: itemised, and invalid dates writing nothing."""

from datetime import date
from decimal import Decimal

import pytest

from servicing.models import PayoffQuote
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    api_key_client,
    life_row_counts,
    post_json,
    url,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_payoff_quote_itemised(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    client = api_key_client("loans:write")
    response = post_json(client, url(loan.pk, "payoff-quotes/"), {"good_through": "2026-01-30"})
    assert response.status_code == 201, response.json()
    quote = PayoffQuote.objects.get()
    assert response.json() == {
        "id": quote.pk,
        "quoted_on": "2026-01-30",
        "good_through": "2026-01-30",
        "principal": "1200.00",
        "interest": "6.00",
        "interest_due": "0.00",
        "interest_accrued": "6.00",
        "fees": "0.00",
        "penalties": "0.00",
        "credit": "0.00",
        "total": "1206.00",
        "per_diem": "0.40",
        "sha256": quote.sha256,
    }
    assert (quote.amount, quote.per_diem) == (D("1206.00"), D("0.40"))


@pytest.mark.parametrize(
    "body",
    [{}, {"good_through": "not-a-date"}, {"good_through": "2026-01-29"}],
)
def test_invalid_payoff_quote_writes_nothing(make_loan, body):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    before = life_row_counts()
    response = post_json(api_key_client("loans:write"), url(loan.pk, "payoff-quotes/"), body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["good_through"]
    assert life_row_counts() == before
