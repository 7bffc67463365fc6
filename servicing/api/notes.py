"""Servicing REST API, a loan's notes: GET and POST /api/v1/loans/{id}/notes/.

Views parse, call one service, format (servicing.services.notes). API keys
need `loans:read` to list and `loans:write` to add; staff sessions need
servicing.view_loan to list, plus servicing.post_payment to add (the
permission servicing and collections agents share; see the service). An
API key's note has no author (`author` null); the audit trail names the
key's integration user.

The POST honours an optional `Idempotency-Key` header (core.idempotency).
"""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    READ_ERRORS,
    VIEW,
    acting_user,
)
from servicing.selectors.loans import get_loan
from servicing.services import notes


class NoteInputSerializer(serializers.Serializer):
    # Blank and length are the service's rules, so the API and the staff page
    # give the same messages.
    text = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The note; surrounding whitespace is removed, 1 to {notes.MAX_TEXT} characters.",
    )


class NoteAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class LoanNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    author = NoteAuthorSerializer(allow_null=True, help_text="Null for the system or an API key.")
    created_at = serializers.DateTimeField()


class LoanNotesSerializer(serializers.Serializer):
    underwriting_notes = serializers.CharField(
        help_text="The underwriting notes boarded with the loan (may be empty)."
    )
    notes = LoanNoteSerializer(many=True, help_text="Servicing notes, newest first.")


def _author(user) -> dict | None:
    if user is None:
        return None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
    }


def note_body(note) -> dict:
    return {
        "id": note.pk,
        "text": note.text,
        "author": _author(note.author),
        "created_at": serializers.DateTimeField().to_representation(note.created_at),
    }


class LoanNotesView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,), "POST": notes.NOTE_PERMISSIONS}

    @extend_schema(
        operation_id="loans_notes_list",
        summary="List a loan's notes",
        description=(
            "The underwriting notes boarded with the loan and its servicing notes, newest first."
        ),
        tags=["loans"],
        responses={200: LoanNotesSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        return Response(
            {
                "underwriting_notes": loan.underwriting_notes,
                "notes": [note_body(note) for note in notes.list_notes(loan)],
            }
        )

    @extend_schema(
        operation_id="loans_notes_create",
        summary="Add a note",
        description=(
            "Appends a servicing note to the loan. Notes cannot be edited or deleted. A blank "
            f"or longer than {notes.MAX_TEXT}-character text answers 400 and writes nothing."
            + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=NoteInputSerializer,
        responses={201: LoanNoteSerializer, 200: LoanNoteSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample(
                "A call note",
                value={"text": "Borrower called; will pay on Friday."},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        serializer = NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = notes.add_note(
            loan, text=serializer.validated_data["text"], acting_user=acting_user(request)
        )
        return Response(note_body(note), status=status.HTTP_201_CREATED)


api_patterns = [
    path("loans/<int:pk>/notes/", LoanNotesView.as_view(), name="loans-api-notes"),
]
