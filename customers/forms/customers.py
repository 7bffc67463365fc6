"""Staff and portal forms. They only parse input (dates, times, choices)
and lay it out; every rule lives in customers.validators and is applied by
the service, whose messages `apply_domain_error` puts back on the fields."""

from collections.abc import Mapping

from django import forms

from core.exceptions import DomainError
from customers.consent_wording import CONSENT_TOPICS
from customers.models import US_STATES, Address, Consent, Customer, Phone
from customers.validators import MSG_STATE, choice_message

BLANK = [("", "—")]


def _choice(
    choices, *, label=None, blank=False, initial=None, widget=None, required=None, invalid=None
):
    options = list(getattr(choices, "choices", choices))
    return forms.ChoiceField(
        label=label,
        choices=(BLANK + options) if blank else options,
        required=not blank if required is None else required,
        initial=initial,
        widget=widget,
        error_messages={
            "invalid_choice": invalid or choice_message(options),
            "required": "Choose one.",
        },
    )


def _text(label, *, max_length=200, help_text="", autocomplete=None, **attrs):
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"maxlength": max_length, **attrs}),
    )


def _date(label, help_text=""):
    return forms.DateField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a valid date (YYYY-MM-DD)."},
    )


def _time(label):
    return forms.TimeField(
        label=label,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a valid time (HH:MM)."},
    )


def _email(label="Email"):
    # A CharField on purpose: the service validates and normalises e-mail, so
    # the form and the API say the same thing.
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
    )


