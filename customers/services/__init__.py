"""Every write to customers, addresses, phones and consents.

Each public function is one use case: keyword-only arguments, one
`transaction.atomic()`, validation of all input (customers.validators)
before the first write, and an audit event for every change. Events about a
customer's addresses, phones and consents are recorded against the customer
itself, so the customer's history (selectors.history.customer_events) is one query.

Tax ids and dates of birth: the plaintext never reaches the database or the
audit log; audit rows carry the masked forms ("•••-••-1234", "••/••/1985")
only.

Callers import this package (`from customers import services`); the
modules inside are its parts: customer, contact (addresses and phones),
consents, portal (borrower self-service), _common (shared helpers).
"""

from customers.services.consents import record_consent, set_consents
from customers.services.contact import (
    add_address,
    add_phone,
    remove_address,
    remove_phone,
    update_address,
    update_phone,
)
from customers.services.customer import (
    REVEAL_DATE_OF_BIRTH_PERMISSION,
    REVEAL_PERMISSION,
    create_customer,
    reveal_date_of_birth,
    reveal_tax_id,
    update_customer,
)
from customers.services.portal import (
    PORTAL_EDITABLE_FIELDS,
    register_borrower,
    update_borrower_profile,
)

__all__ = [
    "PORTAL_EDITABLE_FIELDS",
    "REVEAL_DATE_OF_BIRTH_PERMISSION",
    "REVEAL_PERMISSION",
    "add_address",
    "add_phone",
    "create_customer",
    "record_consent",
    "register_borrower",
    "remove_address",
    "remove_phone",
    "reveal_date_of_birth",
    "reveal_tax_id",
    "set_consents",
    "update_address",
    "update_borrower_profile",
    "update_customer",
    "update_phone",
]
