"""Forms of the administrators' staff pages: the staff list filter, a new
staff account, a staff member's details and role."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator

from users.roles import ROLES

ROLE_CHOICES = [(key, role.label) for key, role in ROLES.items()]


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
