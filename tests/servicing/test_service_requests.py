"""Service requests: a borrower's help request becomes a task in the staff
queue, which staff assign, start, resolve or decline; state checks (409),
required notes (400, nothing written), portal access (a second borrower
gets 404) and roles (403), through the pages, the services and the API."""

from datetime import date

import pytest
from django.urls import reverse

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from servicing.models import ServiceRequest
from servicing.selectors.requests import get_service_requests_for_customer, service_request_counts
from servicing.services import service_requests as service
from tests.conftest import make_staff
from tests.servicing.conftest import set_business_date
from tests.servicing.helpers import api_key_client, post_json
from tests.servicing.test_portal import board, client_for, make_borrower

pytestmark = pytest.mark.django_db


@pytest.fixture
def borrower(db):
    return make_borrower("bo@example.com")


@pytest.fixture
def loan(product, borrower):
    return board(product, borrower, "APP-R1")


def ask(loan, kind="hardship", message="I lost my job in March."):
    """A request sent through the portal form, as the borrower."""
    response = client_for(loan.customer).post(
        reverse("portal:loan-help", args=[loan.pk]), {"kind": kind, "message": message}
    )
    assert response.status_code == 302
    return ServiceRequest.objects.latest("id")


def snapshot(req):
    req.refresh_from_db()
    return (
        req.status,
        req.assigned_to_id,
        req.resolution,
        req.resolved_by_id,
        req.resolved_at,
        AuditEvent.objects.count(),
    )


# --- creation and queue ---------------------------------------------------------


def test_borrower_request_creates_an_open_task_due_in_five_days(loan, borrower):
    set_business_date(date(2026, 2, 10))
    req = ask(loan, "modification", "  Please spread my payments over 18 months.  ")
    assert ServiceRequest.objects.count() == 1
    assert (req.loan_id, req.customer_id, req.kind, req.status) == (
        loan.pk,
        borrower.pk,
        "modification",
        "open",
    )
    assert req.message == "Please spread my payments over 18 months."
    assert (req.received_on, req.due_by) == (date(2026, 2, 10), date(2026, 2, 15))
    assert req.created_by_id == borrower.user.pk
    assert req.assigned_to_id is None
    event = AuditEvent.objects.get(action="service_request.modification")
    assert (event.object_type, event.object_id) == ("servicing.loan", str(loan.pk))
    assert event.metadata["service_request_id"] == req.pk
    assert event.metadata["due_by"] == "2026-02-15"


