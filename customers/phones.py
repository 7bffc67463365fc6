"""Phone numbers for display, pure: the E.164 form we store, shown as people write it.

The rules about which numbers are accepted (and their messages) are in
customers.validators, which parses input in the same default region.
"""

import phonenumbers

DEFAULT_PHONE_REGION = "US"


def format_phone(e164: str) -> str:
    """(212) 555-0123 for US numbers, international format otherwise."""
    try:
        parsed = phonenumbers.parse(e164, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)
