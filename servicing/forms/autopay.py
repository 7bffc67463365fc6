"""The staff autopay page's form: the borrower's bank account and the ACH
debit authorisation they agreed to (the routing number checked with
rails.nacha)."""

from decimal import Decimal

from django import forms

from rails import nacha
from servicing.models import AutopayAuthorization


class AutopayForm(forms.Form):
    routing_number = forms.CharField(
        label="Routing number", max_length=9, min_length=9, help_text="9 digits (ABA)."
    )
    account_number = forms.CharField(label="Account number", max_length=17)
    account_number_confirm = forms.CharField(label="Account number again", max_length=17)
    account_type = forms.ChoiceField(choices=AutopayAuthorization.AccountType.choices)
    amount_rule = forms.ChoiceField(
        label="Amount",
        choices=AutopayAuthorization.AmountRule.choices,
        initial="scheduled",
    )
    fixed_amount = forms.DecimalField(
        label="Fixed amount",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Only for a fixed amount.",
    )
    borrower_agreed = forms.BooleanField(
        label="The borrower agreed to the authorisation text above", required=True
    )

    def clean_routing_number(self):
        routing = self.cleaned_data["routing_number"].strip()
        if not nacha.is_valid_routing(routing):
            raise forms.ValidationError("Enter a valid 9-digit ABA routing number.")
        return routing

    def clean_account_number(self):
        account = self.cleaned_data["account_number"].replace(" ", "").replace("-", "")
        if not account.isdigit() or not 4 <= len(account) <= 17:
            raise forms.ValidationError("Enter the account number: 4 to 17 digits.")
        return account

    def clean(self):
        data = super().clean()
        account = data.get("account_number")
        confirm = (data.get("account_number_confirm") or "").replace(" ", "").replace("-", "")
        if account and confirm != account:
            self.add_error("account_number_confirm", "The account numbers do not match.")
        if data.get("amount_rule") == "fixed" and not data.get("fixed_amount"):
            self.add_error("fixed_amount", "Enter the amount to debit on each due date.")
        if data.get("amount_rule") == "scheduled":
            data["fixed_amount"] = None
        return data
