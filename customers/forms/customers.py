"""Staff forms for customers: the customer, its addresses, phones and
consents, and the customer search. They only parse input and lay it out;
every rule lives in customers.validators and is applied by the service, whose
messages `customers.forms.fields.apply_domain_error` puts back on the fields."""

from django import forms

from customers.forms.fields import (
    choice_field,
    date_field,
    email_field,
    text_field,
    time_field,
)
from customers.models import US_STATES, Address, Consent, Customer, Phone
from customers.validators import MSG_STATE, choice_message


class CustomerForm(forms.Form):
    """Staff create/edit of a customer. On edit the kind is fixed and the tax
    id and date of birth fields are blank: leaving them blank keeps what is
    on file (neither is ever sent to the browser in full)."""

    kind = choice_field(
        Customer.Kind,
        label="Customer is a",
        initial=Customer.Kind.PERSON,
        widget=forms.RadioSelect,
    )
    first_name = text_field("First name", max_length=100, autocomplete="off")
    middle_name = text_field("Middle name", max_length=100, autocomplete="off")
    last_name = text_field("Last name", max_length=100, autocomplete="off")
    date_of_birth = date_field("Date of birth", "Must be at least 18 years old.")
    business_name = text_field("Legal business name")
    dba_name = text_field("Doing business as", help_text="Trade name, if different.")
    entity_type = choice_field(Customer.EntityType, label="Entity type", blank=True)
    registration_date = date_field(
        "Registration date", "Date the business was formed or registered."
    )
    tax_id_type = forms.ChoiceField(
        label="Tax id type",
        choices=[("", "Detect from the number"), *Customer.TaxIdType.choices],
        required=False,
        error_messages={"invalid_choice": choice_message(Customer.TaxIdType)},
    )
    tax_id = text_field(
        "Tax id",
        max_length=11,
        help_text="SSN or ITIN as 123-45-6789, EIN as 12-3456789. Optional for a prospect.",
        autocomplete="off",
        inputmode="numeric",
        spellcheck="false",
    )
    email = email_field()
    preferred_channel = choice_field(
        Customer.Channel, label="Preferred channel", initial=Customer.Channel.EMAIL
    )
    preferred_language = choice_field(
        Customer.Language, label="Preferred language", initial=Customer.Language.ENGLISH
    )
    quiet_hours_start = time_field("Quiet hours from")
    quiet_hours_end = time_field("Quiet hours until")

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

    address_kind = choice_field(
        Address.Kind, label="Address type", initial=Address.Kind.RESIDENTIAL
    )
    address_line1 = text_field("Street address", autocomplete="address-line1")
    address_line2 = text_field("Apt, suite, unit", autocomplete="address-line2")
    address_city = text_field("City", max_length=100, autocomplete="address-level2")
    address_state = choice_field(
        US_STATES, label="State", blank=True, required=False, invalid=MSG_STATE
    )
    address_postal_code = text_field("ZIP code", max_length=10, autocomplete="postal-code")
    phone_kind = choice_field(Phone.Kind, label="Phone type", initial=Phone.Kind.MOBILE)
    phone_number = text_field("Phone", max_length=25, autocomplete="tel", type="tel")

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
    kind = choice_field(Address.Kind, label="Type", initial=Address.Kind.RESIDENTIAL)
    line1 = text_field("Street address", autocomplete="address-line1")
    line2 = text_field("Apt, suite, unit", autocomplete="address-line2")
    city = text_field("City", max_length=100, autocomplete="address-level2")
    state = choice_field(US_STATES, label="State", blank=True, required=False, invalid=MSG_STATE)
    postal_code = text_field("ZIP code", max_length=10, autocomplete="postal-code")
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
    kind = choice_field(Phone.Kind, label="Type", initial=Phone.Kind.MOBILE)
    number = text_field(
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

    channel = choice_field(Consent.Channel, label="Channel")
    purpose = choice_field(Consent.Purpose, label="Purpose")
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("granted", "Granted"), ("withdrawn", "Withdrawn / declined")],
        widget=forms.RadioSelect,
        initial="granted",
        error_messages={"required": "Choose granted or withdrawn."},
    )
    wording_version = text_field(
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
