"""Loan notes: staff add servicing notes on the loan page (shown with the
boarding underwriting notes, newest first, with author and time), the API
lists and adds them, bad input writes nothing, read-only roles get 403, and
PostgreSQL refuses to change or delete a note."""

import re

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from core.exceptions import PermissionDenied, ValidationFailed
from core.models import AuditEvent
from servicing.models import LoanNote
from servicing.services.notes import add_note
from tests.factories import UserFactory
from tests.servicing.helpers import api_key_client, post_json

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's visible text, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def notes_tab(loan) -> str:
    return f"{reverse('servicing:loan-detail', args=[loan.pk])}?tab=documents"


def add_url(loan) -> str:
    return reverse("servicing:loan-note-add", args=[loan.pk])


def api_url(pk) -> str:
    return f"/api/v1/loans/{pk}/notes/"


def note_audits():
    return AuditEvent.objects.filter(action="loan.note_added")


def counts():
    return LoanNote.objects.count(), note_audits().count()


# --- staff page -------------------------------------------------------------------------


def test_agent_adds_notes_and_sees_them_newest_first_with_author(make_loan, staff_client):
    loan = make_loan(underwriting_notes="Stable income; DTI 28%.")
    agent, user = staff_client("servicing_agent", first_name="Sam", last_name="Ortiz")

    page = agent.get(notes_tab(loan))
    assert page.status_code == 200
    body = text(page)
    assert "Stable income; DTI 28%." in body and "No servicing notes yet." in body
    assert "Add note" in body

    response = agent.post(add_url(loan), {"text": "  Borrower called; will pay Friday.  "})
    assert response.status_code == 302
    assert response["Location"] == notes_tab(loan) + "#notes"
    agent.post(add_url(loan), {"text": "Promise kept."})

    first, second = LoanNote.objects.order_by("id")
    assert (first.loan, first.author, first.text) == (
        loan,
        user,
        "Borrower called; will pay Friday.",
    )
    assert second.text == "Promise kept."

    body = text(agent.get(notes_tab(loan)))
    assert "Note added." in body
    assert "No servicing notes yet." not in body
    # newest first, then the underwriting notes from boarding
    assert (
        body.index("Promise kept.")
        < body.index("Borrower called; will pay Friday.")
        < body.index("Stable income; DTI 28%.")
    )
    for note in (first, second):
        stamp = dateformat.format(timezone.localtime(note.created_at), "M j, Y H:i")
        assert f"Servicing Sam Ortiz · {stamp} {note.text}" in body

    event = note_audits().get(metadata__note_id=first.pk)
    assert event.actor_id == user.pk
    assert event.object_type == "servicing.loan" and event.object_id == str(loan.pk)
    assert event.metadata["text"] == "Borrower called; will pay Friday."


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "Write the note."), ("   \n ", "Write the note."), ("x" * 2001, "within 2,000")],
)
def test_blank_or_too_long_note_is_a_form_error_and_writes_nothing(
    make_loan, staff_client, value, message
):
    loan = make_loan()
    collector, _ = staff_client("collections_agent")
    before = counts()
    response = collector.post(add_url(loan), {"text": value})
    assert response.status_code == 400
    body = text(response)
    assert message in body and "Please correct the highlighted fields." in body
    assert counts() == before == (0, 0)


def test_exactly_2000_characters_is_accepted(make_loan, staff_client):
    loan = make_loan()
    collector, _ = staff_client("collections_agent")
    response = collector.post(add_url(loan), {"text": "y" * 2000})
    assert response.status_code == 302
    assert len(LoanNote.objects.get().text) == 2000


@pytest.mark.parametrize("role", ["underwriter", "loan_officer"])
def test_read_only_roles_see_notes_but_cannot_add(make_loan, staff_client, role):
    loan = make_loan()
    add_note(loan, text="Hardship call.", acting_user=None)
    client, user = staff_client(role)
    page = client.get(notes_tab(loan))
    assert page.status_code == 200
    body = text(page)
    assert "Hardship call." in body and "System" in body
    assert "Add note" not in body
    assert client.post(add_url(loan), {"text": "Sneaky"}).status_code == 403
    assert counts() == (1, 1)
    with pytest.raises(PermissionDenied):
        add_note(loan, text="Sneaky", acting_user=user)
    assert counts() == (1, 1)


