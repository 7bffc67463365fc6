"""Disbursement credits, pure: the payout, the rails that send it, the NACHA credit file.

A `Disbursement` is one payout: the application reference, the borrower's
name, the checksum-validated routing number, the account number, checking or
savings, and the net amount, i.e. principal less withheld fees
(`LoanTerms.disbursed_amount`).

Rails. A rail takes one payout and answers a `RailResult`: accepted with the
rail's reference for the credit, or rejected with a message for staff. A rail
may also raise; `origination.services.disbursement.disburse` calls it inside
the disbursement's transaction and turns a rejection or an exception into a
refusal that rolls the whole disbursement (and the boarding) back. The rail in
use is the class at the dotted path `settings.DISBURSEMENT_RAIL` (default
`rails.disbursement.NachaBatchRail`), instantiated with no arguments per
disbursement. `NachaBatchRail` is the built-in rail: the credit is queued for
the day's NACHA PPD credit file (`disbursing.daily_disbursement_file`, which
pays every sent disbursement queued on this rail); its reference is the
entry's individual id (the application reference), and the trace number is
stored when the file is cut.

The credit file. The day's disbursements go to the bank as one PPD batch of
credits (service class 220, transaction code 22 checking / 32 savings),
written by the NACHA writer `rails.nacha` (the same one servicing uses for
autopay debits). Amounts are the cash paid out, net of withheld fees.

No Django, no database, no clock: the caller passes the originating bank
(`rails.nacha.Origin`, from the ACH_* settings, `rails.ach.ach_origin`), the
file's creation time and the effective date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol, runtime_checkable

from core.exceptions import ValidationFailed
from rails import nacha
from rails.accounts import ACCOUNT_TYPES, validate_account_number, validate_routing_number

ENTRY_DESCRIPTION = "LOAN DISB"
ACCEPTED = "accepted"
REJECTED = "rejected"
NACHA_RAIL_NAME = "nacha"


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
class RailResult:
    """A rail's answer for one credit: `status` accepted or rejected, the
    rail's `reference` for it (empty when rejected) and a `message`
    (the reason, when rejected)."""

    status: Literal["accepted", "rejected"]
    reference: str = ""
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @classmethod
    def accept(cls, reference: str, message: str = "") -> RailResult:
        return cls(status=ACCEPTED, reference=reference, message=message)

    @classmethod
    def reject(cls, message: str) -> RailResult:
        return cls(status=REJECTED, message=message)


@runtime_checkable
class PaymentRail(Protocol):
    """Sends one credit to the borrower's bank account. `name` (at most 20
    characters) is stored on the disbursement with the result's reference."""

    name: str

    def send_credit(self, payout: Disbursement) -> RailResult: ...


class NachaBatchRail:
    """Queues the credit for the day's NACHA credit file (the default rail).

    Checks the payout as the file will (routing checksum, 4-17 digit
    account, checking or savings, a positive whole number of cents) and
    accepts it with the entry's individual id as the reference; nothing is
    sent until the day's file is cut."""

    name = NACHA_RAIL_NAME

    def send_credit(self, payout: Disbursement) -> RailResult:
        validate_routing_number(payout.routing)
        validate_account_number(payout.account)
        if payout.account_type not in ACCOUNT_TYPES:
            return RailResult.reject("The account type must be checking or savings.")
        if not 1 <= len(payout.reference) <= 15:
            return RailResult.reject("A NACHA individual id is 1 to 15 characters.")
        amount = payout.amount
        if (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or amount <= 0
            or amount != amount.quantize(Decimal("0.01"))
        ):
            return RailResult.reject("The amount must be a positive whole number of cents.")
        return RailResult.accept(payout.reference, "Queued for the day's NACHA disbursement file.")


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
    raise `rails.nacha.NachaError`."""
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
