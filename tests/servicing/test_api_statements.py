"""Servicing REST API, statements: the list of a loan's statements."""

from datetime import date

import pytest

from servicing.models import Statement
from servicing.services.statements import generate_statement
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    api_key_client,
    url,
)

pytestmark = pytest.mark.django_db


def test_statements_list(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 3, 1))
    generate_statement(loan=loan, statement_date=date(2026, 2, 1))
    generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    response = api_key_client("loans:read").get(url(loan.pk, "statements/"))
    assert response.status_code == 200
    expected = [
        {
            "id": s.pk,
            "statement_date": s.statement_date.isoformat(),
            "period": {"start": s.period_start.isoformat(), "end": s.period_end.isoformat()},
            "amount_due": str(s.amount_due),
            "due_date": s.due_date.isoformat() if s.due_date else None,
            "sha256": s.sha256,
        }
        for s in Statement.objects.order_by("-statement_date")
    ]
    assert response.json() == expected
    assert [row["statement_date"] for row in expected] == ["2026-03-01", "2026-02-01"]
    # Mar 1: the unpaid Feb 15 instalment plus the one due Mar 15; Feb 1: one instalment
    assert [(r["amount_due"], r["due_date"]) for r in response.json()] == [
        ("213.24", "2026-03-15"),
        ("106.62", "2026-02-15"),
    ]
