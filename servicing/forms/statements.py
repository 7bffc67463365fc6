"""The statements page's form: the date of the statement to generate."""

from django import forms

from servicing.forms.base import DATE


class StatementForm(forms.Form):
    statement_date = forms.DateField(label="Statement date", **DATE)
