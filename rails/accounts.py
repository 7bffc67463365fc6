"""Bank account checks, pure: routing and account numbers as a person types them.

- Routing numbers: 9-digit ABA routing transit numbers whose digits,
  weighted 3, 7, 1, 3, 7, 1, 3, 7, 1, sum to a multiple of 10 (checked by
  python-stdnum's `stdnum.us.rtn`).
- Account numbers: 4 to 17 digits (the NACHA field is 17 characters; banks
  issue at least 4 digits). Spaces and hyphens typed by a person are removed.

A refusal is `core.exceptions.ValidationFailed` naming the form field, with a
message a borrower or staff member can act on. No Django, no database, no clock.
"""

import re

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import rtn

from core.exceptions import ValidationFailed

ACCOUNT_TYPES = ("checking", "savings")


def validate_routing_number(value: str, *, field: str = "routing_number") -> str:
    """The 9-digit routing number, or ValidationFailed naming `field`."""
    routing = re.sub(r"[\s-]", "", str(value or ""))
    if not re.fullmatch(r"\d{9}", routing):
        message = "A routing number is 9 digits."
    else:
        try:
            rtn.validate(routing)
            return routing
        except StdnumError:
            message = (
                "This routing number's check digit is wrong; "
                "compare it with a check or your bank's website."
            )
    raise ValidationFailed(message, code="invalid_routing_number", fields={field: message})


def validate_account_number(value: str, *, field: str = "account_number") -> str:
    """The account number as 4-17 digits, or ValidationFailed naming `field`."""
    account = re.sub(r"[\s-]", "", str(value or ""))
    if re.fullmatch(r"\d{4,17}", account):
        return account
    message = "An account number is 4 to 17 digits."
    raise ValidationFailed(message, code="invalid_account_number", fields={field: message})
