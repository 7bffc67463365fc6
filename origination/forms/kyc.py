"""Forms of the sanctions review pages (origination.views.kyc): the
compliance queue's filters and the reason a reviewer gives to clear or
confirm a hit."""

from django import forms

from origination.models import SanctionsHit


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *SanctionsHit.Status.choices], required=False
    )
    q = forms.CharField(label="Name or customer number", required=False, max_length=100)
    min_score = forms.DecimalField(
        label="Minimum score", required=False, min_value=0, max_value=100, decimal_places=1
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="What you checked and why: this is the compliance record.",
    )
