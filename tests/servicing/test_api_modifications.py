"""Servicing REST API, modifications: preview, proposal, list, four-eyes
approval and rejection; invalid input, an unknown or inactive loan writing
nothing."""

from decimal import Decimal

import pytest

from servicing.models import (
    LoanEvent,
    Modification,
)
from tests.servicing.helpers import (
    api_key_client,
    lifecycle_row_counts,
    limit,
    post_json,
    url,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_preview_compares_schedules_and_writes_nothing(paid_loan):
    before = lifecycle_row_counts()
    response = post_json(
        api_key_client("loans:write"),
        url(paid_loan.pk, "modifications/preview/"),
        {"effective_date": "2026-02-15", "remaining_term": 22},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert lifecycle_row_counts() == before
    assert (body["old"]["installment"], body["new"]["installment"]) == ("106.62", "56.22")
    assert body["old"]["annual_rate"] == body["new"]["annual_rate"] == "12.0000"
    assert (len(body["old"]["rows"]), len(body["new"]["rows"])) == (12, 23)
    assert body["old"]["rows"][0] == {
        "number": 1,
        "due_date": "2026-02-15",
        "principal": "94.62",
        "interest": "12.00",
        "fees": "0.00",
        "total": "106.62",
        "paid": "106.62",
        "status": "paid",
    }
    assert body["new"]["rows"][1]["due_date"] == "2026-03-15"
    assert body["new"]["rows"][1]["total"] == "56.22"
    # 11 x 106.62 (less the last row's residue) vs 22 x 56.22: the longer term costs more
    old_remaining, new_remaining = D(body["old"]["remaining"]), D(body["new"]["remaining"])
    assert old_remaining == sum(D(r["total"]) - D(r["paid"]) for r in body["old"]["rows"])
    assert new_remaining == sum(D(r["total"]) - D(r["paid"]) for r in body["new"]["rows"])
    assert D(body["impact"]) == new_remaining - old_remaining > 0
    assert (body["capitalised_interest"], body["carried_interest"], body["waived_fee"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
    assert body["limit"] == str(paid_loan.product.modification_approval_limit)
    assert body["requires_approval"] is False


def test_proposal_within_limit_applies_and_is_listed(
    paid_loan, staff_client, django_assert_num_queries
):
    agent, user = staff_client("servicing_agent")
    before = lifecycle_row_counts()
    response = post_json(
        agent,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "remaining_term": 22, "note": "Hardship"},
    )
    assert response.status_code == 201, response.json()
    mod = Modification.objects.get()
    body = response.json()
    assert body == {
        "id": mod.pk,
        "loan_id": paid_loan.pk,
        "status": "applied",
        "effective_date": "2026-02-15",
        "parameters": {
            "effective_date": "2026-02-15",
            "annual_rate": None,
            "remaining_term": 22,
            "next_due_date": None,
            "capitalise_interest": False,
            "defer_installments": 0,
            "waive_fee_event_id": None,
        },
        "impact": str(mod.impact),
        "requires_approval": False,
        "note": "Hardship",
        "proposed_by": user.username,
        "decided_by": None,
        "decided_at": None,
        "rejection_reason": "",
        "event_id": mod.event_id,
        "created_at": body["created_at"],
    }
    assert mod.event.kind == "modification"
    assert Modification.objects.count() == before[1] + 1
    paid_loan.refresh_from_db()
    assert paid_loan.installments.count() == 23
    assert paid_loan.next_due_amount == D("56.22")

    reader = api_key_client("loans:read")
    with django_assert_num_queries(4):  # key lookup, key last-used, loan, modifications
        response = reader.get(url(paid_loan.pk, "modifications/"))
    assert response.status_code == 200
    assert response.json() == [body]


def test_api_key_proposal_over_limit_waits_for_a_person(paid_loan, product, staff_client):
    limit(product, "10.00")
    response = post_json(
        api_key_client("loans:write"),
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "annual_rate": "6"},
        key="8d0c1f3e-mod-1",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["proposed_by"]) == ("proposed", None)
    manager, _ = staff_client("manager")
    response = manager.post(f"/api/v1/modifications/{response.json()['id']}/approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "applied"
    assert LoanEvent.objects.filter(kind="modification").count() == 1


def test_four_eyes_over_limit(paid_loan, product, staff_client):
    limit(product, "10.00")
    manager, proposer = staff_client("manager")
    response = post_json(
        manager,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "annual_rate": "6"},
    )
    assert response.status_code == 201, response.json()
    mod = Modification.objects.get()
    assert (response.json()["status"], response.json()["requires_approval"]) == ("proposed", True)
    assert response.json()["parameters"]["annual_rate"] == "6.0000"
    assert mod.parameters["annual_rate"] == "0.06"
    assert mod.event_id is None
    approve = f"/api/v1/modifications/{mod.pk}/approve/"

    before = lifecycle_row_counts()
    response = manager.post(approve)  # the proposer
    assert response.status_code == 403
    assert response.json() == {
        "code": "four_eyes",
        "message": "You proposed this modification; another person must decide it.",
        "fields": {},
    }
    agent, _ = staff_client("servicing_agent")  # no approval permission
    response = agent.post(approve)
    assert response.status_code == 403
    assert response.json()["message"] == "Your role does not allow this."
    response = api_key_client("loans:write").post(approve)  # not a person
    assert response.status_code == 403
    assert response.json()["message"] == "A person must decide a modification."
    response = manager.post("/api/v1/modifications/999999/approve/")
    assert response.status_code == 404
    assert lifecycle_row_counts() == before
    assert Modification.objects.get().status == "proposed"

    other, approver = staff_client("manager")
    response = other.post(approve)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "applied"
    assert response.json()["proposed_by"] == proposer.username
    assert response.json()["decided_by"] == approver.username
    paid_loan.refresh_from_db()
    # 1,105.38 over 11 months at 6%: 5.5269 / (1 - 1.005^-11) = 103.53
    assert paid_loan.installments.get(number=2).total_due == D("103.53")

    before = lifecycle_row_counts()
    response = other.post(approve)
    assert response.status_code == 409
    assert response.json() == {
        "code": "already_decided",
        "message": "This modification is already applied.",
        "fields": {},
    }
    assert lifecycle_row_counts() == before


def test_reject_needs_a_reason_and_another_person(paid_loan, product, staff_client):
    limit(product, "0.00")
    agent, _ = staff_client("servicing_agent")
    response = post_json(
        agent,
        url(paid_loan.pk, "modifications/"),
        {"effective_date": "2026-02-15", "remaining_term": 24},
    )
    assert response.status_code == 201
    mod_id = response.json()["id"]
    reject = f"/api/v1/modifications/{mod_id}/reject/"
    manager, user = staff_client("manager")

    before = lifecycle_row_counts()
    for body in ({}, {"reason": ""}):
        response = post_json(manager, reject, body)
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["reason"]
    response = post_json(manager, reject, {"reason": "   "})
    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["This field may not be blank."]}
    response = post_json(agent, reject, {"reason": "x"})
    assert response.status_code == 403
    assert lifecycle_row_counts() == before

    response = post_json(manager, reject, {"reason": "Income not verified"})
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["rejection_reason"]) == (
        "rejected",
        "Income not verified",
    )
    assert response.json()["decided_by"] == user.username
    assert LoanEvent.objects.filter(kind="modification").count() == 0
    other, _ = staff_client("manager")
    response = other.post(f"/api/v1/modifications/{mod_id}/approve/")
    assert response.status_code == 409
    assert response.json()["code"] == "already_decided"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["effective_date"]),
        ({"effective_date": "2026-02-15", "annual_rate": "150"}, ["annual_rate"]),
        ({"effective_date": "2026-02-15", "defer_installments": 13}, ["defer_installments"]),
        ({"effective_date": "2026-02-16"}, ["effective_date"]),  # after the business date
        (
            {"effective_date": "2026-02-15", "next_due_date": "2026-02-10"},
            ["next_due_date"],
        ),
        ({"effective_date": "2026-02-15", "waive_fee_event_id": 999999}, ["waive_fee_event_id"]),
    ],
)
def test_invalid_modification_writes_nothing(paid_loan, body, fields):
    client = api_key_client("loans:write")
    before = lifecycle_row_counts()
    for tail in ("modifications/preview/", "modifications/"):
        response = post_json(client, url(paid_loan.pk, tail), body)
        assert response.status_code == 400, response.json()
        assert list(response.json()["fields"]) == fields
    assert lifecycle_row_counts() == before


def test_modification_of_unknown_or_inactive_loan(paid_loan, staff_client):
    manager, _ = staff_client("manager")
    body = {"effective_date": "2026-02-15", "remaining_term": 22}
    response = post_json(manager, url(999999, "modifications/"), body)
    assert response.status_code == 404
    assert response.json()["message"] == "No loan 999999."
    assert manager.get(url(999999, "modifications/")).status_code == 404
    response = post_json(manager, url(paid_loan.pk, "charge-off/"), {"reason": "Fraud"})
    assert response.status_code == 200
    before = lifecycle_row_counts()
    for tail in ("modifications/preview/", "modifications/"):
        response = post_json(manager, url(paid_loan.pk, tail), body)
        assert response.status_code == 409
        assert response.json()["code"] == "loan_not_active"
    assert lifecycle_row_counts() == before
