"""Forms of signing in: the staff and portal sign-in and the second-factor code.

Forms parse and check input; writes go through users.services."""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse
from django.utils.html import format_html

from users import services
from users.models import User


class StaffLoginForm(AuthenticationForm):
    """Username and password; authenticate() runs through django-axes, so
    every failure counts towards the lockout. Borrowers and integration
    accounts are refused (after the password check, so the refusal reveals
    nothing about an account to someone without its password)."""

    error_messages = {
        "invalid_login": "That username and password do not match an active staff account.",
        "inactive": "This account is deactivated. Ask an administrator.",
        "borrower": "This sign-in is for staff.",
        "integration": "Integration accounts cannot sign in; they use API keys.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.kind == User.Kind.BORROWER:
            raise forms.ValidationError(
                format_html(
                    "This sign-in is for staff. "
                    'Borrowers sign in at the <a href="{}">borrower portal</a>.',
                    reverse("portal:login"),
                ),
                code="borrower",
            )
        if user.kind != User.Kind.STAFF:
            raise forms.ValidationError(self.error_messages["integration"], code="integration")


class PortalLoginForm(forms.Form):
    """E-mail and password. The e-mail address picks the account, whose
    username is what axes counts failures against (the address itself when
    no account has it). Staff are refused and pointed to the back office."""

    email = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user_cache = None
        self.attempted_username = ""
        super().__init__(*args, **kwargs)

    def clean(self):
        email, password = self.cleaned_data.get("email"), self.cleaned_data.get("password")
        if not (email and password):
            return self.cleaned_data
        username = (
            User.objects.filter(email__iexact=email).values_list("username", flat=True).first()
            or email
        )
        self.attempted_username = username
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            raise forms.ValidationError(
                "That e-mail address and password do not match an account.", code="invalid_login"
            )
        if not user.is_borrower:
            raise forms.ValidationError(
                format_html(
                    "This sign-in is for borrowers. "
                    'Staff sign in at the <a href="{}">back office</a>.',
                    reverse("users:login"),
                ),
                code="staff",
            )
        self.user_cache = user
        return self.cleaned_data

    def get_user(self):
        return self.user_cache


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
            }
        ),
    )

    def clean_token(self):
        token = services.normalise_token(self.cleaned_data["token"])
        if not token.isalnum():
            raise forms.ValidationError("Codes contain only letters and digits.")
        return token
