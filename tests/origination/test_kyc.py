"""KYC/AML with the database: importing the SDN list, screening customers,
the compliance decisions and the compliance review pages."""

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from core import crypto
from core.exceptions import Conflict, DomainError, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from customers import services as customer_services
from origination.models import SanctionsEntry, SanctionsHit, SanctionsList
from origination.services import kyc
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "origination" / "data" / "sdn_sample"
ADDRESS = {
    "kind": "residential",
    "line1": "12 St Marks Pl",
    "city": "New York",
    "state": "NY",
    "postal_code": "10003",
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def person(first, last, dob, tax_id, middle=""):
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "date_of_birth": dob,
            "tax_id": tax_id,
            "email": f"{first}.{last}@example.com".lower(),
        },
        addresses=[ADDRESS],
    )


@pytest.fixture
def sample_list():
    report = kyc.import_sdn(files=SAMPLE)
    return SanctionsList.objects.get(pk=report.sanctions_list_id)


@pytest.fixture
def john_smith():
    return person("John", "Smith", date(1965, 3, 12), "401-23-4567")


@pytest.fixture
def ada():
    return person("Ada", "Lovelace", date(1985, 12, 10), "402-23-4567", middle="K")


@pytest.fixture
def reviewer():
    return UserFactory(role="underwriter")


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- import --------------------------------------------------------------------


def test_import_command_is_idempotent_on_the_digest():
    out = StringIO()
    call_command("import_sdn", str(SAMPLE), stdout=out)
    lists = list(SanctionsList.objects.all())
    assert len(lists) == 1
    first = lists[0]
    assert out.getvalue() == (
        f"Imported list {first.pk} (sha256 {first.sha256[:16]}): "
        "40 entries, 18 aliases, 11 addresses, 22 dates of birth\n"
    )
    assert (first.entry_count, first.alias_count, first.is_active) == (40, 18, True)
    assert SanctionsEntry.objects.filter(sanctions_list=first).count() == 40

    again = StringIO()
    call_command(
        "import_sdn",
        str(SAMPLE / "sdn.csv"),
        str(SAMPLE / "alt.csv"),
        str(SAMPLE / "add.csv"),
        stdout=again,
    )
    assert again.getvalue().startswith(f"Already imported, nothing changed: list {first.pk} ")
    assert SanctionsList.objects.count() == 1
    assert SanctionsEntry.objects.count() == 40
    (event,) = events("sanctions.list_imported")
    assert event.metadata == {
        "source": "OFAC SDN",
        "sha256": first.sha256,
        "entries": 40,
        "aliases": 18,
        "addresses": 11,
        "dates_of_birth": 22,
    }


def test_a_new_publication_becomes_the_only_active_list(sample_list):
    files = kyc.read_files(SAMPLE)
    files["sdn.csv"] = files["sdn.csv"].replace(b'"SMITH, John"', b'"SMITH, Johnny"')
    report = kyc.import_sdn(files=files, publish_date=date(2026, 11, 20))
    assert report.created is True
    newer = SanctionsList.objects.get(pk=report.sanctions_list_id)
    sample_list.refresh_from_db()
    assert (sample_list.is_active, newer.is_active) == (False, True)
    assert newer.publish_date == date(2026, 11, 20)
    assert kyc.active_list() == newer
    assert SanctionsEntry.objects.get(sanctions_list=newer, ent_num=1001).name == "SMITH, Johnny"


def test_malformed_files_write_nothing():
    with pytest.raises(ValidationFailed) as caught:
        kyc.import_sdn(files={"sdn.csv": b'1,"X","-0- "\r\n'})
    assert caught.value.fields == {"files": ["sdn.csv line 1: expected 12 fields, got 3"]}
    assert SanctionsList.objects.count() == 0
    assert SanctionsEntry.objects.count() == 0
    assert events("sanctions.list_imported") == []


def test_entry_rows_keep_the_published_data(sample_list):
    entry = SanctionsEntry.objects.get(sanctions_list=sample_list, ent_num=1002)
    assert entry.name == "DOE, Jane Marie"
    assert entry.normalized_name == "jane marie doe"
    assert entry.kind == "individual"
    assert entry.programs == ["SDNTK"]
    assert [a["name"] for a in entry.aliases] == ["DOE, Janie", "RIVERA, Jane Marie"]
    assert [d["text"] for d in entry.dates_of_birth] == ["01 Jan 1970", "02 Jan 1971"]
    assert entry.addresses == [
        {
            "add_num": 205,
            "address": "Calle 5 No. 10-20",
            "city": "Cali",
            "country": "Colombia",
            "remarks": "",
        }
    ]
    vessel = SanctionsEntry.objects.get(sanctions_list=sample_list, ent_num=3001)
    assert (vessel.kind, vessel.details["vessel_flag"]) == ("vessel", "Panama")


# --- screening -----------------------------------------------------------------


