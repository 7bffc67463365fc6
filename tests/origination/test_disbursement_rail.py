# ruff: noqa: F811 (pytest fixtures imported from other modules are used as arguments)
"""The payment rail a disbursement goes out on (settings.DISBURSEMENT_RAIL):
the default NACHA batch rail, and what happens when a rail rejects the
credit or fails (nothing is written; staff see why)."""

from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from core.models import AuditEvent
from origination.models import ApplicationEvent, ApplicationState, Disbursement, DisbursementBatch
from origination.services import disbursement as disbursing
from rails.disbursement import NachaBatchRail, PaymentRail, RailResult
from servicing.models import JournalEntry, Loan
from tests.conftest import login_staff
from tests.factories import UserFactory
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    TODAY,
    _closing_env,
    make_customer,
    servicing_product,
)
from tests.origination.test_disbursement import (  # noqa: F401 (fixtures)
    ACH,
    ROUTING,
    officer,
    product,
    signed_application,
)

pytestmark = pytest.mark.django_db
S = ApplicationState
HERE = "tests.origination.test_disbursement_rail"
REJECTION = "Account closed at the receiving bank (R02)"


class InstantRail:
    """Accepts every credit and remembers what it was sent."""

    name = "instant"
    sent: list = []

    def send_credit(self, payout):
        InstantRail.sent.append(payout)
        return RailResult.accept(f"RTP-{len(InstantRail.sent):04d}", "Settled.")


class RejectingRail:
    name = "picky"

    def send_credit(self, payout):
        return RailResult.reject(REJECTION)


class BrokenRail:
    name = "broken"

    def send_credit(self, payout):
        raise ConnectionError("connection reset by peer")


@pytest.fixture(autouse=True)
def _fresh_instant_rail():
    InstantRail.sent = []


def _nothing_written(application, events_before, audits_before):
    application.refresh_from_db()
    assert application.state == S.DOCUMENTS_SIGNED
    assert application.loan_number == "" and application.funded_at is None
    disbursement = Disbursement.objects.get(application=application)
    assert disbursement.status == Disbursement.Status.PENDING
    assert (disbursement.loan_number, disbursement.rail, disbursement.rail_reference) == (
        "",
        "",
        "",
    )
    assert Loan.objects.count() == 0
    assert JournalEntry.objects.count() == 0
    assert ApplicationEvent.objects.filter(application=application).count() == events_before
    assert AuditEvent.objects.count() == audits_before


def _counts(application):
    return ApplicationEvent.objects.filter(application=application).count(), (
        AuditEvent.objects.count()
    )


def test_the_built_in_rail_is_a_payment_rail():
    assert isinstance(NachaBatchRail(), PaymentRail)
    assert isinstance(disbursing.payment_rail(), NachaBatchRail)


@override_settings(**ACH)
def test_default_rail_queues_the_net_credit_for_the_days_nacha_file(product, officer):
    application, _ = signed_application(product)

    disbursing.disburse(application=application, user=officer)

    disbursement = Disbursement.objects.get(application=application)
    assert disbursement.status == Disbursement.Status.SENT
    assert (disbursement.rail, disbursement.rail_reference) == ("nacha", application.reference)
    assert disbursement.amount == Decimal("9700.00")
    audit = AuditEvent.objects.get(action="disbursement.completed")
    assert (audit.metadata["rail"], audit.metadata["rail_reference"]) == (
        "nacha",
        application.reference,
    )

    batch = disbursing.daily_disbursement_file(business_date=TODAY, user=officer)
    assert (batch.entry_count, batch.total) == (1, Decimal("9700.00"))
    entry = next(line for line in batch.file_text.splitlines() if line[0] == "6")
    assert (entry[3:12], entry[12:29].strip(), entry[29:39], entry[39:54].strip()) == (
        ROUTING,
        "123456789",
        "0000970000",
        application.reference,
    )
    disbursement.refresh_from_db()
    assert disbursement.batch == batch
    assert disbursement.trace_number == entry[79:94] == "021000020000001"


