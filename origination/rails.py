"""Payment-rail adapters: how a disbursement's money leaves, pure.

A rail takes one payout (`origination.disbursement.Disbursement`: the
application reference, the borrower's name, the checksum-validated routing
number, the account number, checking or savings, and the net amount, i.e.
principal less withheld fees) and answers a `RailResult`: accepted with the
rail's reference for the credit, or rejected with a message for staff.
A rail may also raise; `origination.services.disbursement.disburse` calls it
inside the disbursement's transaction and turns a rejection or an exception
into a refusal that rolls the whole disbursement (and the boarding) back.

The rail in use is the class at the dotted path `settings.DISBURSEMENT_RAIL`
(default `NachaBatchRail`), instantiated with no arguments per disbursement.

`NachaBatchRail` is the built-in rail: the credit is queued for the day's
NACHA PPD credit file (`disbursing.daily_disbursement_file`, which pays every
sent disbursement queued on this rail); its reference is the entry's
individual id (the application reference), and the trace number is stored
when the file is cut.

No Django, no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from origination.disbursement import (
    ACCOUNT_TYPES,
    Disbursement,
    validate_account_number,
    validate_routing_number,
)

ACCEPTED = "accepted"
REJECTED = "rejected"
NACHA_RAIL_NAME = "nacha"


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
