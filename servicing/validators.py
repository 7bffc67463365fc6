"""Rules about servicing input shared by the services, the portal's forms and
the API, so that each gives the same messages. Pure: no database, no clock."""

from rails import nacha
from servicing.models import AutopayAuthorization


def validate_bank_account(*, routing: str, account: str, account_type: str) -> dict:
    """Field errors ({} when valid) for a US bank account."""
    errors = {}
    if not nacha.is_valid_routing(routing or ""):
        errors["routing_number"] = ["Enter a valid 9-digit ABA routing number."]
    if not (account or "").isdigit() or not 4 <= len(account) <= 17:
        errors["account_number"] = ["Enter the account number: 4 to 17 digits."]
    if account_type not in AutopayAuthorization.AccountType.values:
        errors["account_type"] = ["Choose checking or savings."]
    return errors
