"""Loan products admin pages: list with versions, detail, create, revise
(a new version; applications keep theirs), refused input writes nothing,
and only product managers get in."""

import json
from decimal import Decimal

import pytest

from core.models import AuditEvent
from origination.models import Application, LoanProduct
from origination.services.products import revise_product
from tests.origination.closing_setup import (  # noqa: F401 - fixtures
    _closing_env,
    approved_application,
    make_loan_product,
    servicing_product,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(servicing_product):  # noqa: F811
    return make_loan_product(servicing_product.pk)


@pytest.fixture
def manager(staff_client):
    client, _ = staff_client("manager")
    return client


def _grid_post(rows, *, initial: int) -> dict:
    data = {
        "grid-TOTAL_FORMS": str(len(rows)),
        "grid-INITIAL_FORMS": str(initial),
        "grid-MIN_NUM_FORMS": "0",
        "grid-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"grid-{i}-{key}"] = value
    return data


def test_list_shows_each_code_with_its_versions_and_the_active_one(manager, product):
    v2 = revise_product(product, {"name": "Personal loan (2026)"})

    html = manager.get("/staff/origination/products/").content.decode()
    assert f'data-product="{v2.pk}" data-code="personal-loan" data-version="2"' in html
    assert f'data-product="{product.pk}" data-code="personal-loan" data-version="1"' in html
    rows = html.split('data-product="')[1:]
    assert 'data-active="1"' in rows[0] and "Personal loan (2026)" in rows[0]
    assert 'data-active="1"' not in rows[1] and "Superseded" in rows[1]


def test_detail_shows_limits_grid_rules_scorecard_and_servicing_product(manager, product):
    html = manager.get(f"/staff/origination/products/{product.pk}/").content.decode()
    assert "USD 1,000.00 to 35,000.00" in html
    grid = html.split('id="pricing-grid"')[1].split("</table>")[0]
    assert grid.count("<tr>") == 1 + 10  # header + 5 score bands x 2 term ranges
    assert '<td class="num">760</td><td class="num">850</td><td class="num">12</td>' in grid
    assert 'data-rate="0.0799"' in grid and 'data-rate="0.2899"' in grid
    rules = html.split('id="rules"')[1].split("</table>")[0]
    assert "<td>KO03</td><td>Bankruptcy on the credit file</td>" in rules
    assert "<code>score &lt; 580</code>" in rules
    assert "base 200 points" in html
    assert "Personal installment loan (personal v1)" in html  # the servicing product
    assert '<td>origination</td><td>percent</td><td class="num">0.03</td>' in html


def test_revising_the_grid_makes_v2_and_old_applications_keep_v1(manager, product):
    application = approved_application(product)
    form_page = manager.get(f"/staff/origination/products/{product.pk}/edit/pricing/")
    html = form_page.content.decode()
    assert 'name="grid-TOTAL_FORMS" value="12"' in html  # 10 bands + 2 blank rows
    assert 'name="grid-0-annual_rate" value="0.0799"' in html
    rows = [dict(band) for band in product.pricing_grid]
    rows[0]["annual_rate"] = "0.0749"
    response = manager.post(
        f"/staff/origination/products/{product.pk}/edit/pricing/",
        _grid_post(rows, initial=len(rows)),
    )
    assert response.status_code == 302
    v2 = LoanProduct.objects.get(code="personal-loan", version=2)
    assert response["Location"] == f"/staff/origination/products/{v2.pk}/"
    assert v2.is_active and v2.pricing_grid[0]["annual_rate"] == "0.0749"
    assert v2.pricing_grid[1:] == product.pricing_grid[1:]
    product.refresh_from_db()
    assert not product.is_active
    assert product.pricing_grid[0]["annual_rate"] == "0.0799"
    application.refresh_from_db()
    assert application.product_id == product.pk  # priced on v1, stays on v1
    assert Application.objects.filter(product=v2).count() == 0

    page = manager.get(response["Location"]).content.decode()
    assert (
        "Saved as version 2. Version 1 stays unchanged for the 1 application priced on it." in page
    )
    old = manager.get(f"/staff/origination/products/{product.pk}/").content.decode()
    assert "kept unchanged for the applications priced on it" in old
    assert "1 application priced on this version" in old
    assert AuditEvent.objects.filter(action="loan_product.revised").count() == 1


def test_invalid_rule_json_is_a_form_error_and_nothing_is_written(manager, product):
    rule_set = json.loads(json.dumps(product.rule_set))
    rule_set["rules"][0]["operator"] = "approximately"
    rule_set["rules"][1]["value"] = 580.5  # a float, not a string
    before = (LoanProduct.objects.count(), AuditEvent.objects.count())

    response = manager.post(
        f"/staff/origination/products/{product.pk}/edit/rules/",
        {"value": json.dumps(rule_set)},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["value"]
    assert len(errors) == 2
    assert errors[0].startswith("rule 1 (KO01)") and "approximately" in errors[0]
    assert errors[1].startswith("rule 2 (KO02)") and "580.5" in errors[1]
    html = response.content.decode()
    assert "rule 1 (KO01)" in html and "rule 2 (KO02)" in html

    broken = manager.post(
        f"/staff/origination/products/{product.pk}/edit/rules/", {"value": "{not json"}
    )
    assert broken.status_code == 400
    assert broken.context["form"].errors["value"][0].startswith("Not valid JSON:")
    assert (LoanProduct.objects.count(), AuditEvent.objects.count()) == before
    product.refresh_from_db()
    assert product.is_active and product.version == 1


def test_invalid_limits_and_grid_rows_are_form_errors_and_nothing_is_written(manager, product):
    before = LoanProduct.objects.count()
    limits = {
        "name": "Personal",
        "currency": "usd",
        "min_amount": "5000",
        "max_amount": "1000",
        "min_term": "12",
        "max_term": "60",
        "allowed_terms": "12, 99",
        "offer_valid_days": "30",
        "application_valid_days": "60",
    }
    response = manager.post(f"/staff/origination/products/{product.pk}/edit/limits/", limits)
    assert response.status_code == 400
    assert response.context["form"].errors["max_amount"] == ["Must be at least the minimum amount."]
    assert "allowed_terms" in response.context["form"].errors

    grid = manager.post(
        f"/staff/origination/products/{product.pk}/edit/pricing/",
        _grid_post(
            [
                {
                    "min_score": "700",
                    "max_score": "600",
                    "min_term": "12",
                    "max_term": "36",
                    "annual_rate": "0.1",
                }
            ],
            initial=0,
        ),
    )
    assert grid.status_code == 400
    assert grid.context["form"].forms[0].errors["max_score"] == [
        "Must be at least the minimum score."
    ]
    assert LoanProduct.objects.count() == before


def test_scorecard_and_documents_and_limits_revisions(manager, product):
    response = manager.post(
        f"/staff/origination/products/{product.pk}/edit/documents/",
        {
            "doc-TOTAL_FORMS": "2",
            "doc-INITIAL_FORMS": "0",
            "doc-MIN_NUM_FORMS": "0",
            "doc-MAX_NUM_FORMS": "1000",
            "doc-0-kind": "proof_of_income",
            "doc-0-label": "Proof of income",
        },
    )
    assert response.status_code == 302
    v2 = LoanProduct.objects.get(code="personal-loan", version=2)
    assert v2.required_documents == [{"kind": "proof_of_income", "label": "Proof of income"}]

    scorecard = json.loads(json.dumps(v2.scorecard))
    scorecard["base_points"] = 180
    response = manager.post(
        f"/staff/origination/products/{v2.pk}/edit/scorecard/", {"value": json.dumps(scorecard)}
    )
    v3 = LoanProduct.objects.get(code="personal-loan", version=3)
    assert response["Location"] == f"/staff/origination/products/{v3.pk}/"
    assert v3.scorecard["base_points"] == 180
    assert v3.required_documents == v2.required_documents

    # editing a superseded version is refused (409), nothing written
    stale = manager.post(
        f"/staff/origination/products/{product.pk}/edit/scorecard/",
        {"value": json.dumps(scorecard)},
    )
    assert stale.status_code == 409
    assert "is not the latest (v3)" in stale.content.decode()
    assert LoanProduct.objects.filter(code="personal-loan").count() == 3


def test_create_product(manager, servicing_product):  # noqa: F811
    data = {
        "code": "auto-refi",
        "name": "Auto refinance",
        "currency": "USD",
        "min_amount": "5000",
        "max_amount": "50000",
        "min_term": "24",
        "max_term": "72",
        "allowed_terms": "24, 36, 48, 60, 72",
        "servicing_product_id": str(servicing_product.pk),
        "offer_valid_days": "30",
        "application_valid_days": "45",
    }
    response = manager.post("/staff/origination/products/new/", data)
    assert response.status_code == 302
    created = LoanProduct.objects.get(code="auto-refi")
    assert (created.version, created.min_amount, created.allowed_terms) == (
        1,
        Decimal("5000.00"),
        [24, 36, 48, 60, 72],
    )
    assert created.servicing_product_id == servicing_product.pk
    assert len(created.pricing_grid) == 10

    again = manager.post("/staff/origination/products/new/", data)
    assert again.status_code == 409
    assert "exists; revise it instead" in again.context["form"].errors["code"][0]
    assert LoanProduct.objects.filter(code="auto-refi").count() == 1


@pytest.mark.parametrize("role", ["loan_officer", "underwriter", "servicing_agent"])
def test_non_managers_are_refused(staff_client, product, role):
    client, _ = staff_client(role)
    assert client.get("/staff/origination/products/").status_code == 403
    assert client.get(f"/staff/origination/products/{product.pk}/").status_code == 403
    response = client.post(
        f"/staff/origination/products/{product.pk}/edit/scorecard/",
        {"value": json.dumps(product.scorecard)},
    )
    assert response.status_code == 403
    assert LoanProduct.objects.count() == 1
