"""Every rule about customer input, in one place, so that the staff forms,
the portal and the API give the same messages.

Field cleaners take a raw value and return the normalised one or raise
`FieldInvalid` with the message to show. Record cleaners (`clean_customer`,
`clean_address`, `clean_phone`, `clean_consent`) run the field cleaners over
a mapping, collect every message into an `Errors` (keyed by input field name,
dotted for nested input such as "addresses.0.postal_code"), and return the
cleaned values. Services raise the collected errors as one
core.exceptions.ValidationFailed before writing anything.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from stdnum.us import ein as stdnum_ein
from stdnum.us import itin as stdnum_itin
from stdnum.us import ssn as stdnum_ssn

from core.exceptions import ValidationFailed
from customers.consent_wording import current_wording_version
from customers.models import US_STATES, Address, Consent, Customer, Phone
from customers.phones import DEFAULT_PHONE_REGION

US_STATE_CODES = frozenset(code for code, _ in US_STATES)

MSG_SSN = "Enter a valid SSN (9 digits, not 000/666/9xx area)."
MSG_ITIN = (
    "Enter a valid ITIN (9 digits starting with 9; 4th and 5th digits 70-88, 90-92 or 94-99)."
)
MSG_EIN = "Enter a valid EIN (9 digits with an IRS campus prefix, e.g. 12-3456789)."
MSG_TAX_ID_PERSON = "A person's tax id must be an SSN or ITIN."
MSG_TAX_ID_BUSINESS = "A business needs an EIN (an SSN or ITIN only for a sole proprietorship)."
MSG_EMAIL = "Enter a valid email address."
MSG_PHONE = "Enter a valid phone number, e.g. (212) 555-0123."
MSG_STATE = "Enter a US state or territory code, e.g. NY."
MSG_ZIP = "Enter a ZIP code (12345 or 12345-6789)."
MSG_DATE = "Enter a valid date (YYYY-MM-DD)."
MSG_TIME = "Enter a valid time (HH:MM)."
MSG_MIN_AGE = "The customer must be at least 18 years old."

MINIMUM_AGE = 18
NAME_MAX = 100
BUSINESS_NAME_MAX = 200

_NON_DIGITS = re.compile(r"\D")
_ZIP_RE = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
_TAX_ID_RE = re.compile(r"^\d{3}-?\d{2}-?\d{4}$|^\d{2}-?\d{7}$")


class FieldInvalid(ValueError):
    """One field's value is not acceptable; the argument is the message."""

    @property
    def message(self) -> str:
        return str(self.args[0])