@override_settings(**ACH, DISBURSEMENT_RAIL=f"{HERE}.InstantRail")
def test_rail_receives_the_net_amount_and_the_validated_account(product, officer):
    application, _ = signed_application(
        product, account="0012-3456 789", routing="0210-00021", kind="savings"
    )

    disbursing.disburse(application=application, user=officer)

    [payout] = InstantRail.sent
    assert payout.amount == Decimal("9700.00")  # 10,000 less the 3 % withheld fee
    assert (payout.routing, payout.account, payout.account_type) == (
        "021000021",
        "00123456789",
        "savings",
    )
    assert payout.reference == application.reference
    assert payout.name == application.applicant.legal_name
    application.refresh_from_db()
    assert application.state == S.DISBURSED
    loan = Loan.objects.get(origination_reference=application.reference)
    assert loan.disbursed_amount == Decimal("9700.00")
    disbursement = Disbursement.objects.get(application=application)
    assert (disbursement.status, disbursement.rail, disbursement.rail_reference) == (
        Disbursement.Status.SENT,
        "instant",
        "RTP-0001",
    )
    # Another rail paid it: the day's NACHA file must not pay it again.
    assert disbursing.daily_disbursement_file(business_date=TODAY, user=officer) is None
    assert DisbursementBatch.objects.count() == 0
    disbursement.refresh_from_db()
    assert disbursement.batch is None and disbursement.trace_number == ""


@override_settings(DISBURSEMENT_RAIL=f"{HERE}.RejectingRail")
def test_a_rejecting_rail_refuses_the_disbursement_and_writes_nothing(product, officer):
    application, _ = signed_application(product)
    events_before, audits_before = _counts(application)

    with pytest.raises(disbursing.Conflict) as exc:
        disbursing.disburse(application=application, user=officer)

    assert exc.value.status_code == 409
    assert exc.value.code == "rail_rejected"
    assert exc.value.message == f"The payment rail (picky) rejected the disbursement: {REJECTION}"
    _nothing_written(application, events_before, audits_before)


@override_settings(DISBURSEMENT_RAIL=f"{HERE}.BrokenRail")
def test_a_failing_rail_refuses_the_disbursement_and_writes_nothing(product, officer):
    application, _ = signed_application(product)
    events_before, audits_before = _counts(application)

    with pytest.raises(disbursing.Conflict) as exc:
        disbursing.disburse(application=application, user=officer)

    assert (exc.value.status_code, exc.value.code) == (409, "rail_failed")
    assert "(broken) failed" in exc.value.message
    assert "Nothing was disbursed" in exc.value.message
    _nothing_written(application, events_before, audits_before)

    # The rail recovers: the same application disburses normally.
    with override_settings(DISBURSEMENT_RAIL=f"{HERE}.InstantRail"):
        disbursing.disburse(application=application, user=officer)
    application.refresh_from_db()
    assert application.state == S.DISBURSED
    assert Loan.objects.filter(origination_reference=application.reference).count() == 1


@override_settings(DISBURSEMENT_RAIL=f"{HERE}.RejectingRail")
def test_staff_disburse_action_shows_the_rails_rejection(product):
    client = login_staff(Client(), UserFactory(role="loan_officer"))
    application, _ = signed_application(product)
    events_before, audits_before = _counts(application)

    response = client.post(reverse("origination:application-disburse", args=[application.pk]))

    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="action-error"' in html
    assert REJECTION in html
    _nothing_written(application, events_before, audits_before)


@override_settings(DISBURSEMENT_RAIL=f"{HERE}.BrokenRail")
def test_api_disburse_answers_409_when_the_rail_fails(product):
    from tests.conftest import make_staff

    client = login_staff(Client(), make_staff("manager"))
    application, _ = signed_application(product, customer=make_customer("Lee", "Okafor"))
    events_before, audits_before = _counts(application)

    response = client.post(
        f"/api/v1/applications/{application.pk}/disburse/",
        {},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="fund-rail-1",
    )

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "rail_failed"
    assert body["message"].startswith("The payment rail (broken) failed: ConnectionError.")
    assert body["fields"] == {"rail": "broken"}
    _nothing_written(application, events_before, audits_before)
