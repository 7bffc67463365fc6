"""Forms of a person's own two-factor set-up: confirming a new authenticator
and turning two-factor off."""

from django import forms

from users import services


class ConfirmDeviceForm(forms.Form):
    token = forms.CharField(
        label="Code shown in your app",
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )

    def clean_token(self):
        token = services.normalise_token(self.cleaned_data["token"])
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError("Enter the 6-digit code your app shows.")
        return token


class DisableTwoFactorForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Confirm it is you before turning two-factor off.",
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password
