"""What the servicing forms share: the date and money field settings and the
reason form (a charge-off, a rejected modification)."""

from decimal import Decimal

from django import forms

DATE = {"widget": forms.DateInput(attrs={"type": "date"})}
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