def test_screening_a_listed_customer_creates_a_hit(sample_list, john_smith):
    hit = kyc.screen_customer(customer=john_smith, application_id=77)
    assert hit is not None
    hit.refresh_from_db()
    assert hit.status == "potential_match"
    assert (hit.screened_name, hit.screened_dob_masked, hit.application_id) == (
        "John Smith",
        "••/••/1965",
        77,
    )
    assert crypto.decrypt(hit.screened_dob_encrypted) == "1965-03-12"
    assert hit.sanctions_list == sample_list
    assert hit.top_score == Decimal("100.0")
    assert hit.matches == [
        {
            "ent_num": 1001,
            "name": "SMITH, John",
            "matched_name": "SMITH, John",
            "matched_alias": False,
            "score": 100.0,
            "kind": "individual",
            "programs": ["SDGT"],
            "dob_result": "match",
            "listed_dates_of_birth": ["12 Mar 1965"],
            "disposition": "strong_match",
        }
    ]
    (event,) = events("sanctions.screened")
    assert (event.object_type, event.object_id) == ("customers.customer", str(john_smith.pk))
    assert event.metadata == {
        "result": "potential_match",
        "sanctions_list": sample_list.sha256,
        "matches": [1001],
        "top_score": 100.0,
        "hit": hit.pk,
        "application_id": 77,
    }
    # Screening again while the hit is open returns it, not a second one.
    assert kyc.screen_customer(customer=john_smith, application_id=77).pk == hit.pk
    assert SanctionsHit.objects.count() == 1


def test_screening_a_clean_customer_creates_no_hit(sample_list, ada):
    assert kyc.screen_customer(customer=ada) is None
    assert SanctionsHit.objects.count() == 0
    (event,) = events("sanctions.screened")
    assert event.metadata["result"] == "clean"
    assert event.metadata["matches"] == []


def test_a_business_is_screened_by_legal_and_trade_name(sample_list):
    business = customer_services.create_customer(
        data={
            "kind": "business",
            "business_name": "Harbour Supplies LLC",
            "dba_name": "Acme Import Export",
            "entity_type": "llc",
            "registration_date": date(2011, 3, 1),
            "tax_id": "45-1234567",
            "email": "ops@harbour.example.com",
        }
    )
    hit = kyc.screen_customer(customer=business)
    assert [(m["ent_num"], m["matched_name"], m["matched_alias"]) for m in hit.matches] == [
        (2001, "ACME IMPORT EXPORT", True)
    ]
    assert (hit.screened_dob_encrypted, hit.screened_birth_year) == ("", None)


def test_screening_without_a_list_is_refused(john_smith):
    with pytest.raises(DomainError) as caught:
        kyc.screen_customer(customer=john_smith)
    assert caught.value.code == "no_sanctions_list"
    assert SanctionsHit.objects.count() == 0


# --- decisions -----------------------------------------------------------------


@pytest.fixture
def hit(sample_list, john_smith):
    return kyc.screen_customer(customer=john_smith)


def test_clear_with_reason_is_recorded_and_audited(hit, reviewer):
    cleared = kyc.clear_hit(
        hit=hit, acting_user=reviewer, reason="  Different person: passport US  "
    )
    cleared.refresh_from_db()
    assert cleared.status == "cleared"
    assert cleared.decided_by == reviewer
    assert cleared.decided_at is not None
    assert cleared.decision_reason == "Different person: passport US"
    (event,) = events("sanctions.hit_cleared")
    assert event.actor_id == reviewer.pk
    assert (event.object_type, event.object_id) == ("origination.sanctionshit", str(hit.pk))
    assert event.changes["status"] == ["potential_match", "cleared"]
    assert event.changes["decision_reason"] == ["", "Different person: passport US"]
    assert event.changes["decided_by"] == [None, reviewer.pk]
    assert event.metadata == {
        "customer": hit.customer_id,
        "application_id": None,
        "matches": [1001],
    }


def test_confirm_twice_is_a_conflict(hit, reviewer):
    kyc.mark_confirmed(hit=hit, acting_user=reviewer, reason="Same DOB and passport")
    other = UserFactory(role="manager")
    with pytest.raises(Conflict) as caught:
        kyc.mark_confirmed(hit=hit, acting_user=other, reason="again")
    assert caught.value.status_code == 409
    assert caught.value.code == "already_decided"
    with pytest.raises(Conflict):
        kyc.clear_hit(hit=hit, acting_user=other, reason="changed my mind")
    hit.refresh_from_db()
    assert (hit.status, hit.decided_by, hit.decision_reason) == (
        "confirmed",
        reviewer,
        "Same DOB and passport",
    )
    assert len(events("sanctions.hit_confirmed")) == 1
    assert events("sanctions.hit_cleared") == []


def test_empty_reason_is_refused_and_nothing_written(hit, reviewer):
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            kyc.clear_hit(hit=hit, acting_user=reviewer, reason=reason)
        assert caught.value.status_code == 400
        assert caught.value.fields == {"reason": ["Give the reason for the decision."]}
    hit.refresh_from_db()
    assert (hit.status, hit.decided_by, hit.decided_at, hit.decision_reason) == (
        "potential_match",
        None,
        None,
        "",
    )
    assert events("sanctions.hit_cleared") == []


