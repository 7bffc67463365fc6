# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""A borrower withdraws their own application in the portal: a POST with a
ticked confirmation (the reason optional) moves it to withdrawn with its
timeline and audit events; a final application is refused with a message
on the page; another borrower gets 404 and nothing changes; GET is not
allowed."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from origination.models import Application, ApplicationEvent, ApplicationState
from origination.views.portal import PORTAL_WITHDRAW_REASON
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    _closing_env,
    approved_application,
    servicing_product,
)
from tests.origination.test_portal_apply import (  # noqa: F401 (the product fixture)
    LOAN,
    apply_through_review,
    borrower,
    client_for,
    product,
    with_identity,
)

pytestmark = pytest.mark.django_db
S = ApplicationState


def withdraw_url(application) -> str:
    return reverse("portal:application-withdraw", args=[application.pk])


def detail_url(application) -> str:
    return reverse("portal:application-detail", args=[application.pk])


@pytest.fixture
def approved(product):
    """A portal borrower's application approved by the automatic decision."""
    customer = with_identity(borrower(), "412-70-9999")
    return approved_application(product, customer=customer)


def test_the_borrower_withdraws_an_approved_application_with_a_reason(approved):
    client = client_for(approved.applicant)
    html = client.get(detail_url(approved)).content.decode()
    assert 'id="withdraw-form"' in html
    assert withdraw_url(approved) in html
    assert "Yes, withdraw this application." in html

    response = client.post(
        withdraw_url(approved), {"reason": "Found a lower rate elsewhere.", "confirm": "on"}
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(approved)
    approved.refresh_from_db()
    assert (approved.state, approved.withdraw_reason) == (
        S.WITHDRAWN,
        "Found a lower rate elsewhere.",
    )
    event = ApplicationEvent.objects.filter(application=approved).order_by("-id").first()
    assert (event.from_state, event.to_state, event.actor, event.note) == (
        S.APPROVED,
        S.WITHDRAWN,
        approved.applicant.user,
        "Found a lower rate elsewhere.",
    )
    audit = AuditEvent.objects.get(
        action="application.withdraw",
        object_type="origination.application",
        object_id=str(approved.pk),
    )
    assert audit.actor == approved.applicant.user
    assert audit.changes == {"state": [S.APPROVED, S.WITHDRAWN]}

    # What the borrower now sees: the confirmation, the status and the timeline; no form.
    page = client.get(detail_url(approved))
    html = page.content.decode()
    assert "Your application is withdrawn." in html
    assert 'data-outcome="withdrawn"' in html
    assert [row["label"] for row in page.context["timeline"]][-1] == "Application withdrawn"
    assert 'id="withdraw-form"' not in html
    assert "data-offer=" not in html  # the offers are gone with it


def test_the_reason_is_optional_for_a_draft(product):
    customer = borrower()
    client = client_for(customer)
    client.post(reverse("portal:apply"), {"product": str(product.pk), **LOAN})
    application = Application.objects.get(applicant=customer)

    response = client.post(withdraw_url(application), {"reason": "  ", "confirm": "on"})

    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.state, application.withdraw_reason) == (S.WITHDRAWN, PORTAL_WITHDRAW_REASON)
    # A withdrawn draft is no longer offered for resuming.
    listing = client.get(reverse("portal:applications")).content.decode()
    assert "data-resume" not in listing


def test_without_the_confirmation_nothing_changes(approved):
    client = client_for(approved.applicant)
    response = client.post(withdraw_url(approved), {"reason": "Changed my mind"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick the box to confirm that you want to withdraw." in html
    assert "<details open>" in html  # the form stays open with the reason kept
    assert "Changed my mind" in html
    approved.refresh_from_db()
    assert approved.state == S.APPROVED
    assert not AuditEvent.objects.filter(action="application.withdraw").exists()


def test_a_final_application_is_refused_with_a_message(product):
    customer = borrower("Pat", "Chapter")
    client = client_for(customer)
    declined = apply_through_review(client, product, "412-71-0003")  # bankruptcy file
    assert declined.state == S.DECLINED
    assert 'id="withdraw-form"' not in client.get(detail_url(declined)).content.decode()

    response = client.post(withdraw_url(declined), {"confirm": "on"})

    assert response.status_code == 409
    assert "This application is declined and can no longer be withdrawn." in (
        response.content.decode()
    )
    declined.refresh_from_db()
    assert (declined.state, declined.withdraw_reason) == (S.DECLINED, "")


def test_withdrawing_twice_says_it_is_already_withdrawn(approved):
    client = client_for(approved.applicant)
    client.post(withdraw_url(approved), {"confirm": "on"})
    events = ApplicationEvent.objects.filter(application=approved).count()

    response = client.post(withdraw_url(approved), {"confirm": "on", "reason": "again"})

    assert response.status_code == 409
    assert "This application is withdrawn and can no longer be withdrawn." in (
        response.content.decode()
    )
    approved.refresh_from_db()
    assert approved.withdraw_reason == PORTAL_WITHDRAW_REASON
    assert ApplicationEvent.objects.filter(application=approved).count() == events


def test_another_borrower_gets_404_and_get_is_not_allowed(approved):
    stranger = client_for(with_identity(borrower("Sam", "Stranger"), "412-72-9999"))
    assert stranger.post(withdraw_url(approved), {"confirm": "on"}).status_code == 404

    owner = client_for(approved.applicant)
    assert owner.get(withdraw_url(approved)).status_code == 405

    approved.refresh_from_db()
    assert approved.state == S.APPROVED
    assert not ApplicationEvent.objects.filter(application=approved, to_state=S.WITHDRAWN).exists()


def test_a_co_applicant_cannot_withdraw(approved):
    co_applicant = borrower("Cory", "Coapp")
    Application.objects.filter(pk=approved.pk).update(co_applicant=co_applicant)
    client = client_for(co_applicant)
    assert 'id="withdraw-form"' not in client.get(detail_url(approved)).content.decode()

    assert client.post(withdraw_url(approved), {"confirm": "on"}).status_code == 404
    approved.refresh_from_db()
    assert approved.state == S.APPROVED
