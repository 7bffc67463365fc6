"""/api/v1/compliance/hits/... and /api/v1/applications/{id}/screen/, and
the staff "Screen again" button: deciding sanctions hits and re-screening
through the real services on PostgreSQL."""

from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEvent
from origination.models import ApplicationState, DecisionRecord, SanctionsHit, SanctionsList
from origination.services import underwriting
from tests.origination.test_api_applications import api_key_client
from tests.origination.test_applications import (
    CLEAN,
    import_sample_sdn,
    person,
    submitted,
)

pytestmark = pytest.mark.django_db
S = ApplicationState
SMITH_TAX_ID = CLEAN.replace("401", "407")
HITS = "/api/v1/compliance/hits/"
UNAVAILABLE = "sanctions screening of Ada Lovelace was unavailable and has not been run since"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def flagged():
    """John Smith (on the sample SDN list) applies: referred with an open hit."""
    import_sample_sdn()
    smith = person(SMITH_TAX_ID, first="John", last="Smith", dob=date(1965, 3, 12))
    app = submitted(smith)
    assert app.state == S.IN_UNDERWRITING
    return app


@pytest.fixture
def unscreened():
    """Ada applies while no sanctions list has been imported: referred, blocked."""
    assert not SanctionsList.objects.exists()
    app = submitted(person(CLEAN))
    assert underwriting.blockers(app) == {"sanctions": [UNAVAILABLE]}
    return app


def post(client, path, body=None):
    return client.post(path, body if body is not None else {}, content_type="application/json")


def decisions_audited() -> int:
    return AuditEvent.objects.filter(action__startswith="sanctions.hit_").count()


# --- list ------------------------------------------------------------------------------------


def test_list_shows_open_hits_with_reference_subject_entry_and_score(flagged, staff_client):
    client, _ = staff_client("underwriter")
    hit = SanctionsHit.objects.get(application_id=flagged.pk)
    response = client.get(HITS)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["id"] == hit.pk
    assert row["status"] == "potential_match"
    assert row["application"] == {
        "id": flagged.pk,
        "reference": flagged.reference,
        "state": "in_underwriting",
    }
    assert row["subject_name"] == "John Smith"
    assert row["subject_date_of_birth_masked"] == "••/••/1965"
    assert "1965-03-12" not in str(row)
    assert row["score"] == str(hit.top_score)
    best = hit.matches[0]
    assert row["matched_entry"]["ent_num"] == best["ent_num"]
    assert row["matched_entry"]["name"] == best["name"]
    assert row["matched_entry"]["score"] == best["score"]
    assert row["match_count"] == len(hit.matches)

    # a decided hit leaves the list
    post(client, f"{HITS}{hit.pk}/clear/", {"reason": "Different date of birth"})
    assert client.get(HITS).json()["count"] == 0


def test_list_is_refused_without_the_compliance_permission(flagged, staff_client):
    officer, _ = staff_client("loan_officer")
    response = officer.get(HITS)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    # an API key whose user lacks the role permission is refused too
    key = api_key_client("applications:read")
    assert key.get(HITS).status_code == 403


# --- clear / confirm -------------------------------------------------------------------------


