"""Card and bank payment gateways, behind one small interface.

`get_gateway()` returns the gateway named by settings.PAYMENT_GATEWAY
(default "test"). A gateway's `charge()` takes the amount, either a card or
a bank account, and our reference, and returns a `GatewayResult`. Callers
never keep the full card or account number: only what `mask()` returns.

The built-in TestGateway is deterministic and moves no money: it approves
every valid card except 4000 0000 0000 0002, which it declines, and every
valid bank account. Its transaction id is derived from the reference, so a
retried charge with the same reference gets the same id.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from stdnum import luhn

DECLINED_TEST_CARD = "4000000000000002"


@dataclass(frozen=True)
class Card:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True)
class BankAccount:
    routing: str
    account: str
    account_type: str

    @property
    def last4(self) -> str:
        return self.account[-4:]


@dataclass(frozen=True)
class GatewayResult:
    approved: bool
    transaction_id: str
    message: str


def card_digits(value: str) -> str:
    """The digits of a card number as typed (spaces and dashes allowed)."""
    return re.sub(r"[\s-]", "", value or "")


def card_errors(*, number: str, exp_month: int, exp_year: int, cvc: str, today: date) -> dict:
    """Field errors ({} when valid) for a card: Luhn-valid 12-19 digits, an
    expiry not before this month, a 3- or 4-digit security code."""
    errors: dict[str, list[str]] = {}
    digits = card_digits(number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn.is_valid(digits):
        errors["card_number"] = ["Enter a valid card number."]
    if not 1 <= exp_month <= 12:
        errors["exp_month"] = ["Enter the expiry month, 1 to 12."]
    elif (exp_year, exp_month) < (today.year, today.month):
        errors["exp_year"] = ["The card has expired."]
    if not (cvc or "").isdigit() or len(cvc) not in (3, 4):
        errors["cvc"] = ["Enter the 3- or 4-digit security code."]
    return errors


def mask(last4: str) -> str:
    return f"•••• {last4}"


class Gateway:
    """Interface: charge `amount` (positive Decimal) to `card` or `bank`."""

    name = "base"

    def charge(
        self,
        *,
        amount: Decimal,
        reference: str,
        card: Card | None = None,
        bank: BankAccount | None = None,
    ) -> GatewayResult:
        raise NotImplementedError


class TestGateway(Gateway):
    """Deterministic and offline; see the module docstring."""

    __test__ = False  # not a pytest test class
    name = "test"

    def charge(self, *, amount, reference, card=None, bank=None) -> GatewayResult:
        if (card is None) == (bank is None):
            raise ValueError("charge() takes exactly one of card or bank")
        digest = hashlib.sha256(f"{reference}|{amount}".encode()).hexdigest()[:16]
        if amount <= 0:
            return GatewayResult(False, "", "The amount must be greater than zero.")
        if card is not None:
            if not luhn.is_valid(card.number):
                return GatewayResult(False, "", "The card number is not valid.")
            if card.number == DECLINED_TEST_CARD:
                return GatewayResult(False, f"test_dcl_{digest}", "The card was declined.")
            return GatewayResult(True, f"test_ch_{digest}", "Approved.")
        return GatewayResult(True, f"test_ach_{digest}", "Accepted for debit.")


GATEWAYS: dict[str, type[Gateway]] = {"test": TestGateway}


def get_gateway() -> Gateway:
    name = getattr(settings, "PAYMENT_GATEWAY", "") or "test"
    try:
        return GATEWAYS[name]()
    except KeyError as exc:
        raise ImproperlyConfigured(f"Unknown PAYMENT_GATEWAY {name!r}.") from exc


def instrument_from(data: dict) -> tuple[dict, str]:
    """The charge's instrument from cleaned pay-form fields (method "card":
    card_number, exp_month, exp_year, cvc; else routing_number,
    account_number, account_type): ({"card": Card} or {"bank": BankAccount},
    a masked label for the payment's reference)."""
    if data["method"] == "card":
        card = Card(
            number=card_digits(data["card_number"]),
            exp_month=data["exp_month"],
            exp_year=data["exp_year"],
            cvc=data["cvc"],
        )
        return {"card": card}, f"Card {mask(card.last4)}"
    bank = BankAccount(
        routing=data["routing_number"].strip(),
        account=data["account_number"].replace(" ", "").replace("-", ""),
        account_type=data["account_type"],
    )
    return {"bank": bank}, f"Bank account {mask(bank.last4)}"
