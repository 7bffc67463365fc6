"""Forms of staff funding (origination.views.disbursement): the account
the loan is paid into. The routing number's checksum and the account are
checked by services.disbursement."""

from django import forms

from origination.models import Disbursement


class BankAccountForm(forms.Form):
    routing_number = forms.CharField(label="Routing number", max_length=9)
    account_number = forms.CharField(label="Account number", max_length=17)
    account_type = forms.ChoiceField(choices=Disbursement.AccountType.choices)