class Errors:
    """Collects messages per input field; `raise_if_any()` raises them as one
    ValidationFailed (HTTP 400, `{code, message, fields}`)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field or "non_field_errors", []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def check(self, field: str, cleaner, *args, **kwargs):
        """Run `cleaner(*args, **kwargs)`; on FieldInvalid note the message
        against `field` and return None."""
        try:
            return cleaner(*args, **kwargs)
        except FieldInvalid as exc:
            self.add(field, exc.message)
            return None

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        names = [name for name in self.fields if name != "non_field_errors"]
        if not names:
            message = self.fields["non_field_errors"][0]
        elif len(names) == 1:
            message = f"Please correct the {_label(names[0])} field: {self.fields[names[0]][0]}"
        else:
            message = "Please correct the highlighted fields."
        raise ValidationFailed(message, fields=self.fields)


def _label(field: str) -> str:
    return field.rsplit(".", 1)[-1].replace("_", " ")


def choice_message(choices: Iterable[tuple[str, str]] | type) -> str:
    values = [value for value, _ in getattr(choices, "choices", choices)]
    return f"Choose one of: {', '.join(values)}."


# --- field cleaners ---------------------------------------------------------------


def text(value: Any, *, max_length: int, required_message: str = "") -> str:
    cleaned = " ".join(str(value or "").split())
    if not cleaned and required_message:
        raise FieldInvalid(required_message)
    if len(cleaned) > max_length:
        raise FieldInvalid(f"Use at most {max_length} characters.")
    return cleaned


def choice(value: Any, choices, *, blank: bool = False) -> str:
    cleaned = str(value or "").strip()
    if blank and not cleaned:
        return ""
    if cleaned not in {v for v, _ in choices.choices}:
        raise FieldInvalid(choice_message(choices))
    return cleaned


def to_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise FieldInvalid(MSG_DATE) from exc


def to_time(value: Any) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise FieldInvalid(MSG_TIME) from exc


def normalize_email(value: Any) -> str:
    """Lower-cased, trimmed e-mail address; "" stays "" (e-mail is optional
    for customers entered by staff)."""
    cleaned = str(value or "").strip().lower()
    if not cleaned:
        return ""
    try:
        validate_email(cleaned)
    except DjangoValidationError as exc:
        raise FieldInvalid(MSG_EMAIL) from exc
    return cleaned


def tax_id_digits(value: Any) -> str:
    """The digits of a tax id as typed ("123-45-6789", "123 45 6789")."""
    return _NON_DIGITS.sub("", str(value or ""))


def normalize_tax_id(
    value: Any, tax_id_type: str, *, kind: str, entity_type: str = ""
) -> tuple[str, str]:
    """(tax_id_type, nine digits) for a typed tax id, inferring the type when
    it is blank (a person's 9xx id is an ITIN, other persons' an SSN, a
    business's an EIN). Checks the number with python-stdnum and that the
    type suits the kind of customer."""
    raw = str(value or "").strip()
    digits = tax_id_digits(raw)
    if not tax_id_type:
        if kind == Customer.Kind.BUSINESS:
            tax_id_type = Customer.TaxIdType.EIN
        elif digits.startswith("9"):
            tax_id_type = Customer.TaxIdType.ITIN
        else:
            tax_id_type = Customer.TaxIdType.SSN
    check_tax_id_type(tax_id_type, kind=kind, entity_type=entity_type)
    message, module = {
        Customer.TaxIdType.SSN: (MSG_SSN, stdnum_ssn),
        Customer.TaxIdType.ITIN: (MSG_ITIN, stdnum_itin),
        Customer.TaxIdType.EIN: (MSG_EIN, stdnum_ein),
    }[tax_id_type]
    # Only digits with the usual separators: stdnum would also accept odd
    # dash placements, which are typing mistakes worth a second look.
    if not _TAX_ID_RE.match(raw.replace(" ", "")) or not module.is_valid(digits):
        raise FieldInvalid(message)
    return tax_id_type, digits


def check_tax_id_type(tax_id_type: str, *, kind: str, entity_type: str = "") -> None:
    if tax_id_type not in Customer.TaxIdType.values:
        raise FieldInvalid(choice_message(Customer.TaxIdType))
    if kind == Customer.Kind.PERSON and tax_id_type == Customer.TaxIdType.EIN:
        raise FieldInvalid(MSG_TAX_ID_PERSON)
    if (
        kind == Customer.Kind.BUSINESS
        and tax_id_type != Customer.TaxIdType.EIN
        and entity_type != Customer.EntityType.SOLE_PROPRIETORSHIP
    ):
        raise FieldInvalid(MSG_TAX_ID_BUSINESS)


def format_tax_id(tax_id_type: str, digits: str) -> str:
    """123-45-6789 for SSN/ITIN, 12-3456789 for EIN."""
    if tax_id_type == Customer.TaxIdType.EIN:
        return f"{digits[:2]}-{digits[2:]}"
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def normalize_phone(value: Any, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 form ("+12125550123") of a number typed in national or
    international format; numbers without a country code are read as US."""
    raw = str(value or "").strip()
    if not raw:
        raise FieldInvalid("Enter a phone number.")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise FieldInvalid(MSG_PHONE) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise FieldInvalid(MSG_PHONE)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_state(value: Any) -> str:
    cleaned = str(value or "").strip().upper()
    if cleaned not in US_STATE_CODES:
        raise FieldInvalid(MSG_STATE)
    return cleaned


def normalize_postal_code(value: Any) -> str:
    match = _ZIP_RE.match(str(value or "").strip())
    if not match:
        raise FieldInvalid(MSG_ZIP)
    zip5, plus4 = match.groups()
    return f"{zip5}-{plus4}" if plus4 else zip5


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def check_date_of_birth(value: Any, *, today: date) -> date:
    birth = to_date(value)
    if birth is None:
        raise FieldInvalid("Enter the date of birth.")
    if birth > today:
        raise FieldInvalid("The date of birth cannot be in the future.")
    if birth.year < 1900:
        raise FieldInvalid("Enter a date of birth after 1900.")
    if age_on(birth, today) < MINIMUM_AGE:
        raise FieldInvalid(MSG_MIN_AGE)
    return birth


def check_registration_date(value: Any, *, today: date) -> date:
    registered = to_date(value)
    if registered is None:
        raise FieldInvalid("Enter the business registration date.")
    if registered > today:
        raise FieldInvalid("The registration date cannot be in the future.")
    if registered.year < 1800:
        raise FieldInvalid("Enter a registration date after 1800.")
    return registered


# --- record cleaners -------------------------------------------------------------

# The customer fields a caller may set. "tax_id" is the plaintext, turned by
# the service into the encrypted token, last four digits and blind index.
CUSTOMER_INPUT_FIELDS = (
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

PERSON_ONLY = ("first_name", "middle_name", "last_name", "date_of_birth")
BUSINESS_ONLY = ("business_name", "dba_name", "entity_type", "registration_date")


def legal_name_of(cleaned: Mapping[str, Any]) -> str:
    if cleaned["kind"] == Customer.Kind.BUSINESS:
        return cleaned["business_name"]
    parts = (cleaned["first_name"], cleaned["middle_name"], cleaned["last_name"])
    return " ".join(part for part in parts if part)


def clean_customer(
    data: Mapping[str, Any],
    *,
    today: date,
    errors: Errors,
    tax_id_given: bool = True,
) -> dict[str, Any]:
    """Clean a customer's full set of fields (for an update: the stored
    values overlaid with the changes).

    `tax_id_given` False means the stored tax id is kept; only its type is
    then checked against the kind of customer. Returns the cleaned model
    fields plus "tax_id": the nine digits, or "" when none is given. Fields
    of the other kind of customer are cleared (a form may post both sets).
    """
    unknown = sorted(set(data) - set(CUSTOMER_INPUT_FIELDS))
    for name in unknown:
        errors.add(name, "Unknown field.")
    out: dict[str, Any] = {}
    kind = errors.check("kind", choice, data.get("kind"), Customer.Kind)
    out["kind"] = kind
    is_person = kind == Customer.Kind.PERSON
    is_business = kind == Customer.Kind.BUSINESS

    if is_person:
        out["first_name"] = errors.check(
            "first_name",
            text,
            data.get("first_name"),
            max_length=NAME_MAX,
            required_message="Enter the first name.",
        )
        out["middle_name"] = errors.check(
            "middle_name", text, data.get("middle_name"), max_length=NAME_MAX
        )
        out["last_name"] = errors.check(
            "last_name",
            text,
            data.get("last_name"),
            max_length=NAME_MAX,
            required_message="Enter the last name.",
        )
        out["date_of_birth"] = errors.check(
            "date_of_birth", check_date_of_birth, data.get("date_of_birth"), today=today
        )
    else:
        out.update(first_name="", middle_name="", last_name="", date_of_birth=None)
    if is_business:
        out["business_name"] = errors.check(
            "business_name",
            text,
            data.get("business_name"),
            max_length=BUSINESS_NAME_MAX,
            required_message="Enter the business name.",
        )
        out["dba_name"] = errors.check(
            "dba_name", text, data.get("dba_name"), max_length=BUSINESS_NAME_MAX
        )
        out["entity_type"] = errors.check(
            "entity_type", choice, data.get("entity_type"), Customer.EntityType, blank=True
        )
        out["registration_date"] = errors.check(
            "registration_date",
            check_registration_date,
            data.get("registration_date"),
            today=today,
        )
    else:
        out.update(business_name="", dba_name="", entity_type="", registration_date=None)

    out["tax_id"] = ""
    tax_id_type = errors.check(
        "tax_id_type", choice, data.get("tax_id_type"), Customer.TaxIdType, blank=True
    )
    out["tax_id_type"] = tax_id_type or ""
    if kind and tax_id_type is not None:
        if tax_id_given and str(data.get("tax_id") or "").strip():
            result = errors.check(
                "tax_id",
                normalize_tax_id,
                data.get("tax_id"),
                tax_id_type,
                kind=kind,
                entity_type=out.get("entity_type") or "",
            )
            if result:
                out["tax_id_type"], out["tax_id"] = result
        elif tax_id_given:
            out["tax_id_type"] = ""  # no tax id, so no type either
        elif tax_id_type:
            errors.check(
                "tax_id_type",
                check_tax_id_type,
                tax_id_type,
                kind=kind,
                entity_type=out.get("entity_type") or "",
            )

    out["email"] = errors.check("email", normalize_email, data.get("email"))
    out["preferred_channel"] = errors.check(
        "preferred_channel",
        choice,
        data.get("preferred_channel") or Customer.Channel.EMAIL,
        Customer.Channel,
    )
    out["preferred_language"] = errors.check(
        "preferred_language",
        choice,
        data.get("preferred_language") or Customer.Language.ENGLISH,
        Customer.Language,
    )
    start = errors.check("quiet_hours_start", to_time, data.get("quiet_hours_start"))
    end = errors.check("quiet_hours_end", to_time, data.get("quiet_hours_end"))
    out["quiet_hours_start"], out["quiet_hours_end"] = start, end
    if "quiet_hours_start" not in errors.fields and "quiet_hours_end" not in errors.fields:
        if (start is None) != (end is None):
            errors.add(
                "quiet_hours_end" if start else "quiet_hours_start",
                "Give both the start and the end of quiet hours.",
            )
        elif start is not None and start == end:
            errors.add("quiet_hours_end", "Quiet hours must start and end at different times.")
    if not errors and kind:
        out["legal_name"] = legal_name_of(out)
    return out


ADDRESS_INPUT_FIELDS = (
    "kind",
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
    "is_primary",
)


def clean_address(data: Mapping[str, Any], *, errors: Errors, prefix: str = "") -> dict[str, Any]:
    def name(field: str) -> str:
        return f"{prefix}{field}"

    for field in sorted(set(data) - set(ADDRESS_INPUT_FIELDS)):
        errors.add(name(field), "Unknown field.")
    out: dict[str, Any] = {
        "kind": errors.check(
            name("kind"), choice, data.get("kind") or Address.Kind.RESIDENTIAL, Address.Kind
        ),
        "line1": errors.check(
            name("line1"),
            text,
            data.get("line1"),
            max_length=200,
            required_message="Enter the street address.",
        ),
        "line2": errors.check(name("line2"), text, data.get("line2"), max_length=200),
        "city": errors.check(
            name("city"), text, data.get("city"), max_length=100, required_message="Enter the city."
        ),
        "state": errors.check(name("state"), normalize_state, data.get("state")),
        "postal_code": errors.check(
            name("postal_code"), normalize_postal_code, data.get("postal_code")
        ),
        "is_primary": bool(data.get("is_primary")),
    }
    country = str(data.get("country") or "US").strip().upper()
    if country != "US":
        errors.add(name("country"), "Only US addresses are supported.")
    out["country"] = "US"
    return out


PHONE_INPUT_FIELDS = ("kind", "number", "is_primary")


def clean_phone(data: Mapping[str, Any], *, errors: Errors, prefix: str = "") -> dict[str, Any]:
    for field in sorted(set(data) - set(PHONE_INPUT_FIELDS)):
        errors.add(f"{prefix}{field}", "Unknown field.")
    return {
        "kind": errors.check(
            f"{prefix}kind", choice, data.get("kind") or Phone.Kind.MOBILE, Phone.Kind
        ),
        "number": errors.check(f"{prefix}number", normalize_phone, data.get("number")),
        "is_primary": bool(data.get("is_primary")),
    }


CONSENT_INPUT_FIELDS = ("channel", "purpose", "granted", "wording_version")


def clean_consent(data: Mapping[str, Any], *, errors: Errors, prefix: str = "") -> dict[str, Any]:
    for field in sorted(set(data) - set(CONSENT_INPUT_FIELDS)):
        errors.add(f"{prefix}{field}", "Unknown field.")
    """A blank wording version means today's standard text for the channel
    and purpose (consent_wording), where there is one."""
    granted = data.get("granted")
    if not isinstance(granted, bool):
        errors.add(
            f"{prefix}granted", "Say whether consent is granted (true) or withdrawn (false)."
        )
    channel = errors.check(f"{prefix}channel", choice, data.get("channel"), Consent.Channel)
    purpose = errors.check(f"{prefix}purpose", choice, data.get("purpose"), Consent.Purpose)
    wording = data.get("wording_version")
    if not str(wording or "").strip() and channel and purpose:
        wording = current_wording_version(channel, purpose)
    return {
        "channel": channel,
        "purpose": purpose,
        "granted": bool(granted),
        "wording_version": errors.check(
            f"{prefix}wording_version",
            text,
            wording,
            max_length=40,
            required_message="Name the version of the consent wording shown to the customer.",
        ),
    }