def apply_domain_error(
    form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationFailed/Conflict on `form`: each message on
    the form field it names (through `field_map` for nested names such as
    "addresses.0.city"), the rest, or a field-less error, at the top."""
    field_map = field_map or {}
    if not exc.fields:
        form.add_error(None, exc.message)
        return
    for name, messages in exc.fields.items():
        target = field_map.get(name, name)
        for message in messages:
            if target in form.fields:
                form.add_error(target, message)
            elif name == "non_field_errors":
                form.add_error(None, message)
            else:
                form.add_error(
                    None, f"{name.rsplit('.', 1)[-1].replace('_', ' ').capitalize()}: {message}"
                )


class CustomerForm(forms.Form):
    """Staff create/edit of a customer. On edit the kind is fixed and the tax
    id and date of birth fields are blank: leaving them blank keeps what is
    on file (neither is ever sent to the browser in full)."""

    kind = _choice(
        Customer.Kind,
        label="Customer is a",
        initial=Customer.Kind.PERSON,
        widget=forms.RadioSelect,
    )
    first_name = _text("First name", max_length=100, autocomplete="off")
    middle_name = _text("Middle name", max_length=100, autocomplete="off")
    last_name = _text("Last name", max_length=100, autocomplete="off")
    date_of_birth = _date("Date of birth", "Must be at least 18 years old.")
    business_name = _text("Legal business name")
    dba_name = _text("Doing business as", help_text="Trade name, if different.")
    entity_type = _choice(Customer.EntityType, label="Entity type", blank=True)
    registration_date = _date("Registration date", "Date the business was formed or registered.")
    tax_id_type = forms.ChoiceField(
        label="Tax id type",
        choices=[("", "Detect from the number"), *Customer.TaxIdType.choices],
        required=False,
        error_messages={"invalid_choice": choice_message(Customer.TaxIdType)},
    )
    tax_id = _text(
        "Tax id",
        max_length=11,
        help_text="SSN or ITIN as 123-45-6789, EIN as 12-3456789. Optional for a prospect.",
        autocomplete="off",
        inputmode="numeric",
        spellcheck="false",
    )
    email = _email()
    preferred_channel = _choice(
        Customer.Channel, label="Preferred channel", initial=Customer.Channel.EMAIL
    )
    preferred_language = _choice(
        Customer.Language, label="Preferred language", initial=Customer.Language.ENGLISH
    )
    quiet_hours_start = _time("Quiet hours from")
    quiet_hours_end = _time("Quiet hours until")

    customer_fields = (
        "kind",
        "first_name",
        "middle_name",
        "last_name",
        "date_of_birth",
        "business_name",
        "dba_name",
        "entity_type",
        "registration_date",
        "tax_id_type",
        "tax_id",
        "email",
        "preferred_channel",
        "preferred_language",
        "quiet_hours_start",
        "quiet_hours_end",
    )

    def __init__(self, *args, instance: Customer | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    name: getattr(instance, name)
                    for name in self.customer_fields
                    if name not in ("tax_id", "date_of_birth")
                },
            )
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["kind"]
            if instance.has_date_of_birth:
                self.fields["date_of_birth"].help_text = (
                    f"On file: {instance.date_of_birth_masked}. Leave blank to keep it; "
                    "enter a new one to replace it."
                )
            if instance.has_tax_id:
                self.fields["tax_id"].help_text = (
                    f"On file: {instance.tax_id_masked}. Leave blank to keep it; "
                    "type a new one to replace it."
                )

    def customer_data(self) -> dict:
        data = {
            name: self.cleaned_data.get(name)
            for name in self.customer_fields
            if name in self.fields
        }
        if self.instance is not None:
            data.pop("kind", None)
        return data


class NewCustomerForm(CustomerForm):
    """Create form: the customer plus an optional first address and phone."""

    address_kind = _choice(Address.Kind, label="Address type", initial=Address.Kind.RESIDENTIAL)
    address_line1 = _text("Street address", autocomplete="address-line1")
    address_line2 = _text("Apt, suite, unit", autocomplete="address-line2")
    address_city = _text("City", max_length=100, autocomplete="address-level2")
    address_state = _choice(US_STATES, label="State", blank=True, required=False, invalid=MSG_STATE)
    address_postal_code = _text("ZIP code", max_length=10, autocomplete="postal-code")
    phone_kind = _choice(Phone.Kind, label="Phone type", initial=Phone.Kind.MOBILE)
    phone_number = _text("Phone", max_length=25, autocomplete="tel", type="tel")

    address_map = {
        "kind": "address_kind",
        "line1": "address_line1",
        "line2": "address_line2",
        "city": "address_city",
        "state": "address_state",
        "postal_code": "address_postal_code",
    }

    def addresses(self) -> list[dict]:
        values = {
            key: self.cleaned_data.get(field) or "" for key, field in self.address_map.items()
        }
        if not any(values[key] for key in ("line1", "line2", "city", "state", "postal_code")):
            return []
        return [values]

    def phones(self) -> list[dict]:
        number = self.cleaned_data.get("phone_number") or ""
        return [{"kind": self.cleaned_data.get("phone_kind"), "number": number}] if number else []

    @property
    def field_map(self) -> dict[str, str]:
        mapping = {f"addresses.0.{key}": field for key, field in self.address_map.items()}
        mapping.update({"phones.0.number": "phone_number", "phones.0.kind": "phone_kind"})
        return mapping


class AddressForm(forms.Form):
    kind = _choice(Address.Kind, label="Type", initial=Address.Kind.RESIDENTIAL)
    line1 = _text("Street address", autocomplete="address-line1")
    line2 = _text("Apt, suite, unit", autocomplete="address-line2")
    city = _text("City", max_length=100, autocomplete="address-level2")
    state = _choice(US_STATES, label="State", blank=True, required=False, invalid=MSG_STATE)
    postal_code = _text("ZIP code", max_length=10, autocomplete="postal-code")
    is_primary = forms.BooleanField(label="Primary address", required=False)

    fields_order = ("kind", "line1", "line2", "city", "state", "postal_code", "is_primary")

    def __init__(self, *args, instance: Address | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial", {name: getattr(instance, name) for name in self.fields_order}
            )
        super().__init__(*args, **kwargs)

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.fields_order}


class PhoneForm(forms.Form):
    kind = _choice(Phone.Kind, label="Type", initial=Phone.Kind.MOBILE)
    number = _text(
        "Number",
        max_length=25,
        autocomplete="tel",
        type="tel",
        help_text="US numbers as (212) 555-0123; others with + and country code.",
    )
    is_primary = forms.BooleanField(label="Primary phone", required=False)

    def __init__(self, *args, instance: Phone | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "kind": instance.kind,
                    "number": instance.display,
                    "is_primary": instance.is_primary,
                },
            )
        super().__init__(*args, **kwargs)

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ("kind", "number", "is_primary")}


class ConsentForm(forms.Form):
    """Staff recording a consent decision the customer gave by phone, on
    paper or in the branch."""

    channel = _choice(Consent.Channel, label="Channel")
    purpose = _choice(Consent.Purpose, label="Purpose")
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("granted", "Granted"), ("withdrawn", "Withdrawn / declined")],
        widget=forms.RadioSelect,
        initial="granted",
        error_messages={"required": "Choose granted or withdrawn."},
    )
    wording_version = _text(
        "Wording version",
        max_length=40,
        help_text="Leave blank for the current standard wording of this channel and purpose.",
    )

    def data_for_service(self) -> dict:
        return {
            "channel": self.cleaned_data["channel"],
            "purpose": self.cleaned_data["purpose"],
            "granted": self.cleaned_data["decision"] == "granted",
            "wording_version": self.cleaned_data.get("wording_version") or "",
        }


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, C-number, email, phone, last 4 of tax id",
            }
        ),
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *Customer.Kind.choices]
    )
    tax_id = forms.ChoiceField(
        label="Tax id",
        required=False,
        choices=[("", "Any"), ("yes", "On file"), ("no", "Missing")],
    )
    order = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("name", "Name"),
            ("number", "Number"),
        ],
    )


# --- portal -----------------------------------------------------------------------------


class SignupForm(forms.Form):
    first_name = _text("First name", max_length=100, autocomplete="given-name")
    last_name = _text("Last name", max_length=100, autocomplete="family-name")
    email = _email("Email")
    date_of_birth = _date("Date of birth", "You must be at least 18.")
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
        from customers.consent_wording import ESIGN_TOPIC

        super().__init__(*args, **kwargs)
        self.fields["accept_electronic_records"].label = ESIGN_TOPIC.wording

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords do not match.")
        return cleaned


class ProfileForm(forms.Form):
    """The borrower's own contact details, preferences and consents."""

    email = _email("Email for notices")
    phone_number = _text("Mobile phone", max_length=25, autocomplete="tel", type="tel")
    address_line1 = _text("Street address", autocomplete="address-line1")
    address_line2 = _text("Apt, suite, unit", autocomplete="address-line2")
    address_city = _text("City", max_length=100, autocomplete="address-level2")
    address_state = _choice(US_STATES, label="State", blank=True, required=False, invalid=MSG_STATE)
    address_postal_code = _text("ZIP code", max_length=10, autocomplete="postal-code")
    preferred_channel = _choice(Customer.Channel, label="Contact me by")
    preferred_language = _choice(Customer.Language, label="Language")
    quiet_hours_start = _time("No calls or texts from")
    quiet_hours_end = _time("until")

    address_keys = ("line1", "line2", "city", "state", "postal_code")

    def __init__(self, *args, customer: Customer, consent_states: Mapping[str, bool], **kwargs):
        phone = next((p for p in customer.phones.all() if p.is_primary), None)
        address = next((a for a in customer.addresses.all() if a.is_primary), None)
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
