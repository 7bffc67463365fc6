"""The modification page's form: the new terms proposed (the waivable fees
are the view's to pass in as `fee_choices`) and the service's arguments they
make."""

from decimal import Decimal

from django import forms

from servicing.forms.base import DATE


class ModificationForm(forms.Form):
    effective_date = forms.DateField(label="Effective date", **DATE)
    annual_rate_percent = forms.DecimalField(
        label="New annual rate (%)",
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("99.9999"),
        help_text="Blank keeps the current rate.",
    )
    remaining_term = forms.IntegerField(
        label="Remaining instalments",
        required=False,
        min_value=1,
        max_value=600,
        help_text="Blank keeps the number not yet due.",
    )
    next_due_date = forms.DateField(
        label="First new due date",
        required=False,
        help_text="Blank keeps the schedule's next due date.",
        **DATE,
    )
    defer_installments = forms.IntegerField(
        label="Defer instalments (payment holiday)", min_value=0, max_value=12, initial=0
    )
    capitalise_interest = forms.BooleanField(label="Capitalise accrued interest", required=False)
    waive_fee_event_id = forms.TypedChoiceField(
        label="Waive a fee", required=False, coerce=int, empty_value=None
    )
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, fee_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["waive_fee_event_id"].choices = [("", "— none —"), *fee_choices]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        rate = data.get("annual_rate_percent")
        return {
            "effective_date": data["effective_date"],
            "annual_rate": None if rate is None else rate / 100,
            "remaining_term": data.get("remaining_term"),
            "next_due_date": data.get("next_due_date"),
            "capitalise_interest": bool(data.get("capitalise_interest")),
            "defer_installments": data.get("defer_installments") or 0,
            "waive_fee_event_id": data.get("waive_fee_event_id"),
        }