def test_only_a_person_with_the_permission_decides(hit):
    with pytest.raises(PermissionDenied) as caught:
        kyc.clear_hit(hit=hit, acting_user=None, reason="no one")
    assert caught.value.code == "decider_required"
    with pytest.raises(PermissionDenied) as caught:
        kyc.clear_hit(hit=hit, acting_user=UserFactory(role="loan_officer"), reason="not mine")
    assert caught.value.code == "not_allowed"
    hit.refresh_from_db()
    assert hit.status == "potential_match"


# --- identity checks -----------------------------------------------------------


def test_identity_checks_of_a_customer(john_smith):
    result = kyc.check_identity(customer=john_smith)
    assert result.to_dict()["passed"] is True
    assert [(c.check, c.passed) for c in result.checks] == [
        ("name", True),
        ("tax_id", True),
        ("age", True),
        ("address", True),
    ]
    assert result.checks[1].reason == "Valid SSN."
    assert result.checks[3].reason == "US address, NY 10003."
    (event,) = events("kyc.identity_checked")
    assert event.category == "sensitive_read"
    assert event.metadata["tax_id"] == "•••-••-4567"
    assert "401234567" not in str(event.metadata)


# --- pages ---------------------------------------------------------------------


def queue_url(**query):
    from urllib.parse import urlencode

    return reverse("origination:compliance-queue") + ("?" + urlencode(query) if query else "")


def test_queue_lists_open_hits_and_filters(staff_client, hit, ada):
    client, _ = staff_client("underwriter")
    page = client.get(queue_url()).content.decode()
    assert f'data-hit="{hit.pk}"' in page
    assert "John Smith" in page and "SDGT" in page and "100.0" in page
    assert f'data-hit="{hit.pk}"' not in client.get(queue_url(status="cleared")).content.decode()
    assert f'data-hit="{hit.pk}"' not in client.get(queue_url(q="Lovelace")).content.decode()
    assert (
        f'data-hit="{hit.pk}"' in client.get(queue_url(q="smith", min_score="99")).content.decode()
    )


def test_detail_shows_subject_and_entry_side_by_side(staff_client, hit):
    client, _ = staff_client("underwriter")
    response = client.get(reverse("origination:compliance-detail", args=[hit.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "John Smith",
        "SMITH, John",
        "12 Mar 1965",
        "DOB: match",
        "12 Marina Road Lagos Nigeria",
        "aka SMYTHE, Johnny",
        "12 St Marks Pl, New York, NY 10003",
        'data-disposition="strong_match"',
    ):
        assert text in page, text
    assert 'id="clear-form"' in page and 'id="confirm-form"' in page


def test_clear_form_clears_the_hit(staff_client, hit):
    client, user = staff_client("underwriter")
    url = reverse("origination:compliance-clear", args=[hit.pk])
    response = client.post(url, {"clear-reason": "DOB differs on passport copy"})
    assert response.status_code == 302
    assert response["Location"] == reverse("origination:compliance-detail", args=[hit.pk])
    hit.refresh_from_db()
    assert (hit.status, hit.decided_by, hit.decision_reason) == (
        "cleared",
        user,
        "DOB differs on passport copy",
    )
    page = client.get(response["Location"]).content.decode()
    assert "Cleared as a false positive." in page
    assert 'id="clear-form"' not in page


def test_clear_form_without_reason_is_400_and_writes_nothing(staff_client, hit):
    client, _ = staff_client("underwriter")
    response = client.post(
        reverse("origination:compliance-clear", args=[hit.pk]), {"clear-reason": " "}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    hit.refresh_from_db()
    assert hit.status == "potential_match"
    assert events("sanctions.hit_cleared") == []


def test_confirm_form_twice_is_409(staff_client, hit):
    client, _ = staff_client("underwriter")
    url = reverse("origination:compliance-confirm", args=[hit.pk])
    assert client.post(url, {"confirm-reason": "Passport number matches"}).status_code == 302
    response = client.post(url, {"confirm-reason": "again"})
    assert response.status_code == 409
    assert "already decided (confirmed match)" in response.content.decode()
    hit.refresh_from_db()
    assert hit.decision_reason == "Passport number matches"


def test_role_without_permission_gets_403(staff_client, hit):
    client, _ = staff_client("loan_officer")
    assert client.get(queue_url()).status_code == 403
    assert client.get(reverse("origination:compliance-detail", args=[hit.pk])).status_code == 403
    response = client.post(
        reverse("origination:compliance-clear", args=[hit.pk]), {"clear-reason": "x"}
    )
    assert response.status_code == 403
    hit.refresh_from_db()
    assert hit.status == "potential_match"


def test_unknown_hit_is_404(staff_client, sample_list):
    client, _ = staff_client("underwriter")
    assert client.get(reverse("origination:compliance-detail", args=[999999])).status_code == 404