def test_invalid_request_writes_nothing(loan):
    before = (ServiceRequest.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        service.request_help(loan=loan, kind="refinance", message="")
    assert set(exc.value.fields) == {"kind", "message"}
    assert (ServiceRequest.objects.count(), AuditEvent.objects.count()) == before


def test_queue_shows_the_request_with_counts_and_overdue(loan, staff_client):
    set_business_date(date(2026, 2, 1))
    late = ask(loan, "hardship", "Lost my job.")
    set_business_date(date(2026, 2, 5))
    fresh = ask(loan, "other", "Where do I send a check?")
    set_business_date(date(2026, 2, 7))  # `late` was due 2026-02-06
    agent, _ = staff_client("servicing_agent")

    response = agent.get(reverse("servicing:service-requests"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<tr data-request="{late.pk}" class="overdue" data-overdue>' in html
    assert f'<tr data-request="{fresh.pk}">' in html
    assert '<strong data-count="open">2</strong>' in html
    assert '<strong data-count="overdue" class="badge bad">1</strong>' in html

    response = agent.get(reverse("servicing:service-requests"), {"overdue": "on"})
    assert [r.pk for r in response.context["rows"]] == [late.pk]
    response = agent.get(reverse("servicing:service-requests"), {"kind": "other"})
    assert [r.pk for r in response.context["rows"]] == [fresh.pk]
    assert service_request_counts(today=date(2026, 2, 7)) == {
        "open": 2,
        "in_progress": 0,
        "resolved": 0,
        "declined": 0,
        "overdue": 1,
    }


# --- working a request --------------------------------------------------------------


def test_assign_start_resolve_and_refuse_resolving_twice(loan, staff_client):
    req = ask(loan)
    agent_client, agent = staff_client("servicing_agent")
    manager = make_staff("manager")

    detail = reverse("servicing:service-request-detail", args=[req.pk])
    response = agent_client.post(
        reverse("servicing:service-request-assign", args=[req.pk]), {"to": "me"}
    )
    assert response.status_code == 302 and response["Location"] == detail
    req.refresh_from_db()
    assert (req.assigned_to_id, req.status) == (agent.pk, "open")

    response = agent_client.post(
        reverse("servicing:service-request-assign", args=[req.pk]), {"assignee": manager.pk}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.assigned_to_id == manager.pk

    response = agent_client.post(reverse("servicing:service-request-start", args=[req.pk]))
    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.status, req.assigned_to_id) == ("in_progress", manager.pk)

    # A resolution note is required: 400, nothing written.
    before = snapshot(req)
    response = agent_client.post(
        reverse("servicing:service-request-resolve", args=[req.pk]), {"resolution": "  "}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert snapshot(req) == before

    response = agent_client.post(
        reverse("servicing:service-request-resolve", args=[req.pk]),
        {"resolution": "Agreed a three-month payment holiday."},
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.status, req.resolution, req.resolved_by_id) == (
        "resolved",
        "Agreed a three-month payment holiday.",
        agent.pk,
    )
    assert req.resolved_at is not None
    actions = list(
        AuditEvent.objects.filter(object_type="servicing.servicerequest", object_id=str(req.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "service_request.assigned",
        "service_request.assigned",
        "service_request.started",
        "service_request.resolved",
    ]

    before = snapshot(req)
    response = agent_client.post(
        reverse("servicing:service-request-resolve", args=[req.pk]), {"resolution": "Again."}
    )
    assert response.status_code == 409
    assert "This request is already resolved; it cannot be resolved." in response.content.decode()
    assert snapshot(req) == before
    with pytest.raises(Conflict):
        service.resolve_request(request=req, user=agent, resolution="Again.")
    assert snapshot(req) == before


def test_decline_requires_a_reason(loan, staff_client):
    req = ask(loan)
    client, agent = staff_client("servicing_agent")
    url = reverse("servicing:service-request-decline", args=[req.pk])
    before = snapshot(req)
    assert client.post(url, {"reason": ""}).status_code == 400
    assert snapshot(req) == before
    with pytest.raises(ValidationFailed) as exc:
        service.decline_request(request=req, user=agent, reason="   ")
    assert list(exc.value.fields) == ["reason"]
    assert snapshot(req) == before

    response = client.post(url, {"reason": "Loan is current; no hardship shown."})
    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.status, req.resolution, req.resolved_by_id) == (
        "declined",
        "Loan is current; no hardship shown.",
        agent.pk,
    )
    # Declined is closed: neither resolve nor assign.
    with pytest.raises(Conflict):
        service.resolve_request(request=req, user=agent, resolution="Changed my mind.")
    with pytest.raises(Conflict):
        service.assign_request(request=req, assignee=agent, user=agent)


def test_assignee_must_be_able_to_work_requests(loan):
    req = ask(loan)
    agent = make_staff("servicing_agent")
    underwriter = make_staff("underwriter")
    before = snapshot(req)
    with pytest.raises(ValidationFailed) as exc:
        service.assign_request(request=req, assignee=underwriter, user=agent)
    assert list(exc.value.fields) == ["assignee"]
    with pytest.raises(ValidationFailed):
        service.assign_request(request=req, assignee=loan.customer.user, user=agent)
    with pytest.raises(PermissionDenied):
        service.assign_request(request=req, assignee=agent, user=underwriter)
    assert snapshot(req) == before


@pytest.mark.parametrize("role", ["loan_officer", "underwriter", "collections_agent"])
def test_roles_without_modify_loan_get_403(loan, staff_client, role):
    req = ask(loan)
    client, _ = staff_client(role)
    before = snapshot(req)
    assert client.get(reverse("servicing:service-requests")).status_code == 403
    assert client.get(reverse("servicing:service-request-detail", args=[req.pk])).status_code == 403
    for name, body in (
        ("service-request-assign", {"to": "me"}),
        ("service-request-start", {}),
        ("service-request-resolve", {"resolution": "Done."}),
        ("service-request-decline", {"reason": "No."}),
    ):
        assert client.post(reverse(f"servicing:{name}", args=[req.pk]), body).status_code == 403
    response = post_json(client, f"/api/v1/service-requests/{req.pk}/resolve/", {"resolution": "x"})
    assert response.status_code == 403
    assert client.get("/api/v1/service-requests/").status_code == 403
    assert snapshot(req) == before


# --- loan page and portal -------------------------------------------------------------


def test_loan_page_lists_the_loans_requests(loan, staff_client):
    req = ask(loan, "other", "Can I change my due date?")
    client, _ = staff_client("servicing_agent")
    html = client.get(reverse("servicing:loan-detail", args=[loan.pk])).content.decode()
    assert 'id="service-requests"' in html
    assert f'<tr data-request="{req.pk}">' in html
    assert reverse("servicing:service-request-detail", args=[req.pk]) in html


def test_borrower_sees_their_requests_and_a_second_borrower_gets_404(product, loan, staff_client):
    req = ask(loan)
    service.resolve_request(
        request=req, user=make_staff("servicing_agent"), resolution="Holiday agreed."
    )
    owner = client_for(loan.customer)
    html = owner.get(reverse("portal:loan-detail", args=[loan.pk])).content.decode()
    request_url = reverse("portal:loan-request", args=[loan.pk, req.pk])
    assert request_url in html
    response = owner.get(request_url)
    assert response.status_code == 200
    assert 'data-status="resolved"' in response.content.decode()
    assert "Holiday agreed." in response.content.decode()

    other = make_borrower("eve@example.com", "Eve")
    other_loan = board(product, other, "APP-R2")
    intruder = client_for(other)
    assert intruder.get(request_url).status_code == 404
    # Even through the intruder's own loan, the request id is not theirs.
    assert (
        intruder.get(reverse("portal:loan-request", args=[other_loan.pk, req.pk])).status_code
        == 404
    )
    assert list(get_service_requests_for_customer(other)) == []


# --- API ------------------------------------------------------------------------------


def test_api_lists_and_resolves(loan, staff_client):
    set_business_date(date(2026, 2, 1))
    req = ask(loan, "hardship", "Lost my job.")
    set_business_date(date(2026, 2, 9))
    reader = api_key_client("loans:read")
    response = reader.get("/api/v1/service-requests/", {"overdue": "true"})
    assert response.status_code == 200, response.json()
    assert response.json() == [
        {
            "id": req.pk,
            "loan_id": loan.pk,
            "loan_number": loan.loan_number,
            "customer_id": loan.customer_id,
            "kind": "hardship",
            "message": "Lost my job.",
            "status": "open",
            "assigned_to": None,
            "received_on": "2026-02-01",
            "due_by": "2026-02-06",
            "overdue": True,
            "resolution": "",
            "resolved_at": None,
        }
    ]
    # A read-only key cannot work requests.
    response = post_json(reader, f"/api/v1/service-requests/{req.pk}/resolve/", {"resolution": "x"})
    assert response.status_code == 403

    agent_client, agent = staff_client("servicing_agent")
    url = f"/api/v1/service-requests/{req.pk}/"
    before = snapshot(req)
    response = post_json(agent_client, url + "decline/", {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert snapshot(req) == before

    response = post_json(agent_client, url + "assign/", {"assignee_id": agent.pk})
    assert response.status_code == 200
    assert response.json()["assigned_to"] == agent.username
    response = post_json(agent_client, url + "resolve/", {"resolution": "Holiday agreed."})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["resolution"], body["overdue"]) == (
        "resolved",
        "Holiday agreed.",
        False,
    )
    before = snapshot(req)
    response = post_json(agent_client, url + "resolve/", {"resolution": "Again."})
    assert response.status_code == 409
    assert response.json()["code"] == "request_closed"
    assert snapshot(req) == before
    assert api_key_client("loans:read").get("/api/v1/service-requests/").json() == []


def test_api_list_runs_a_fixed_number_of_queries(loan, product):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ask(loan)
    client = api_key_client("loans:read")
    client.get("/api/v1/service-requests/")  # warm caches (business date, key)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/service-requests/").json()) == 1
    other = make_borrower("sam@example.com", "Sam")
    ask(board(product, other, "APP-R3"))
    ask(loan, "other", "Second question.")
    with CaptureQueriesContext(connection) as three:
        assert len(client.get("/api/v1/service-requests/").json()) == 3
    assert len(three) == len(one)
