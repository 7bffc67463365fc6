"""Disbursement rails, pure: bank account checks and the NACHA credit file.

- Routing numbers: 9-digit ABA routing transit numbers whose digits,
  weighted 3, 7, 1, 3, 7, 1, 3, 7, 1, sum to a multiple of 10 (checked by
  python-stdnum's `stdnum.us.rtn`).
- Account numbers: 4 to 17 digits (the NACHA field is 17 characters; banks
  issue at least 4 digits). Spaces and hyphens typed by a person are removed.
- The day's disbursements go to the bank as one PPD batch of credits
  (service class 220, transaction code 22 checking / 32 savings), written by
  the shared NACHA writer `core.nacha` (the same one servicing uses for
  autopay debits). Amounts are the cash paid out, i.e. net of withheld fees
  (`LoanTerms.disbursed_amount`).

No Django, no database, no clock: the caller passes the originating bank
(`core.nacha.Origin`, from the ACH_* settings), the file's creation time and
the effective date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import rtn

from core import nacha
from core.exceptions import ValidationFailed

ENTRY_DESCRIPTION = "LOAN DISB"
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


@dataclass(frozen=True)
class Disbursement:
    """One payout: `amount` in dollars (Decimal, whole cents, > 0), paid to
    `name`'s `account_type` account. `reference` (the loan or application
    reference, at most 15 characters) goes in the entry's individual id."""

    reference: str
    name: str
    routing: str
    account: str
    account_type: str
    amount: Decimal


@dataclass(frozen=True)
class DisbursementFile:
    """The NACHA text, the entries' trace numbers by reference (to match
    returns later), the entry count and the total credited in dollars."""

    text: str
    trace_numbers: dict[str, str]
    entry_count: int
    total: Decimal


def _cents(amount: object, reference: str) -> int:
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        value = None
    if isinstance(amount, float) or value is None or not value.is_finite():
        raise ValidationFailed(
            f"Disbursement {reference}: the amount must be a decimal number of dollars.",
            fields={reference: "amount is not a decimal"},
        )
    cents = value * 100
    if cents != cents.to_integral_value() or cents <= 0:
        raise ValidationFailed(
            f"Disbursement {reference}: the amount must be a positive whole number of cents.",
            fields={reference: "amount must be positive whole cents"},
        )
    return int(cents)


def build_disbursement_file(
    *,
    origin: nacha.Origin,
    disbursements: list[Disbursement],
    created_at: datetime,
    effective_date: date,
    file_id_modifier: str = "A",
) -> DisbursementFile:
    """The NACHA PPD credit file paying `disbursements` on `effective_date`.

    Each payout's routing and account number and amount are checked first
    (ValidationFailed, keyed by reference); references must be unique and
    fit the 15-character individual id. Trace sequences are 1..n in the
    given order. Origin problems (its routing numbers, file id modifier)
    raise `core.nacha.NachaError`."""
    if not disbursements:
        raise ValidationFailed("There is nothing to disburse.")
    entries: list[nacha.CreditEntry] = []
    seen: set[str] = set()
    for seq, item in enumerate(disbursements, 1):
        ref = item.reference
        if not ref or len(ref) > 15 or ref in seen:
            raise ValidationFailed(
                f"Disbursement reference {ref!r} must be unique and 1-15 characters.",
                fields={ref or "reference": "unique, 1-15 characters"},
            )
        seen.add(ref)
        if item.account_type not in ACCOUNT_TYPES:
            raise ValidationFailed(
                f"Disbursement {ref}: the account type must be checking or savings.",
                fields={ref: "account type must be checking or savings"},
            )
        entries.append(
            nacha.CreditEntry(
                individual_id=ref,
                individual_name=item.name,
                routing=validate_routing_number(item.routing, field=ref),
                account=validate_account_number(item.account, field=ref),
                account_type=item.account_type,
                amount_cents=_cents(item.amount, ref),
                trace_seq=seq,
            )
        )
    text = nacha.build_ppd_credit_file(
        origin=replace(origin, entry_description=ENTRY_DESCRIPTION),
        entries=entries,
        created_at=created_at,
        effective_date=effective_date,
        file_id_modifier=file_id_modifier,
    )
    return DisbursementFile(
        text=text,
        trace_numbers={
            e.individual_id: nacha.trace_number(origin.odfi_routing, e.trace_seq) for e in entries
        },
        entry_count=len(entries),
        total=Decimal(sum(e.amount_cents for e in entries)).scaleb(-2),
    )
