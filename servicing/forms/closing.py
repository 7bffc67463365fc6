"""The closing page's form: an optional note on closing a loan."""

from django import forms


class CloseForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
