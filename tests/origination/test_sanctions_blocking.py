"""Sanctions results hold up the application: an open or confirmed hit, or
a screening that found no list, blocks approval; confirming a hit declines
the application with an adverse action notice; clearing the last hit (or a
successful screening) lifts the block."""

from datetime import date

import pytest
from django.core import mail

from core.exceptions import Conflict, DomainError, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from origination.decisioning.reasons import REASONS
from origination.models import (
    ApplicationEvent,
    ApplicationState,
    DecisionRecord,
    GeneratedDocument,
    Offer,
    SanctionsHit,
    SanctionsList,
)
from origination.services import applications as apps
from origination.services import kyc, underwriting
from tests.factories import UserFactory
from tests.origination.test_applications import (
    APPLICATION_DATA,
    CLEAN,
    consent_all,
    default_product,
    import_sample_sdn,
    person,
    submitted,
    transitions,
)

pytestmark = pytest.mark.django_db
S = ApplicationState
SMITH_TAX_ID = CLEAN.replace("401", "407")


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    import_sample_sdn()


@pytest.fixture
def underwriter():
    return UserFactory(role="underwriter")


@pytest.fixture
def smith():
    return person(SMITH_TAX_ID, first="John", last="Smith", dob=date(1965, 3, 12))


@pytest.fixture
def flagged(smith):
    """John Smith (on the sample SDN list) applies: referred with an open hit."""
    app = submitted(smith)
    assert app.state == S.IN_UNDERWRITING
    return app


def _decisions(app):
    return list(
        DecisionRecord.objects.filter(application=app).order_by("id").values_list("kind", "outcome")
    )


def _approval_attempts(app, user):
    return {
        "approve": lambda: underwriting.approve(app, user, annual_rate="0.0799"),
        "approve_conditionally": lambda: underwriting.approve_conditionally(
            app, user, conditions=["Proof of address"], annual_rate="0.0799"
        ),
        "counter_offer": lambda: underwriting.counter_offer(
            app, user, amount="6000.00", term=24, annual_rate="0.0799"
        ),
    }


def test_open_hit_blocks_every_approval_path(flagged, underwriter):
    hit = SanctionsHit.objects.get(application_id=flagged.pk)
    expected = f"sanctions hit {hit.pk} on John Smith awaits compliance review"
    assert underwriting.blockers(flagged) == {"sanctions": [expected]}
    before = _decisions(flagged)
    for action, attempt in _approval_attempts(flagged, underwriter).items():
        with pytest.raises(Conflict) as exc:
            attempt()
        assert exc.value.code == "approval_blocked", action
        assert exc.value.message == (
            f"Application {flagged.reference} cannot be approved yet — sanctions: {expected}."
        )
        assert exc.value.fields == {"sanctions": [expected]}
    flagged.refresh_from_db()
    assert flagged.state == S.IN_UNDERWRITING
    assert flagged.approved_amount is None
    assert _decisions(flagged) == before
    assert not flagged.conditions.exists()
    assert not Offer.objects.filter(application=flagged).exists()
    assert transitions(flagged)[-1] == ("submitted", "in_underwriting")


def test_confirming_the_hit_declines_with_a_notice_and_approval_stays_refused(flagged, underwriter):
    hit = SanctionsHit.objects.get(application_id=flagged.pk)
    reviewer = UserFactory(role="underwriter")
    # bad input first: nothing is decided, nothing declined
    with pytest.raises(ValidationFailed):
        underwriting.confirm_hit(hit=hit, acting_user=reviewer, reason="   ")
    hit.refresh_from_db()
    flagged.refresh_from_db()
    assert (hit.status, flagged.state) == ("potential_match", S.IN_UNDERWRITING)
    with pytest.raises(PermissionDenied):
        underwriting.confirm_hit(
            hit=hit, acting_user=UserFactory(role="loan_officer"), reason="Match"
        )
    flagged.refresh_from_db()
    assert flagged.state == S.IN_UNDERWRITING
    assert not GeneratedDocument.objects.filter(application=flagged).exists()

    confirmed = underwriting.confirm_hit(
        hit=hit, acting_user=reviewer, reason="Passport A1234567 matches"
    )
    assert confirmed.status == "confirmed"
    flagged.refresh_from_db()
    assert flagged.state == S.DECLINED
    assert flagged.decided_at is not None
    assert flagged.decision_reasons == [
        {
            "code": "SANCTIONS_MATCH",
            "text": REASONS["SANCTIONS_MATCH"],
            "outcome": "decline",
            "rule": "",
        }
    ]
    record = DecisionRecord.objects.filter(application=flagged).order_by("id").last()
    assert (record.kind, record.outcome, record.created_by_id) == (
        "underwriter",
        "decline",
        reviewer.pk,
    )
    assert record.note == f"Sanctions hit {hit.pk} confirmed: Passport A1234567 matches"
    event = ApplicationEvent.objects.filter(application=flagged).order_by("id").last()
    assert (event.from_state, event.to_state, event.actor_id) == (
        S.IN_UNDERWRITING,
        S.DECLINED,
        reviewer.pk,
    )
    declined = AuditEvent.objects.get(action="application.decline", object_id=str(flagged.pk))
    assert declined.actor_id == reviewer.pk
    assert declined.metadata["reasons"] == ["SANCTIONS_MATCH"]
    notice = GeneratedDocument.objects.get(application=flagged, kind="adverse_action")
    assert notice.sha256
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["john.smith@example.com"]
    assert mail.outbox[0].attachments[0][0] == f"{flagged.reference}-adverse-action.pdf"

    assert underwriting.blockers(flagged)["sanctions"] == [
        f"sanctions hit {hit.pk} on John Smith is a confirmed match"
    ]
    with pytest.raises(Conflict) as exc:
        underwriting.approve(flagged, underwriter, annual_rate="0.0799")
    assert exc.value.message == f"Cannot approve application {flagged.reference}: it is declined."
    flagged.refresh_from_db()
    assert flagged.state == S.DECLINED
    assert flagged.approved_amount is None


