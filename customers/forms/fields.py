"""What the customers forms share: field builders that only parse (dates,
times, choices) and `apply_domain_error`, which puts a service's messages
back on the fields. Every rule lives in customers.validators and is applied by
the service."""

from collections.abc import Mapping

from django import forms

from core.exceptions import DomainError
from customers.validators import choice_message

BLANK = [("", "—")]


def choice_field(
    choices, *, label=None, blank=False, initial=None, widget=None, required=None, invalid=None
):
    options = list(getattr(choices, "choices", choices))
    return forms.ChoiceField(
        label=label,
        choices=(BLANK + options) if blank else options,
        required=not blank if required is None else required,
        initial=initial,
        widget=widget,
        error_messages={
            "invalid_choice": invalid or choice_message(options),
            "required": "Choose one.",
        },
    )


def text_field(label, *, max_length=200, help_text="", autocomplete=None, **attrs):
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"maxlength": max_length, **attrs}),
    )


def date_field(label, help_text=""):
    return forms.DateField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a valid date (YYYY-MM-DD)."},
    )


def time_field(label):
    return forms.TimeField(
        label=label,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a valid time (HH:MM)."},
    )


def email_field(label="Email"):
    # A CharField on purpose: the service validates and normalises e-mail, so
    # the form and the API say the same thing.
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
    )


def apply_domain_error(
    form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationFailed/Conflict on `form`: each message on
    the form field it names (through `field_map` for nested names such as
    "addresses.0.city"), the rest, or a field-less error, at the top."""
    field_map = field_map or {}
    if not exc.fields:
        form.add_error(None, exc.message)
        return
    for name, messages in exc.fields.items():
        target = field_map.get(name, name)
        for message in messages:
            if target in form.fields:
                form.add_error(target, message)
            elif name == "non_field_errors":
                form.add_error(None, message)
            else:
                form.add_error(
                    None, f"{name.rsplit('.', 1)[-1].replace('_', ' ').capitalize()}: {message}"
                )
