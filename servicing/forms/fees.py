"""Fee pages' forms: assess a manual fee, waive one (the waivable fees are
the view's to pass in as `fee_choices`)."""

from django import forms

from servicing.forms.base import MONEY


class FeeForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    kind = forms.ChoiceField(
        choices=[("other", "Other fee"), ("late", "Late fee"), ("nsf", "Returned payment (NSF)")]
    )
    note = forms.CharField(max_length=200)


class WaiverForm(forms.Form):
    fee_event_id = forms.TypedChoiceField(label="Fee", coerce=int)
    amount = forms.DecimalField(**MONEY)
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, fee_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_event_id"].choices = list(fee_choices)
