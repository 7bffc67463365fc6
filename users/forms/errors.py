"""Putting a users service's refusal (a DomainError) back on the form that
sent the input."""

from django import forms

from core.exceptions import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: per-field messages on their
    fields (unknown field names become form-wide), else the message."""
    placed = False
    for field, messages in (exc.fields or {}).items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
