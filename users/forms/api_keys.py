"""The administrators' form for a new API key."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from users.scopes import SCOPES


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Who or what uses the key, e.g. “Broker portal (Acme)”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=list(SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one scope.",
            "invalid_choice": "Unknown scope %(value)s. Choose from the scopes listed.",
        },
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires after",
        help_text="Optional. The key stops working at the end of this day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day and day < timezone.localdate():
            raise forms.ValidationError("Pick today or a later day.")
        return day

    @property
    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if not day:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
