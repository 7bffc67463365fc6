"""Borrower portal forms: sign-up and the borrower's own profile. They only
parse input and lay it out; every rule lives in customers.validators and is
applied by the service, whose messages
`customers.forms.fields.apply_domain_error` puts back on the fields."""

from collections.abc import Mapping

from django import forms

from customers.consent_wording import CONSENT_TOPICS, ESIGN_TOPIC
from customers.forms.fields import choice_field, date_field, email_field, text_field, time_field
from customers.models import US_STATES, Address, Customer, Phone
from customers.selectors.customers import primary_address, primary_phone
from customers.validators import MSG_STATE


class SignupForm(forms.Form):
    first_name = text_field("First name", max_length=100, autocomplete="given-name")
    last_name = text_field("Last name", max_length=100, autocomplete="family-name")
    email = email_field("Email")
    date_of_birth = date_field("Date of birth", "You must be at least 18.")
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        help_text="At least 10 characters; not a common or all-numeric password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label="Password again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_electronic_records = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_electronic_records"].label = ESIGN_TOPIC.wording

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords do not match.")
        return cleaned


class ProfileForm(forms.Form):
    """The borrower's own contact details, preferences and consents."""

    email = email_field("Email for notices")
    phone_number = text_field("Mobile phone", max_length=25, autocomplete="tel", type="tel")
    address_line1 = text_field("Street address", autocomplete="address-line1")
    address_line2 = text_field("Apt, suite, unit", autocomplete="address-line2")
    address_city = text_field("City", max_length=100, autocomplete="address-level2")
    address_state = choice_field(
        US_STATES, label="State", blank=True, required=False, invalid=MSG_STATE
    )
    address_postal_code = text_field("ZIP code", max_length=10, autocomplete="postal-code")
    preferred_channel = choice_field(Customer.Channel, label="Contact me by")
    preferred_language = choice_field(Customer.Language, label="Language")
    quiet_hours_start = time_field("No calls or texts from")
    quiet_hours_end = time_field("until")

    address_keys = ("line1", "line2", "city", "state", "postal_code")

    def __init__(self, *args, customer: Customer, consent_states: Mapping[str, bool], **kwargs):
        phone, address = primary_phone(customer), primary_address(customer)
        self.has_phone, self.has_address = phone is not None, address is not None
        initial = {
            "email": customer.email,
            "phone_number": phone.display if phone else "",
            "preferred_channel": customer.preferred_channel,
            "preferred_language": customer.preferred_language,
            "quiet_hours_start": customer.quiet_hours_start,
            "quiet_hours_end": customer.quiet_hours_end,
        }
        for key in self.address_keys:
            initial[f"address_{key}"] = getattr(address, key) if address else ""
        for key, granted in consent_states.items():
            initial[f"consent_{key}"] = granted
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for topic in CONSENT_TOPICS:
            self.fields[f"consent_{topic.key}"] = forms.BooleanField(
                label=topic.label, required=False, help_text=topic.wording
            )

    def consent_fields(self):
        return [self[f"consent_{topic.key}"] for topic in CONSENT_TOPICS]

    def changes(self) -> dict:
        return {
            name: self.cleaned_data.get(name)
            for name in (
                "email",
                "preferred_channel",
                "preferred_language",
                "quiet_hours_start",
                "quiet_hours_end",
            )
        }

    def primary_phone(self) -> dict | None:
        number = self.cleaned_data.get("phone_number") or ""
        if not number and not self.has_phone:
            return None
        return (
            {"number": number} if self.has_phone else {"kind": Phone.Kind.MOBILE, "number": number}
        )

    def primary_address(self) -> dict | None:
        values = {key: self.cleaned_data.get(f"address_{key}") or "" for key in self.address_keys}
        if not any(values.values()) and not self.has_address:
            return None
        if not self.has_address:
            values["kind"] = Address.Kind.RESIDENTIAL
        return values

    def consent_decisions(self) -> dict[tuple[str, str], bool]:
        return {
            (topic.channel, topic.purpose): bool(self.cleaned_data.get(f"consent_{topic.key}"))
            for topic in CONSENT_TOPICS
        }

    field_map = {
        "phone.number": "phone_number",
        **{
            f"address.{key}": f"address_{key}"
            for key in ("line1", "line2", "city", "state", "postal_code")
        },
    }
