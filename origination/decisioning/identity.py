"""Identity checks of an applicant (KYC): pure functions of their arguments.

The caller gathers the subject's data (services.kyc.check_identity decrypts
the tax id) and passes the business date; nothing here reads the clock or
the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum.us import ein as stdnum_ein
from stdnum.us import itin as stdnum_itin
from stdnum.us import ssn as stdnum_ssn

MINIMUM_AGE = 18


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# USPS codes of the states, DC, territories and military "states".
US_STATE_CODES = _codes(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC "
    "AS GU MP PR VI UM FM MH PW AA AE AP"
)

# First digit of a ZIP code -> the states whose ZIPs start with it (the
# national areas). Catches a transposed state or a ZIP from elsewhere; NY in
# area 0 is Holtsville (005xx) and Fishers Island (063xx).
ZIP_AREAS = {
    "0": _codes("CT MA ME NH NJ NY PR RI VT VI AE"),
    "1": _codes("DE NY PA"),
    "2": _codes("DC MD NC SC VA WV"),
    "3": _codes("AL FL GA MS TN AA"),
    "4": _codes("IN KY MI OH"),
    "5": _codes("IA MN MT ND SD WI"),
    "6": _codes("IL KS MO NE"),
    "7": _codes("AR LA OK TX"),
    "8": _codes("AZ CO ID NM NV UT WY"),
    "9": _codes("AK CA HI OR WA AP AS GU MP FM MH PW UM"),
}
_ZIP_RE = re.compile(r"^(\d{5})(?:-?\d{4})?$")

TAX_ID_MODULES = {"ssn": stdnum_ssn, "itin": stdnum_itin, "ein": stdnum_ein}


@dataclass(frozen=True)
class AddressInput:
    line1: str
    city: str
    state: str
    postal_code: str
    country: str = "US"


@dataclass(frozen=True)
class IdentityInput:
    """What the checks look at. `kind` is "person" or "business"; `tax_id`
    is the plain digits ("" when none is on file)."""

    kind: str
    name: str
    date_of_birth: date | None
    tax_id_type: str
    tax_id: str
    address: AddressInput | None


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class IdentityResult:
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "checks": [
                {"check": c.check, "passed": c.passed, "reason": c.reason} for c in self.checks
            ],
        }


def check_name(subject: IdentityInput) -> CheckResult:
    if subject.name.strip():
        return CheckResult("name", True, "Name present.")
    return CheckResult("name", False, "No name on file.")


def check_tax_id(subject: IdentityInput) -> CheckResult:
    digits = re.sub(r"\D", "", subject.tax_id or "")
    if not digits:
        return CheckResult("tax_id", False, "No tax id on file.")
    module = TAX_ID_MODULES.get(subject.tax_id_type)
    if module is None:
        return CheckResult("tax_id", False, f"Unknown tax id type {subject.tax_id_type!r}.")
    if subject.kind == "person" and subject.tax_id_type == "ein":
        return CheckResult("tax_id", False, "A person needs an SSN or ITIN, not an EIN.")
    label = subject.tax_id_type.upper()
    if not module.is_valid(digits):
        return CheckResult("tax_id", False, f"Not a valid {label}.")
    return CheckResult("tax_id", True, f"Valid {label}.")


def age_on(born: date, on: date) -> int:
    """Whole years completed on `on` (a 29 February birthday counts on 1 March)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def check_age(subject: IdentityInput, business_date: date) -> CheckResult:
    if subject.kind != "person":
        return CheckResult("age", True, "Not a person: no age requirement.")
    if subject.date_of_birth is None:
        return CheckResult("age", False, "No date of birth on file.")
    if subject.date_of_birth > business_date:
        return CheckResult("age", False, "Date of birth is in the future.")
    age = age_on(subject.date_of_birth, business_date)
    if age < MINIMUM_AGE:
        return CheckResult("age", False, f"Age {age} is under {MINIMUM_AGE}.")
    return CheckResult("age", True, f"Age {age}.")


def check_address(subject: IdentityInput) -> CheckResult:
    address = subject.address
    if address is None:
        return CheckResult("address", False, "No address on file.")
    if not (address.line1.strip() and address.city.strip()):
        return CheckResult("address", False, "Street or city missing.")
    if (address.country or "US").upper() != "US":
        return CheckResult("address", False, f"Address is outside the US ({address.country}).")
    state = address.state.strip().upper()
    if state not in US_STATE_CODES:
        return CheckResult("address", False, f"{address.state!r} is not a US state code.")
    found = _ZIP_RE.match(address.postal_code.strip())
    if not found:
        return CheckResult("address", False, f"{address.postal_code!r} is not a 5-digit ZIP code.")
    zip5 = found.group(1)
    if state not in ZIP_AREAS[zip5[0]]:
        return CheckResult("address", False, f"ZIP code {zip5} does not belong to {state}.")
    return CheckResult("address", True, f"US address, {state} {zip5}.")


def check_identity(subject: IdentityInput, *, business_date: date) -> IdentityResult:
    """Every check, in a fixed order; each passes or fails with a reason."""
    return IdentityResult(
        (
            check_name(subject),
            check_tax_id(subject),
            check_age(subject, business_date),
            check_address(subject),
        )
    )
