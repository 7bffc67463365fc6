"""Forms of the sign-in, two-factor, password and administration pages.

Forms parse and check input; writes go through users.services (the
password forms' save() calls it too, so Django's own auth views audit)."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core.exceptions import DomainError
from users import services
from users.models import User
from users.roles import ROLES
from users.scopes import SCOPES

ROLE_CHOICES = [(key, role.label) for key, role in ROLES.items()]


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: per-field messages on their
    fields (unknown field names become form-wide), else the message."""
    placed = False
    for field, messages in (exc.fields or {}).items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# --- signing in ----------------------------------------------------------------


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


# --- passwords -------------------------------------------------------------------


class ServicePasswordMixin:
    """save() through users.services.set_password, which audits."""

    set_reason = "change"

    def save(self, commit=True):
        return services.set_password(
            user=self.user, password=self.cleaned_data["new_password1"], reason=self.set_reason
        )


class StaffPasswordChangeForm(ServicePasswordMixin, PasswordChangeForm):
    set_reason = "change"


class ResetSetPasswordForm(ServicePasswordMixin, SetPasswordForm):
    set_reason = "reset"


class _KindPasswordResetForm(PasswordResetForm):
    """Sends links only to active accounts of one kind. Unlike Django's form
    it includes accounts without a usable password, so a staff member whose
    invitation link expired can ask for a new one."""

    kind = User.Kind.STAFF

    def get_users(self, email):
        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True, kind=self.kind)
            if user.email.casefold() == email.casefold()
        )


class StaffPasswordResetForm(_KindPasswordResetForm):
    kind = User.Kind.STAFF


class PortalPasswordResetForm(_KindPasswordResetForm):
    kind = User.Kind.BORROWER


# --- staff administration ----------------------------------------------------------


class StaffFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    role = forms.ChoiceField(required=False, choices=[("", "Any role"), *ROLE_CHOICES])
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Active and inactive"), ("active", "Active"), ("inactive", "Inactive")],
    )


class StaffCreateForm(forms.Form):
    MODE_LINK = "link"
    MODE_SET = "set"

    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    password_mode = forms.ChoiceField(
        label="Password",
        choices=[
            (MODE_LINK, "E-mail them a link to set their own password"),
            (MODE_SET, "Set an initial password now"),
        ],
        initial=MODE_LINK,
        widget=forms.RadioSelect,
    )
    password1 = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Initial password again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password_mode") == self.MODE_SET:
            p1, p2 = data.get("password1"), data.get("password2")
            if not p1:
                self.add_error(
                    "password1", "Enter the initial password, or choose the e-mail link."
                )
            elif p1 != p2:
                self.add_error("password2", "The two passwords do not match.")
        return data

    @property
    def initial_password(self) -> str | None:
        if self.cleaned_data.get("password_mode") == self.MODE_SET:
            return self.cleaned_data.get("password1") or None
        return None


class StaffDetailsForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(label="E-mail address")


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Who or what uses the key, e.g. “Broker portal (Acme)”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=list(SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one scope.",
            "invalid_choice": "Unknown scope %(value)s. Choose from the scopes listed.",
        },
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires after",
        help_text="Optional. The key stops working at the end of this day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day and day < timezone.localdate():
            raise forms.ValidationError("Pick today or a later day.")
        return day

    @property
    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if not day:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
