"""Charge-off pages' forms: a recovery on a charged-off loan, a refund of a
credit balance (charging off takes a ReasonForm, servicing.forms.base)."""

from django import forms

from servicing.forms.base import DATE, MONEY


class RecoveryForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    received_on = forms.DateField(label="Received on", **DATE)
    note = forms.CharField(required=False, max_length=200)


class RefundForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    method_note = forms.CharField(
        label="How it is paid", max_length=200, help_text="e.g. check number or ACH reference."
    )
