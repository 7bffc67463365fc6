"""Payoff pages' forms: the date a quote is good through, and the payment
that settles the loan."""

from django import forms

from servicing.forms.base import DATE, MONEY
from servicing.models import Payment


class PayoffQuoteForm(forms.Form):
    good_through = forms.DateField(label="Good through", **DATE)


class PayoffPaymentForm(forms.Form):
    amount = forms.DecimalField(label="Amount received", **MONEY)
    received_on = forms.DateField(label="Received on", **DATE)
    method = forms.ChoiceField(choices=Payment.Method.choices)
    reference = forms.CharField(required=False, max_length=100)