def test_clearing_the_last_open_hit_lifts_the_block(smith, underwriter):
    doe = person("408-23-9999", first="Jane", last="Doe", dob=date(1970, 1, 1))
    app = apps.start_application(
        applicant=smith,
        co_applicant=doe,
        product=default_product(),
        channel="portal",
        data=APPLICATION_DATA,
    )
    consent_all(app)
    app = apps.submit(app)
    assert app.state == S.IN_UNDERWRITING
    smith_hit = SanctionsHit.objects.get(application_id=app.pk, customer=smith)
    doe_hit = SanctionsHit.objects.get(application_id=app.pk, customer=doe)
    reviewer = UserFactory(role="underwriter")

    kyc.clear_hit(hit=smith_hit, acting_user=reviewer, reason="Different DOB and passport")
    remaining = f"sanctions hit {doe_hit.pk} on Jane Doe awaits compliance review"
    assert underwriting.blockers(app) == {"sanctions": [remaining]}
    with pytest.raises(Conflict) as exc:
        underwriting.approve(app, underwriter, annual_rate="0.0799")
    assert exc.value.fields == {"sanctions": [remaining]}
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING

    kyc.clear_hit(hit=doe_hit, acting_user=reviewer, reason="Different person: US passport")
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING  # clearing decides nothing by itself
    assert underwriting.blockers(app) == {}
    app = underwriting.approve(app, underwriter, annual_rate="0.0799")
    assert app.state == S.APPROVED
    assert app.approved_amount == app.requested_amount
    assert Offer.objects.filter(application=app).exists()
    assert len(mail.outbox) == 0


def test_unavailable_screening_blocks_until_screened_again(underwriter):
    SanctionsList.objects.update(is_active=False)
    app = submitted(person(CLEAN))
    assert app.state == S.IN_UNDERWRITING
    assert "SANCTIONS_UNAVAILABLE" in [r["code"] for r in app.decision_reasons]
    expected = "sanctions screening of Ada Lovelace was unavailable and has not been run since"
    assert underwriting.blockers(app) == {"sanctions": [expected]}
    for action, attempt in _approval_attempts(app, underwriter).items():
        with pytest.raises(Conflict) as exc:
            attempt()
        assert exc.value.fields == {"sanctions": [expected]}, action
    app.refresh_from_db()
    assert (app.state, app.approved_amount) == (S.IN_UNDERWRITING, None)

    # still no list: the screening is refused and nothing changes
    with pytest.raises(DomainError) as exc:
        kyc.screen_application(application=app, acting_user=underwriter)
    assert exc.value.code == "no_sanctions_list"
    with pytest.raises(PermissionDenied):
        kyc.screen_application(application=app, acting_user=UserFactory(role="loan_officer"))
    assert not AuditEvent.objects.filter(action="sanctions.screened").exists()
    assert underwriting.blockers(app) == {"sanctions": [expected]}

    SanctionsList.objects.update(is_active=True)
    assert kyc.screen_application(application=app, acting_user=underwriter) == []
    assert underwriting.blockers(app) == {}
    app = underwriting.approve(app, underwriter)
    assert app.state == S.APPROVED
    assert app.approved_rate is not None


def test_rescreening_that_finds_a_hit_keeps_the_block(smith, underwriter):
    SanctionsList.objects.update(is_active=False)
    app = submitted(smith)
    assert underwriting.blockers(app)["sanctions"] == [
        "sanctions screening of John Smith was unavailable and has not been run since"
    ]
    SanctionsList.objects.update(is_active=True)
    (hit,) = kyc.screen_application(application=app, acting_user=underwriter)
    assert hit.application_id == app.pk
    assert underwriting.blockers(app) == {
        "sanctions": [f"sanctions hit {hit.pk} on John Smith awaits compliance review"]
    }
    with pytest.raises(Conflict):
        underwriting.approve(app, underwriter, annual_rate="0.0799")
    app.refresh_from_db()
    assert app.state == S.IN_UNDERWRITING
