"""Servicing notes on a loan: free text staff keep about the account
("borrower called, promised to pay Friday"), shown with the boarding
underwriting notes on the loan page and listed by the API.

Notes are append-only (a PostgreSQL trigger refuses UPDATE and DELETE of a
LoanNote row); a correction is a new note.

Who may add a note: anyone holding servicing.view_loan and
servicing.post_payment. No permission is added for notes: post_payment is
the one servicing permission both servicing agents and collections agents
hold (managers and administrators too), i.e. exactly the people who talk to
borrowers about their accounts, while read-only roles (loan officers,
underwriters) may read notes but not add them. acting_user=None is the
system, or an API key already authorised by its `loans:write` scope (the
audit event then names the key's integration user from the request
context); the note then has no author.
"""

from django.db import transaction
from django.db.models import QuerySet

from core import audit
from core.audit import actor_of
from core.exceptions import ValidationFailed
from core.models import AuditCategory
from servicing.models import Loan, LoanNote
from servicing.services.life import require_perm

NOTE_PERMISSIONS = ("servicing.view_loan", "servicing.post_payment")
MAX_TEXT = LoanNote.MAX_TEXT


def may_add_note(user) -> bool:
    """Whether the staff `user` may add notes (for showing the form)."""
    return actor_of(user) is not None and all(user.has_perm(p) for p in NOTE_PERMISSIONS)


def clean_text(text) -> str:
    """`text` stripped, or ValidationFailed (400) on `text` when blank or
    longer than MAX_TEXT characters."""
    text = (text or "").strip() if isinstance(text, str | None) else None
    if text is None:
        raise ValidationFailed(
            "The note must be text.", fields={"text": ["Enter the note as text."]}
        )
    if not text:
        raise ValidationFailed("The note is empty.", fields={"text": ["Write the note."]})
    if len(text) > MAX_TEXT:
        raise ValidationFailed(
            f"Keep the note within {MAX_TEXT:,} characters.",
            fields={"text": [f"Keep it within {MAX_TEXT:,} characters (it has {len(text):,})."]},
        )
    return text


def add_note(loan: Loan, *, text: str, acting_user) -> LoanNote:
    """Append a servicing note to `loan`, written by `acting_user`, and
    record an audit event on the loan (action "loan.note_added", so it shows
    in the loan's History). PermissionDenied (403) without NOTE_PERMISSIONS;
    ValidationFailed (400) for a blank or too long text. Nothing is written
    on any error."""
    for permission in NOTE_PERMISSIONS:
        require_perm(acting_user, permission)
    text = clean_text(text)
    author = actor_of(acting_user)
    with transaction.atomic():
        note = LoanNote.objects.create(loan=loan, text=text, author=author)
        audit.record(
            action="loan.note_added",
            category=AuditCategory.CREATE,
            obj=loan,
            metadata={"note_id": note.pk, "text": text},
            actor=author,
        )
    return note


def list_notes(loan: Loan) -> QuerySet[LoanNote]:
    """The loan's servicing notes, newest first, with their authors."""
    return (
        LoanNote.objects.filter(loan=loan).select_related("author").order_by("-created_at", "-id")
    )
