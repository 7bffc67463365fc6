"""Servicing REST API, who may call the payoff, fee, refund, statement,
modification, charge-off, recovery and import endpoints (API key scopes,
staff roles, borrowers), nothing written when refused; and the schema of
those operations."""

import json
from datetime import date

import pytest
from django.test import Client
from openapi_spec_validator import validate

from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import (
    api_key_client,
    life_row_counts,
    lifecycle_row_counts,
    limit,
    post_json,
    url,
)
from tests.servicing.test_portal import client_for, make_borrower

pytestmark = pytest.mark.django_db


def test_scopes_and_roles(make_loan, staff_client):
    loan = make_loan()
    set_business_date(date(2026, 1, 30))
    reader = api_key_client("loans:read")
    before = life_row_counts()
    for tail, body in [
        ("payoff-quotes/", {"good_through": "2026-01-30"}),
        ("fees/", {"amount": "5.00", "kind": "other", "note": "x"}),
        ("refunds/", {"amount": "1.00"}),
    ]:
        response = post_json(reader, url(loan.pk, tail), body)
        assert response.status_code == 403
        assert response.json() == {
            "code": "permission_denied",
            "message": "This API key lacks the scope loans:write.",
            "fields": {},
        }
    response = api_key_client("customers:read").get(url(loan.pk, "statements/"))
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the scope loans:read."
    underwriter, _ = staff_client("underwriter")
    response = post_json(
        underwriter, url(loan.pk, "fees/"), {"amount": "5.00", "kind": "other", "note": "x"}
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Your role does not allow this."
    assert life_row_counts() == before


def _endpoints(loan_pk: int, mod_pk: int):
    return [
        ("post", url(loan_pk, "modifications/preview/"), {"effective_date": "2026-02-15"}),
        ("post", url(loan_pk, "modifications/"), {"effective_date": "2026-02-15"}),
        ("get", url(loan_pk, "modifications/"), None),
        ("post", f"/api/v1/modifications/{mod_pk}/approve/", {}),
        ("post", f"/api/v1/modifications/{mod_pk}/reject/", {"reason": "x"}),
        ("post", url(loan_pk, "charge-off/"), {"reason": "x"}),
        ("post", url(loan_pk, "recoveries/"), {"amount": "1.00"}),
        ("post", "/api/v1/imports/payments/", {}),
        ("post", "/api/v1/imports/boarding/", {}),
    ]


def _call(client, method, path, body):
    if method == "get":
        return client.get(path)
    return post_json(client, path, body)


def test_scopes_roles_and_borrowers(paid_loan, product, staff_client):
    limit(product, "0.00")
    manager, _ = staff_client("manager")
    response = post_json(
        manager,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "remaining_term": 22},
    )
    mod_pk = response.json()["id"]
    endpoints = _endpoints(paid_loan.pk, mod_pk)
    reader = api_key_client("loans:read")
    other = api_key_client("customers:read")
    underwriter, _ = staff_client("underwriter")
    collector, _ = staff_client("collections_agent")
    borrowers = [client_for(make_borrower("bo@example.com")), client_for(make_borrower("e@x.io"))]
    before = lifecycle_row_counts()

    for method, path, body in endpoints:
        response = _call(reader, method, path, body)
        if method == "get":
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            assert response.json()["message"] == "This API key lacks the scope loans:write."
    for method, path, body in endpoints:
        response = _call(other, method, path, body)
        assert response.status_code == 403, path
        assert response.json()["message"].startswith("This API key lacks the scope loans:")

    # underwriters only view loans; collections agents post payments but import nothing
    for method, path, body in endpoints:
        response = _call(underwriter, method, path, body)
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, path
    for path in ("/api/v1/imports/payments/", "/api/v1/imports/boarding/"):
        assert collector.post(path, {}).status_code == 403

    # a borrower is not staff: 403 everywhere
    for client in borrowers:
        for method, path, body in endpoints:
            response = _call(client, method, path, body)
            assert response.status_code == 403, path
            assert response.json()["message"] == "This operation is for staff."
    assert lifecycle_row_counts() == before


def test_schema_describes_the_new_operations():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    operations = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    expected = {
        ("/api/v1/loans/{id}/modifications/preview/", "post"): "loans_modifications_preview",
        ("/api/v1/loans/{id}/modifications/", "get"): "loans_modifications_list",
        ("/api/v1/loans/{id}/modifications/", "post"): "loans_modifications_create",
        ("/api/v1/modifications/{id}/approve/", "post"): "modifications_approve",
        ("/api/v1/modifications/{id}/reject/", "post"): "modifications_reject",
        ("/api/v1/loans/{id}/charge-off/", "post"): "loans_charge_off",
        ("/api/v1/loans/{id}/recoveries/", "post"): "loans_recoveries_create",
        ("/api/v1/imports/payments/", "post"): "imports_payments",
        ("/api/v1/imports/boarding/", "post"): "imports_boarding",
    }
    assert {k: operations.get(k) for k in expected} == expected
    upload = spec["paths"]["/api/v1/imports/payments/"]["post"]
    assert sorted(upload["requestBody"]["content"]) == ["multipart/form-data", "text/csv"]
    assert set(upload["responses"]) == {"201", "400", "401", "403"}
    preview = spec["paths"]["/api/v1/loans/{id}/modifications/preview/"]["post"]
    assert set(preview["responses"]) == {"200", "400", "401", "403", "404", "409"}