def test_note_on_unknown_loan_is_404(staff_client):
    agent, _ = staff_client("servicing_agent")
    assert (
        agent.post(reverse("servicing:loan-note-add", args=[999999]), {"text": "x"}).status_code
        == 404
    )
    assert counts() == (0, 0)


def test_service_refuses_blank_and_too_long(make_loan, staff_client):
    loan = make_loan()
    _, agent = staff_client("servicing_agent")
    for value in ("", "  ", None, "z" * 2001):
        with pytest.raises(ValidationFailed) as info:
            add_note(loan, text=value, acting_user=agent)
        assert list(info.value.fields) == ["text"]
    assert counts() == (0, 0)


# --- API --------------------------------------------------------------------------------


def test_api_key_lists_and_adds_notes(make_loan):
    loan = make_loan(underwriting_notes="Stable income.")
    staff = UserFactory(role="collections_agent", first_name="Cleo", last_name="Park")
    old = add_note(loan, text="First call.", acting_user=staff)

    writer = api_key_client("loans:write")
    response = post_json(writer, api_url(loan.pk), {"text": " Left a voicemail. "}, key="note-1")
    assert response.status_code == 201, response.json()
    new = LoanNote.objects.get(text="Left a voicemail.")
    assert new.author is None
    assert response.json()["id"] == new.pk
    assert response.json()["text"] == "Left a voicemail." and response.json()["author"] is None

    # a retry with the same key replays and writes nothing
    replay = post_json(writer, api_url(loan.pk), {"text": " Left a voicemail. "}, key="note-1")
    assert replay.status_code == 200 and replay.json()["id"] == new.pk
    assert counts() == (2, 2)

    listing = api_key_client("loans:read").get(api_url(loan.pk))
    assert listing.status_code == 200
    body = listing.json()
    assert body["underwriting_notes"] == "Stable income."
    assert [n["text"] for n in body["notes"]] == ["Left a voicemail.", "First call."]
    assert body["notes"][1]["author"] == {
        "id": staff.pk,
        "username": staff.username,
        "name": "Cleo Park",
    }
    assert body["notes"][1]["id"] == old.pk


def test_api_staff_session_adds_note_with_author(make_loan, staff_client):
    loan = make_loan()
    agent, user = staff_client("servicing_agent")
    response = post_json(agent, api_url(loan.pk), {"text": "Payment plan discussed."})
    assert response.status_code == 201
    assert response.json()["author"]["id"] == user.pk
    assert LoanNote.objects.get().author == user


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": "q" * 2001}])
def test_api_invalid_note_is_400_and_writes_nothing(make_loan, body):
    loan = make_loan()
    response = post_json(api_key_client("loans:write"), api_url(loan.pk), body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["text"]
    assert counts() == (0, 0)


def test_api_unknown_loan_is_404(db):
    assert api_key_client("loans:read").get(api_url(999999)).status_code == 404
    response = post_json(api_key_client("loans:write"), api_url(999999), {"text": "Hello"})
    assert response.status_code == 404
    assert counts() == (0, 0)


def test_api_scopes_and_roles(make_loan, staff_client):
    loan = make_loan()
    reader = api_key_client("loans:read")
    assert reader.get(api_url(loan.pk)).status_code == 200
    assert post_json(reader, api_url(loan.pk), {"text": "Nope"}).status_code == 403
    underwriter, _ = staff_client("underwriter")
    assert underwriter.get(api_url(loan.pk)).status_code == 200
    assert post_json(underwriter, api_url(loan.pk), {"text": "Nope"}).status_code == 403
    assert counts() == (0, 0)


# --- append-only ------------------------------------------------------------------------


def test_database_refuses_to_update_or_delete_a_note(make_loan):
    loan = make_loan()
    note = add_note(loan, text="Kept forever.", acting_user=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        LoanNote.objects.filter(pk=note.pk).update(text="Changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        LoanNote.objects.filter(pk=note.pk).delete()
    note.refresh_from_db()
    assert note.text == "Kept forever."
    assert LoanNote.objects.count() == 1


def test_schema_documents_the_notes_operations(db):
    spec = Client().get("/api/v1/schema/?format=json").json()
    ops = spec["paths"]["/api/v1/loans/{id}/notes/"]
    assert ops["get"]["operationId"] == "loans_notes_list"
    assert ops["post"]["operationId"] == "loans_notes_create"
    assert "Idempotency-Key" in [p["name"] for p in ops["post"]["parameters"]]
    assert {"201", "400", "403", "404"} <= set(ops["post"]["responses"])
