"""Forms of the operations pages (users.views.operations): the audit log
filter and moving the business date on."""

from django import forms

from core.models import AuditCategory
from core.selectors.audit import audited_object_types


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="Who")
    action = forms.CharField(required=False, label="Action contains")
    category = forms.ChoiceField(
        required=False, choices=[("", "Any category"), *AuditCategory.choices]
    )
    object_type = forms.ChoiceField(required=False, label="Object type", choices=())
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "Any object")] + [
            (t, t) for t in audited_object_types() if t
        ]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data


class AdvanceBusinessDateForm(forms.Form):
    to = forms.DateField(
        label="New business date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Dates only move forward. End-of-day runs will advance it automatically.",
    )
