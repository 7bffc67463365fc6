"""Staff pages of a loan's life events (payoff, modifications, fees,
charge-off, statements): roles refused with 403, and the loan page's
actions and tab that link to them."""

from datetime import date

import pytest

from tests.servicing.conftest import set_business_date
from tests.servicing.page_helpers import url

pytestmark = pytest.mark.django_db


def test_forbidden_roles_get_403(make_loan, staff_client):
    loan = make_loan()
    underwriter, _ = staff_client("underwriter")
    collections, _ = staff_client("collections_agent")
    agent, _ = staff_client("servicing_agent")
    for name in ("modification-new", "fee-assess", "fee-waive", "refund", "charge-off", "recovery"):
        assert collections.get(url(name, loan.pk)).status_code == 403, name
    assert underwriter.get(url("payoff-payment", loan.pk)).status_code == 403
    assert agent.get(url("charge-off", loan.pk)).status_code == 403
    assert agent.get(url("modification-approvals")).status_code == 403
    assert agent.post(url("charge-off", loan.pk), {"reason": "x"}).status_code == 403
    assert (
        collections.post(
            url("statement-generate", loan.pk), {"statement_date": "2026-02-01"}
        ).status_code
        == 403
    )
    loan.refresh_from_db()
    assert loan.state == "active"


def test_loan_page_includes_render(make_loan, staff_client):
    from django.contrib.auth.context_processors import PermWrapper
    from django.template.loader import render_to_string

    from servicing.services.modifications import propose_modification
    from servicing.services.statements import generate_statement

    loan = make_loan()
    _, manager = staff_client("manager")
    set_business_date(date(2026, 3, 1))
    generate_statement(loan=loan, statement_date=date(2026, 3, 1))
    propose_modification(
        loan=loan, user=manager, effective_date=date(2026, 3, 1), remaining_term=20
    )
    context = {"loan": loan, "perms": PermWrapper(manager), "user": manager}
    actions = render_to_string("servicing/_actions_life.html", context)
    assert url("charge-off", loan.pk) in actions and url("modification-new", loan.pk) in actions
    tab = render_to_string("servicing/_loan_tab_life.html", context)
    assert "213.24" in tab and "Applied" in tab
