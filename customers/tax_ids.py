"""Tax id blind indexes: the keyed hashes that find a customer by tax id and
refuse a second customer with the same one, without storing the number.
No database; the key is settings' (core.crypto.blind_index)."""

from core import crypto
from customers.models import Customer

TAX_ID_PURPOSE = "tax_id"


def tax_id_hash(digits: str, tax_id_type: str) -> str:
    """The blind index of a tax id: HMAC of "<family>:<nine digits>".

    SSNs and ITINs share one family ("individual": the IRS never issues an
    ITIN that equals an SSN, and one person must not appear twice under
    either), EINs are another, because an EIN and an unrelated person's SSN
    can have the same nine digits."""
    family = "ein" if tax_id_type == Customer.TaxIdType.EIN else "individual"
    return crypto.blind_index(f"{family}:{digits}", TAX_ID_PURPOSE)


def tax_id_hashes(digits: str) -> tuple[str, str]:
    """Both possible blind indexes of nine digits (for look-ups by number
    when the type is unknown)."""
    return tax_id_hash(digits, Customer.TaxIdType.SSN), tax_id_hash(digits, Customer.TaxIdType.EIN)
