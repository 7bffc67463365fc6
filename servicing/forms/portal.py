"""Borrower portal forms for funded loans: a one-time card or bank payment
(checked with the gateway's card rules and servicing.validators' bank
account rules), autopay, a payoff quote and a request for help."""

from datetime import timedelta
from decimal import Decimal

from django import forms

from core.money import format_money
from rails import gateway
from servicing.forms.base import MONEY
from servicing.models import AutopayAuthorization, ServiceRequest
from servicing.validators import validate_bank_account

MAX_QUOTE_DAYS = 30


class PaymentForm(forms.Form):
    METHODS = [("card", "Debit or credit card"), ("ach", "Bank account (ACH)")]
    EXCESS = [
        ("prepayment", "Reduce my principal (prepayment)"),
        ("unapplied", "Keep it as credit for my next payments (unapplied)"),
    ]
    amount = forms.DecimalField(label="Amount", **MONEY)
    # Not required: a post without it takes the product's default (the page
    # pre-selects that default); an unknown value is a form error.
    excess = forms.ChoiceField(
        label="If I pay more than is due",
        choices=EXCESS,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose to reduce your principal or keep a credit."},
    )
    method = forms.ChoiceField(
        label="Pay with", choices=METHODS, initial="card", widget=forms.RadioSelect
    )
    card_number = forms.CharField(
        label="Card number",
        required=False,
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    exp_month = forms.IntegerField(label="Expiry month", required=False, min_value=1, max_value=12)
    exp_year = forms.IntegerField(label="Expiry year", required=False, min_value=2000)
    cvc = forms.CharField(
        label="Security code",
        required=False,
        max_length=4,
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )
    routing_number = forms.CharField(label="Routing number", required=False, max_length=9)
    account_number = forms.CharField(label="Account number", required=False, max_length=17)
    account_type = forms.ChoiceField(
        label="Account type", required=False, choices=AutopayAuthorization.AccountType.choices
    )
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, max_amount: Decimal, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_amount = max_amount
        self.today = today

    def clean(self):
        data = super().clean()
        amount = data.get("amount")
        if amount is not None and amount > self.max_amount:
            self.add_error(
                "amount",
                f"The most you can pay today is {format_money(self.max_amount)} "
                "(the payoff amount).",
            )
        if data.get("method") == "card":
            for name in ("card_number", "exp_month", "exp_year", "cvc"):
                if data.get(name) in (None, ""):
                    self.add_error(name, "This field is required for a card payment.")
            if not self.errors:
                errors = gateway.card_errors(
                    number=data["card_number"],
                    exp_month=data["exp_month"],
                    exp_year=data["exp_year"],
                    cvc=data["cvc"],
                    today=self.today,
                )
                for name, msgs in errors.items():
                    self.add_error(name, msgs)
        elif data.get("method") == "ach":
            errors = validate_bank_account(
                routing=(data.get("routing_number") or "").strip(),
                account=(data.get("account_number") or "").replace(" ", "").replace("-", ""),
                account_type=data.get("account_type") or "",
            )
            for name, msgs in errors.items():
                self.add_error(name, msgs)
        return data


class AutopayForm(forms.Form):
    routing_number = forms.CharField(label="Routing number", max_length=9)
    account_number = forms.CharField(label="Account number", max_length=17)
    account_type = forms.ChoiceField(
        label="Account type", choices=AutopayAuthorization.AccountType.choices
    )
    agree = forms.BooleanField(
        label="I have read and agree to the authorization above",
        error_messages={"required": "Tick the box to authorize the debits."},
    )


class PayoffForm(forms.Form):
    good_through = forms.DateField(
        label="Good through", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_good_through(self):
        value = self.cleaned_data["good_through"]
        last = self.today + timedelta(days=MAX_QUOTE_DAYS)
        if not self.today <= value <= last:
            raise forms.ValidationError(f"Choose a date from {self.today} to {last}.")
        return value


class HelpForm(forms.Form):
    kind = forms.ChoiceField(
        label="What do you need?", choices=ServiceRequest.Kind.choices, widget=forms.RadioSelect
    )
    message = forms.CharField(
        label="Tell us about your situation",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