def test_confirm_declines_the_application(flagged, staff_client):
    client, reviewer = staff_client("underwriter")
    hit = SanctionsHit.objects.get(application_id=flagged.pk)
    response = post(client, f"{HITS}{hit.pk}/confirm/", {"reason": "Passport A1234567 matches"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["decision_reason"] == "Passport A1234567 matches"
    assert body["application"]["state"] == "declined"
    hit.refresh_from_db()
    flagged.refresh_from_db()
    assert (hit.status, hit.decided_by_id) == ("confirmed", reviewer.pk)
    assert flagged.state == S.DECLINED
    assert [r["code"] for r in flagged.decision_reasons] == ["SANCTIONS_MATCH"]
    record = DecisionRecord.objects.filter(application=flagged).order_by("id").last()
    assert (record.outcome, record.created_by_id) == ("decline", reviewer.pk)

    # already decided: 409, nothing changes
    for action in ("confirm", "clear"):
        again = post(client, f"{HITS}{hit.pk}/{action}/", {"reason": "Second thoughts"})
        assert again.status_code == 409
        assert again.json()["code"] == "already_decided"
    hit.refresh_from_db()
    assert (hit.status, hit.decision_reason) == ("confirmed", "Passport A1234567 matches")
    assert decisions_audited() == 1


def test_bad_requests_write_nothing_then_clear_lifts_the_block(flagged, staff_client):
    client, reviewer = staff_client("underwriter")
    hit = SanctionsHit.objects.get(application_id=flagged.pk)
    url = f"{HITS}{hit.pk}/clear/"

    for body in ({}, {"reason": "   "}):
        response = post(client, url, body)
        assert response.status_code == 400, body
        assert "reason" in response.json()["fields"]
    officer, _ = staff_client("loan_officer")
    assert post(officer, url, {"reason": "Looks fine"}).status_code == 403
    assert post(officer, f"{HITS}{hit.pk}/confirm/", {"reason": "Match"}).status_code == 403
    key = api_key_client("applications:write")  # its user holds no compliance role
    denied = post(key, url, {"reason": "Looks fine"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "not_allowed"
    missing = post(client, f"{HITS}{hit.pk + 999}/clear/", {"reason": "Looks fine"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"

    hit.refresh_from_db()
    flagged.refresh_from_db()
    assert (hit.status, hit.decided_by_id, hit.decision_reason) == ("potential_match", None, "")
    assert flagged.state == S.IN_UNDERWRITING
    assert decisions_audited() == 0
    assert "sanctions" in underwriting.blockers(flagged)

    response = post(client, url, {"reason": "Different date of birth and nationality"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cleared"
    assert response.json()["application"]["state"] == "in_underwriting"
    hit.refresh_from_db()
    flagged.refresh_from_db()
    assert (hit.status, hit.decided_by_id) == ("cleared", reviewer.pk)
    assert flagged.state == S.IN_UNDERWRITING
    assert underwriting.blockers(flagged) == {}
    assert post(client, url, {"reason": "Again"}).status_code == 409
    assert decisions_audited() == 1


# --- screening again: API --------------------------------------------------------------------


def test_screen_via_api_refused_without_a_list_then_lifts_the_blocker(unscreened, staff_client):
    client, _ = staff_client("underwriter")
    url = f"/api/v1/applications/{unscreened.pk}/screen/"

    refused = post(client, url)
    assert refused.status_code == 422
    assert refused.json()["code"] == "no_sanctions_list"
    assert "No sanctions list has been imported" in refused.json()["message"]
    officer, _ = staff_client("loan_officer")
    assert post(officer, url).status_code == 403
    assert post(client, "/api/v1/applications/999999/screen/").status_code == 404
    assert not AuditEvent.objects.filter(action="sanctions.screened").exists()
    assert underwriting.blockers(unscreened) == {"sanctions": [UNAVAILABLE]}

    import_sample_sdn()
    response = post(client, url)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["application"]["reference"] == unscreened.reference
    assert (body["hits"], body["sanctions_blockers"]) == ([], [])
    assert underwriting.blockers(unscreened) == {}


def test_screen_via_api_that_finds_a_hit_reports_it(staff_client):
    smith = person(SMITH_TAX_ID, first="John", last="Smith", dob=date(1965, 3, 12))
    app = submitted(smith)
    import_sample_sdn()
    client, _ = staff_client("underwriter")
    response = post(client, f"/api/v1/applications/{app.pk}/screen/")
    assert response.status_code == 200, response.json()
    body = response.json()
    hit = SanctionsHit.objects.get(application_id=app.pk)
    assert [h["id"] for h in body["hits"]] == [hit.pk]
    assert body["hits"][0]["application"]["reference"] == app.reference
    assert body["sanctions_blockers"] == [
        f"sanctions hit {hit.pk} on John Smith awaits compliance review"
    ]


# --- screening again: the staff button -------------------------------------------------------


def test_screen_again_button_shows_refusal_then_result(unscreened, staff_client):
    client, _ = staff_client("underwriter")
    page = reverse("origination:application-detail", args=[unscreened.pk])
    button = reverse("origination:application-screen", args=[unscreened.pk])

    html = client.get(page).content.decode()
    assert 'id="screen-form"' in html and button in html and "Screen again" in html

    refused = client.post(button)
    assert refused.status_code == 422
    assert "Not screened: No sanctions list has been imported" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="sanctions.screened").exists()

    officer, _ = staff_client("loan_officer")
    assert officer.post(button).status_code == 403
    assert 'id="screen-form"' not in officer.get(page).content.decode()

    import_sample_sdn()
    done = client.post(button, follow=True)
    assert done.redirect_chain == [(page, 302)]
    html = done.content.decode()
    assert "Screened again: no sanctions match." in html
    assert UNAVAILABLE not in html
    assert 'id="screen-form"' not in html
    assert underwriting.blockers(unscreened) == {}


def test_screen_again_button_reports_a_potential_match(staff_client):
    smith = person(SMITH_TAX_ID, first="John", last="Smith", dob=date(1965, 3, 12))
    app = submitted(smith)
    import_sample_sdn()
    client, _ = staff_client("underwriter")
    done = client.post(reverse("origination:application-screen", args=[app.pk]), follow=True)
    html = done.content.decode()
    assert "Screened again: potential sanctions match for John Smith" in html
    hit = SanctionsHit.objects.get(application_id=app.pk)
    assert f"sanctions hit {hit.pk} on John Smith awaits compliance review" in html
    assert 'id="screen-form"' not in html


def test_no_button_without_an_unavailable_screening(flagged, staff_client):
    client, _ = staff_client("underwriter")
    html = client.get(reverse("origination:application-detail", args=[flagged.pk])).content
    assert b"awaits compliance review" in html
    assert b'id="screen-form"' not in html
