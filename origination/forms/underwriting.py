"""Underwriting input: the staff forms (views.underwriting: the queue's
filter, approve, approve conditionally, counter-offer, decline, conditions,
documents) and the actions shared by the staff pages and the REST API
(api.underwriting).

Each action takes the application, the acting user and the validated input
as a dict (a form's cleaned_data or a serializer's validated_data),
translates it into one service call's arguments and returns what the
service returns. Every refusal is a DomainError: the service's own, or
NotFound for a condition or document that is not on the application. Rates
come in percent (`annual_rate`, as the API takes them) and reach the
services as fractions.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms

from origination.decisioning.reasons import REASONS
from origination.forms.pipeline import officer_choices
from origination.models import Application, Condition
from origination.selectors.applications import condition_on, document_on
from origination.services import documents as document_services
from origination.services import underwriting


class QueueFilterForm(forms.Form):
    assigned = forms.ChoiceField(label="Assigned", required=False)

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned"].choices = officer_choices(officers)


class ApproveForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    override_reason = forms.CharField(
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Needed when this contradicts the automatic decision.",
    )


class ConditionalForm(ApproveForm):
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="One condition per line."
    )

    def condition_lines(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["conditions"].splitlines() if line.strip()
        ]


class CounterOfferForm(ApproveForm):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    term = forms.IntegerField(label="Term (months)", min_value=1)


class DeclineForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        choices=sorted(REASONS.items(), key=lambda item: item[1]),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="One to four principal reasons (they appear on the adverse action notice).",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    override_reason = forms.CharField(
        label="Override reason", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ConditionForm(forms.Form):
    text = forms.CharField(label="Condition", max_length=2000)


class ResolveConditionForm(forms.Form):
    note = forms.CharField(max_length=2000, required=False)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="Document")
    file = forms.FileField()

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [*kinds, ("other", "Other")]


class RejectDocumentForm(forms.Form):
    reason = forms.CharField(max_length=2000)


# --- actions ---------------------------------------------------------------------------------


def _fraction(percent):
    return None if percent is None else percent / Decimal(100)


def _approval(data: dict) -> dict:
    """The keyword arguments every kind of approval takes."""
    return {
        "note": data.get("note", ""),
        "annual_rate": _fraction(data.get("annual_rate")),
        "override_reason": data.get("override_reason", ""),
    }


# --- decisions ---------------------------------------------------------------------------------


def approve(app: Application, user, data: dict) -> Application:
    return underwriting.approve(app, user, **_approval(data))


def approve_conditionally(app: Application, user, data: dict) -> Application:
    """`data["conditions"]`: the condition texts, one a line of the list."""
    return underwriting.approve_conditionally(
        app, user, conditions=data["conditions"], **_approval(data)
    )


def counter_offer(app: Application, user, data: dict) -> Application:
    return underwriting.counter_offer(
        app, user, amount=data["amount"], term=data["term"], **_approval(data)
    )


def decline(app: Application, user, data: dict) -> Application:
    return underwriting.decline(
        app,
        user,
        reasons=data["reasons"],
        note=data.get("note", ""),
        override_reason=data.get("override_reason", ""),
    )


# --- conditions ---------------------------------------------------------------------------------


def add_condition(app: Application, user, data: dict) -> Condition:
    return underwriting.add_condition(app, data["text"], user)


def satisfy_condition(app: Application, user, data: dict, *, condition_id: int) -> Condition:
    condition = condition_on(app, condition_id)
    return underwriting.satisfy_condition(condition, user, data.get("note", ""))


def waive_condition(app: Application, user, data: dict, *, condition_id: int) -> Condition:
    condition = condition_on(app, condition_id)
    return underwriting.waive_condition(condition, user, data.get("note", ""))


# --- documents ----------------------------------------------------------------------------------


def verify_document(app: Application, user, data: dict, *, document_id: int):
    return document_services.verify_document(document_on(app, document_id), user)


def reject_document(app: Application, user, data: dict, *, document_id: int):
    document = document_on(app, document_id)
    return document_services.reject_document(document, data["reason"], user)
